"""Notifications: GET /api/v1/me/notifications gives each one's read_at and
the unread count; POST /api/v1/me/notifications/read marks them read up to
an id (or all) and answers what is left unread."""
from opxtest import (assert_problem, bearer, cookie, create_request, demo_login, demo_server, engineer_email,
                     signed_in)

NOTES = "/api/v1/me/notifications"
READ = "/api/v1/me/notifications/read"


def notes(c, token):
    r = c.get(NOTES, headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()


def test_unread_counts_and_marking_read_up_to_an_id_then_all(spawn, tmp_path_factory):
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    first = create_request(c, client["token"])
    eng = demo_login(c, engineer_email(c, admin["token"], first["candidates"][0]["engineer_id"]))
    for _ in range(2):  # more invitations for the same engineer
        create_request(c, client["token"], title="Another async job")
    j = notes(c, eng["token"])
    assert j["unread"] == len(j["items"]) >= 2
    assert all(n["read_at"] is None for n in j["items"])
    ids = [n["id"] for n in j["items"]]  # newest first
    assert ids == sorted(ids, reverse=True)

    # bad input changes nothing
    stranger = signed_in(c)
    for body, field in (({"up_to": 0}, "up_to"), ({"up_to": "1"}, "up_to"), ({"up_to": 1.5}, "up_to"),
                        ({"upto": ids[-1]}, "upto"), ({"up_to": -3}, "up_to")):
        assert_problem(c.post(READ, json=body, headers=bearer(eng["token"])), 422, "validation", [field])
    # someone else's notification id is not yours
    assert_problem(c.post(READ, json={"up_to": ids[0]}, headers=bearer(stranger["token"])), 422, "validation",
                   ["up_to"])
    assert_problem(c.post(READ, json={"up_to": ids[0]}, headers=cookie(eng["token"])), 403, "csrf")
    assert_problem(c.post(READ, json={}), 401, "unauthorized")
    assert notes(c, eng["token"])["unread"] == len(ids)

    # up to the second oldest: the two oldest are read
    r = c.post(READ, json={"up_to": ids[-2]}, headers=bearer(eng["token"]))
    assert r.status_code == 200, r.text
    assert r.json() == {"unread": len(ids) - 2}
    j = notes(c, eng["token"])
    assert j["unread"] == len(ids) - 2
    read = {n["id"]: n["read_at"] for n in j["items"]}
    assert read[ids[-1]] is not None and read[ids[-2]] is not None
    assert all(read[i] is None for i in ids[:-2])
    when = read[ids[-1]]

    # all (no body), and again: read_at is kept
    r = c.post(READ, headers=bearer(eng["token"]))
    assert r.status_code == 200 and r.json() == {"unread": 0}
    j = notes(c, eng["token"])
    assert j["unread"] == 0 and all(n["read_at"] for n in j["items"])
    assert {n["id"]: n["read_at"] for n in j["items"]}[ids[-1]] == when
    assert c.post(READ, json={}, headers=bearer(eng["token"])).json() == {"unread": 0}
    assert c.post(READ, json={"up_to": None}, headers=bearer(eng["token"])).json() == {"unread": 0}  # null: all

    # a new one is unread again; the client's own notifications are untouched
    create_request(c, client["token"], title="Yet another")
    assert notes(c, eng["token"])["unread"] == 1
    assert notes(c, stranger["token"]) == {"items": [], "unread": 0}
