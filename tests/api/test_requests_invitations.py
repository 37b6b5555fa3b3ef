"""Invitations from the engineer's side, on a demo population of its own:
who sees which invitation, accepting (twice is 409), declining (the next
best is invited at once), someone else's invitation (404), and the third
acceptance that makes the request matched inside its SLA, as the metrics
show."""
import json

from opxtest import (SLA_S, accept, assert_problem, bearer, create_request, db_rows, decline,
                     demo_login, demo_server, engineer_email, get_request, invitations, metric, request_body,
                     seconds_between, sla_board)


def test_invite_accept_decline_replace_and_match(spawn, tmp_path_factory):
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    hits0, ttm0 = metric(c, "opx_sla_hits_total"), metric(c, "opx_time_to_match_seconds_count")

    r = create_request(c, client["token"])
    ks = r["candidates"]
    assert [k["rank"] for k in ks] == [1, 2, 3, 4, 5]
    assert [k["score"] for k in ks] == sorted((k["score"] for k in ks), reverse=True)
    eng = [demo_login(c, engineer_email(c, admin["token"], k["engineer_id"])) for k in ks]
    assert [e["id"] for e in eng] == [k["engineer_id"] for k in ks]
    original = {k["engineer_id"] for k in ks}

    # each invited engineer sees exactly their own invitation, with the request's spec
    spec = request_body()
    for e, k in zip(eng, ks):
        mine = [i for i in invitations(c, e["token"]) if i["request"]["id"] == r["id"]]
        assert [i["id"] for i in mine] == [k["id"]]
        i = mine[0]
        assert (i["status"], i["score"], i["explain"], i["invited_at"], i["expires_at"]) == \
            ("invited", k["score"], k["explain"], k["invited_at"], k["expires_at"])
        assert (i["request"]["title"], i["request"]["status"]) == (spec["title"], "matching")
        assert {f: i["request"][f] for f in spec if f not in ("title", "description")} == \
            {f: v for f, v in spec.items() if f not in ("title", "description")}
    outsider = demo_login(c, next(f"engineer{n}@demo.opx" for n in range(1, 201)
                                  if f"engineer{n}@demo.opx" not in {e["email"] for e in eng}))
    assert all(i["request"]["id"] != r["id"] for i in invitations(c, outsider["token"]))

    # accept; twice is a conflict that names the candidate's state
    a = accept(c, eng[0]["token"], ks[0]["id"])
    assert a == {"id": ks[0]["id"], "status": "accepted", "request": {"id": r["id"], "status": "matching",
                                                                       "accepted": 1}}
    got = get_request(c, client["token"], r["id"])
    assert got["candidates"][0]["status"] == "accepted" and got["candidates"][0]["responded_at"] is not None
    assert all(i["id"] != ks[0]["id"] for i in invitations(c, eng[0]["token"]))
    p = assert_problem(c.post(f"/api/v1/candidates/{ks[0]['id']}/accept", headers=bearer(eng[0]["token"])),
                       409, "wrong-state")
    assert p["state"] == "accepted"
    p = assert_problem(c.post(f"/api/v1/candidates/{ks[0]['id']}/decline", headers=bearer(eng[0]["token"])),
                       409, "wrong-state")
    assert p["state"] == "accepted"

    # someone else's invitation: 404 either way, and it stays open
    for op in ("accept", "decline"):
        assert_problem(c.post(f"/api/v1/candidates/{ks[1]['id']}/{op}", headers=bearer(eng[0]["token"])),
                       404, "not-found")
        assert_problem(c.post(f"/api/v1/candidates/{ks[1]['id']}/{op}", headers=bearer(outsider["token"])),
                       404, "not-found")
    assert get_request(c, client["token"], r["id"])["candidates"][1]["status"] == "invited"

    # decline: the next best who is not on the request yet is invited at once
    d = decline(c, eng[1]["token"], ks[1]["id"], reason="Fully booked until March.")
    assert (d["id"], d["status"], d["request"]) == (ks[1]["id"], "declined",
                                                    {"id": r["id"], "status": "matching", "accepted": 1})
    rep = d["replacement"]
    assert rep["engineer_id"] not in original
    assert rep["score"] <= min(k["score"] for k in ks)
    got = get_request(c, client["token"], r["id"])
    assert [k["status"] for k in got["candidates"]] == ["accepted", "declined", "invited", "invited", "invited",
                                                         "invited"]
    new = got["candidates"][5]
    assert (new["id"], new["engineer_id"], new["rank"], new["score"]) == (rep["id"], rep["engineer_id"], 6,
                                                                          rep["score"])
    assert seconds_between(got["created_at"], new["invited_at"]) >= 0
    assert seconds_between(new["invited_at"], new["expires_at"]) == 24 * 3600
    assert len({k["engineer_id"] for k in got["candidates"]}) == 6
    assert db_rows(srv, "SELECT decline_reason FROM candidates WHERE id = ?", ks[1]["id"]) == \
        [("Fully booked until March.",)]
    newcomer = demo_login(c, engineer_email(c, admin["token"], rep["engineer_id"]))
    assert [i["id"] for i in invitations(c, newcomer["token"]) if i["request"]["id"] == r["id"]] == [rep["id"]]
    p = assert_problem(c.post(f"/api/v1/candidates/{ks[1]['id']}/accept", headers=bearer(eng[1]["token"])),
                       409, "wrong-state")
    assert p["state"] == "declined"
    assert len(get_request(c, client["token"], r["id"])["candidates"]) == 6  # a refused move invites nobody

    # the SLA board follows; the third acceptance makes the request matched
    assert accept(c, eng[2]["token"], ks[2]["id"])["request"] == {"id": r["id"], "status": "matching",
                                                                   "accepted": 2}
    row = [i for i in sla_board(c, admin["token"])["items"] if i["id"] == r["id"]]
    assert [(i["status"], i["invited"], i["accepted"], i["relaxed"]) for i in row] == [("matching", 6, 2, [])]
    assert accept(c, newcomer["token"], rep["id"])["request"] == {"id": r["id"], "status": "matched",
                                                                   "accepted": 3}
    got = get_request(c, client["token"], r["id"])
    assert got["status"] == "matched" and got["breached_at"] is None
    assert 0 <= seconds_between(got["created_at"], got["matched_at"]) < 600
    assert all(i["id"] != r["id"] for i in sla_board(c, admin["token"])["items"])
    assert metric(c, "opx_sla_hits_total") == hits0 + 1
    assert metric(c, "opx_time_to_match_seconds_count") == ttm0 + 1
    moves = db_rows(srv, "SELECT actor_id, detail FROM audit_log WHERE action = 'request.transition'"
                         " AND entity_id = ?", r["id"])
    assert [(a, json.loads(x)) for a, x in moves] == [("system", {"from": "matching", "to": "matched"})]
    assert seconds_between(got["created_at"], got["sla_deadline"]) == SLA_S
