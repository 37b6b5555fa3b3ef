"""POST /api/v1/requests/{id}/cancel: the owner (or an admin) cancels; every
open invitation and accepted candidate is withdrawn and each engineer told
(notification and live event); a filled or cancelled request, or one with an
offer waiting, is 409 naming what is in the way; bad input, strangers and
other roles change nothing."""
import pytest

from moneytest import active_contract, conflict, fixed_offer, money_env, money_pair, offer
from opxtest import (accept, assert_problem, bearer, cookie, create_request, demo_login, engineer_email,
                     get_request, invitations, open_events, signed_in)


def cancel(c, token, rid, expect=200, **kw):
    r = c.post(f"/api/v1/requests/{rid}/cancel", headers=bearer(token), **kw)
    assert r.status_code == expect, r.text
    return r


def same(a, b):
    """Two reads of a request, but for the SLA countdown that moves between them."""
    strip = lambda r: {k: v for k, v in r.items() if k != "sla_seconds_left"}  # noqa: E731
    assert strip(a) == strip(b)


def notes_of(c, token, kind):
    r = c.get("/api/v1/me/notifications", headers=bearer(token))
    assert r.status_code == 200
    return [n for n in r.json()["items"] if n["kind"] == kind]


def test_cancel_withdraws_every_open_candidate_and_tells_each_engineer(spawn, tmp_path_factory):
    e = money_env(spawn, tmp_path_factory)
    c, admin, client = e["c"], e["admin"], e["client"]
    req = create_request(c, client["token"])
    ks = req["candidates"]
    assert len(ks) >= 2
    engs = [demo_login(c, engineer_email(c, admin["token"], k["engineer_id"])) for k in ks]
    accept(c, engs[0]["token"], ks[0]["id"])  # one accepted, the rest invited
    live = open_events(e["srv"], engs[1]["token"])
    try:
        r = cancel(c, client["token"], req["id"], json={"reason": "Budget was cut."})
        got = r.json()
        assert got["id"] == req["id"] and got["status"] == "cancelled"
        assert {k["status"] for k in got["candidates"]} == {"withdrawn"}
        ev = [x for x in live.quiet_events() if x.event == "invitation.withdrawn"]
        assert len(ev) == 1 and ev[0].data["candidate_id"] == ks[1]["id"]
        assert ev[0].data["reason"] == "Budget was cut." and ev[0].data["was"] == "invited"
    finally:
        live.close()
    same(get_request(c, client["token"], req["id"]), got)
    for i, (k, eng) in enumerate(zip(ks, engs)):
        n = [x for x in notes_of(c, eng["token"], "invitation.withdrawn") if x["payload"]["request_id"] == req["id"]]
        assert len(n) == 1, (i, n)
        assert n[0]["payload"]["was"] == ("accepted" if i == 0 else "invited")
        assert n[0]["read_at"] is None
        assert all(inv["id"] != k["id"] for inv in invitations(c, eng["token"]))
    # a withdrawn invitation can no longer be accepted
    r = c.post(f"/api/v1/candidates/{ks[1]['id']}/accept", headers=bearer(engs[1]["token"]))
    assert r.status_code == 409, r.text
    # cancelling again is a 409 naming the request's state; nothing moves
    conflict(cancel(c, client["token"], req["id"], expect=409), "request", "cancelled")
    same(get_request(c, client["token"], req["id"]), got)


def test_who_may_cancel_and_bad_input_change_nothing(spawn, tmp_path_factory):
    e = money_env(spawn, tmp_path_factory)
    c, admin, client = e["c"], e["admin"], e["client"]
    req = create_request(c, client["token"])
    before = get_request(c, client["token"], req["id"])
    other_client = signed_in(c, role="client")
    eng = demo_login(c, engineer_email(c, admin["token"], req["candidates"][0]["engineer_id"]))
    rid = req["id"]
    url = f"/api/v1/requests/{rid}/cancel"
    assert_problem(c.post(url, headers=bearer(other_client["token"])), 404, "not-found")
    assert_problem(c.post(url, headers=bearer(eng["token"])), 403, "forbidden")
    assert_problem(c.post(url), 401, "unauthorized")
    assert_problem(c.post(url, headers=cookie(client["token"])), 403, "csrf")
    assert_problem(c.post("/api/v1/requests/req_00000000000000000000/cancel", headers=bearer(client["token"])),
                   404, "not-found")
    for body, field in (({"reason": ""}, "reason"), ({"reason": "x" * 501}, "reason"), ({"reason": 3}, "reason"),
                        ({"why": "x"}, "why")):
        assert_problem(c.post(url, json=body, headers=bearer(client["token"])), 422, "validation", [field])
    assert_problem(c.post(url, content=b"{", headers={**bearer(client["token"]), "Content-Type": "application/json"}),
                   400, "malformed-json")
    same(get_request(c, client["token"], rid), before)
    # an admin may cancel anyone's request, without a body
    r = cancel(c, admin["token"], rid)
    assert r.json()["status"] == "cancelled"


def test_an_open_offer_or_a_filled_request_is_409(spawn, tmp_path_factory):
    e = money_env(spawn, tmp_path_factory)
    c, admin, client = e["c"], e["admin"], e["client"]
    p = money_pair(c, admin, client)
    offer(c, client["token"], fixed_offer(p["candidate"]["id"]))
    rid = p["request"]["id"]
    before = get_request(c, client["token"], rid)
    conflict(cancel(c, client["token"], rid, expect=409), "contract", "offered")
    same(get_request(c, client["token"], rid), before)
    k, _ = active_contract(c, admin, client)
    rid2 = k["request_id"]
    before = get_request(c, client["token"], rid2)
    assert before["status"] == "filled"
    conflict(cancel(c, admin["token"], rid2, expect=409), "request", "filled")
    same(get_request(c, client["token"], rid2), before)
