"""Conversations, who has one and who may see it: accepting an invitation
opens exactly one conversation between the request's client and the
engineer (declining opens none); the two parties see it, an admin sees and
reads every conversation but may not write; anyone else (another client,
another engineer, a vetter, an engineer who declined) gets 404 and never
learns that it exists. Each test runs on a demo population of its own."""
import pytest

from opxtest import (CONVERSATIONS, accept, advance_clock, all_messages, assert_problem, bearer, conversations,
                     cookie, create_request, decline, demo_login, demo_server, engineer_email, get_request,
                     post_message, seconds_between, signed_in, talk_pair)

NO_SUCH = "cnv_00000000000000000000"


def test_accepting_opens_one_conversation_and_declining_none(spawn, tmp_path_factory):
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    assert conversations(c, client["token"]) == [] and conversations(c, admin["token"]) == []

    req = create_request(c, client["token"])
    ks = req["candidates"]
    eng = [demo_login(c, engineer_email(c, admin["token"], k["engineer_id"])) for k in ks[:2]]
    # invited is not enough
    assert conversations(c, client["token"]) == [] and conversations(c, eng[0]["token"]) == []

    # declining opens nothing, for the decliner or the engineer invited in their place
    rep = decline(c, eng[1]["token"], ks[1]["id"], reason="Booked.")["replacement"]
    newcomer = demo_login(c, engineer_email(c, admin["token"], rep["engineer_id"]))
    for who in (client, eng[1], newcomer, admin):
        assert conversations(c, who["token"]) == [], who["email"]

    accept(c, eng[0]["token"], ks[0]["id"])
    mine = conversations(c, client["token"])
    assert len(mine) == 1, mine
    v = mine[0]
    assert (v["request_id"], v["candidate_id"]) == (req["id"], ks[0]["id"])
    # each side learns what it is about and the zone the other works in: the
    # request's for the client, the engineer's profile's
    def zone(user_id):
        r = c.get(f"/api/v1/engineers/{user_id}", headers=bearer(admin["token"]))
        assert r.status_code == 200, r.text
        return r.json()["engineer"]["timezone"]
    assert v["request_title"] == req["title"]
    assert v["participants"] == [
        {"id": client["id"], "name": client["user"]["name"], "role": "client", "timezone": req["timezone"]},
        {"id": eng[0]["id"], "name": ks[0]["engineer_name"], "role": "engineer", "timezone": zone(eng[0]["id"])},
    ]
    assert (v["unread"], v["last_message"], v["last_message_at"]) == (0, None, None)
    # opened by the acceptance (same transaction): at the candidate's responded_at
    k0 = get_request(c, client["token"], req["id"])["candidates"][0]
    assert 0 <= seconds_between(k0["responded_at"], v["created_at"]) <= 1, (k0, v)

    # the engineer sees the same conversation; an admin sees it too; nobody else has one
    assert conversations(c, eng[0]["token"]) == [v]
    assert conversations(c, admin["token"]) == [v]
    for who in (eng[1], newcomer):
        assert conversations(c, who["token"]) == [], who["email"]
    # and it is empty
    assert all_messages(c, client["token"], v["id"]) == ([], [0])

    # a second accept is refused and opens no second conversation
    assert_problem(c.post(f"/api/v1/candidates/{ks[0]['id']}/accept", headers=bearer(eng[0]["token"])),
                   409, "wrong-state")
    assert conversations(c, admin["token"]) == [v]

    # the replacement accepting opens a second one, theirs and the client's only
    accept(c, newcomer["token"], rep["id"])
    theirs = conversations(c, newcomer["token"])
    assert [(x["request_id"], x["candidate_id"]) for x in theirs] == [(req["id"], rep["id"])]
    rep_name = next(k["engineer_name"] for k in get_request(c, client["token"], req["id"])["candidates"]
                    if k["id"] == rep["id"])
    assert theirs[0]["participants"] == [v["participants"][0],
                                         {"id": newcomer["id"], "name": rep_name, "role": "engineer",
                                          "timezone": zone(newcomer["id"])}]
    assert {x["id"] for x in conversations(c, client["token"])} == {v["id"], theirs[0]["id"]}
    assert conversations(c, eng[0]["token"]) == [v]
    assert len(conversations(c, admin["token"])) == 2


def test_outsiders_get_404_and_an_admin_reads_but_may_not_write(spawn, tmp_path_factory):
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    p = talk_pair(c, admin, client)
    cid, eng = p["conversation"]["id"], p["engineer"]
    m1 = post_message(c, client["token"], cid, "Hello from the client.")
    m2 = post_message(c, eng["token"], cid, "Hello from the engineer.")
    url = f"{CONVERSATIONS}/{cid}"

    # the outsiders: another client, an engineer not on the request, one who declined it, a vetter
    ks = p["request"]["candidates"]
    decliner = demo_login(c, engineer_email(c, admin["token"], ks[1]["engineer_id"]))
    decline(c, decliner["token"], ks[1]["id"])
    on_request = {k["engineer_id"] for k in get_request(c, client["token"], p["request"]["id"])["candidates"]}
    stranger = next(e for e in (demo_login(c, f"engineer{n}@demo.opx") for n in range(1, 30))
                    if e["id"] not in on_request)
    outsiders = {"other client": signed_in(c, role="client", name="Other Client"), "engineer": stranger,
                 "decliner": decliner, "vetter": demo_login(c, "vetter@demo.opx")}
    for name, o in outsiders.items():
        h = bearer(o["token"])
        assert all(v["id"] != cid for v in conversations(c, o["token"])), name
        assert_problem(c.get(f"{url}/messages", headers=h), 404, "not-found")
        assert_problem(c.get(f"{url}/messages", params={"limit": 5}, headers=h), 404, "not-found")
        assert_problem(c.post(f"{url}/messages", json={"body": "let me in"}, headers=h), 404, "not-found")
        assert_problem(c.post(f"{url}/read", json={"message_id": m1["id"]}, headers=h), 404, "not-found")
        # the same answer as for a conversation that does not exist
        assert_problem(c.get(f"{CONVERSATIONS}/{NO_SUCH}/messages", headers=h), 404, "not-found")

    # an admin lists and reads it (unread is 0 for an admin) ...
    listed = [v for v in conversations(c, admin["token"]) if v["id"] == cid]
    assert len(listed) == 1 and listed[0]["unread"] == 0 and listed[0]["last_message"] == m2, listed
    assert all_messages(c, admin["token"], cid)[0] == [m1, m2]
    # ... but may not write in it or move a marker
    h = bearer(admin["token"])
    assert_problem(c.post(f"{url}/messages", json={"body": "Admin here."}, headers=h), 403, "forbidden")
    assert_problem(c.post(f"{url}/read", json={"message_id": m2["id"]}, headers=h), 403, "forbidden")
    assert_problem(c.get(f"{CONVERSATIONS}/{NO_SUCH}/messages", headers=h), 404, "not-found")
    assert_problem(c.post(f"{CONVERSATIONS}/{NO_SUCH}/messages", json={"body": "x"}, headers=h), 404, "not-found")

    # a participant asking for a conversation that does not exist (or a malformed id)
    for bad in (NO_SUCH, "nope", cid.upper()):
        h = bearer(client["token"])
        assert_problem(c.get(f"{CONVERSATIONS}/{bad}/messages", headers=h), 404, "not-found")
        assert_problem(c.post(f"{CONVERSATIONS}/{bad}/messages", json={"body": "x"}, headers=h), 404, "not-found")
        assert_problem(c.post(f"{CONVERSATIONS}/{bad}/read", json={"message_id": m1["id"]}, headers=h),
                       404, "not-found")

    # none of that wrote anything or moved a marker
    assert all_messages(c, client["token"], cid)[0] == [m1, m2]
    assert [v["unread"] for v in conversations(c, client["token"]) if v["id"] == cid] == [1]


def test_signed_out_is_401_and_a_cookie_session_needs_the_csrf_token(spawn, tmp_path_factory):
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    p = talk_pair(c, admin, client)
    cid = p["conversation"]["id"]
    m = post_message(c, client["token"], cid, "first")
    url = f"{CONVERSATIONS}/{cid}"

    assert_problem(c.get(CONVERSATIONS), 401, "unauthorized")
    assert_problem(c.get(f"{url}/messages"), 401, "unauthorized")
    assert_problem(c.post(f"{url}/messages", json={"body": "anon"}), 401, "unauthorized")
    assert_problem(c.post(f"{url}/read", json={"message_id": m["id"]}), 401, "unauthorized")
    assert_problem(c.get(CONVERSATIONS, headers=bearer("not-a-session")), 401, "unauthorized")

    # cookies: reading needs no CSRF token, writing does
    ck = cookie(client["token"])
    assert [v["id"] for v in c.get(CONVERSATIONS, headers=ck).json()["items"]] == [cid]
    assert c.get(f"{url}/messages", headers=ck).json()["items"] == [m]
    assert_problem(c.post(f"{url}/messages", json={"body": "no token"}, headers=ck), 403, "csrf")
    eng_ck = cookie(p["engineer"]["token"])
    assert_problem(c.post(f"{url}/read", json={"message_id": m["id"]}, headers=eng_ck), 403, "csrf")
    assert c.get(f"{url}/messages", headers=ck).json()["items"] == [m]
    assert [v["unread"] for v in conversations(c, p["engineer"]["token"])] == [1]
    csrf = c.get("/api/v1/me", headers=ck).json()["csrf_token"]
    r = c.post(f"{url}/messages", json={"body": "with token"}, headers={**ck, "X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    eng_csrf = c.get("/api/v1/me", headers=eng_ck).json()["csrf_token"]
    r = c.post(f"{url}/read", json={"message_id": r.json()["id"]}, headers={**eng_ck, "X-CSRF-Token": eng_csrf})
    assert r.status_code == 204, r.text
    assert [v["unread"] for v in conversations(c, p["engineer"]["token"])] == [0]


def test_the_list_is_mine_and_newest_activity_first(spawn, tmp_path_factory):
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    req = create_request(c, client["token"])
    ks = req["candidates"]
    eng = [demo_login(c, engineer_email(c, admin["token"], k["engineer_id"])) for k in ks[:3]]
    ids = []
    for e, k in zip(eng, ks):  # opened a minute apart
        accept(c, e["token"], k["id"])
        ids.append(next(v["id"] for v in conversations(c, e["token"])))
        advance_clock(c, 60)
    a, b, d = ids

    def order(who):
        return [v["id"] for v in conversations(c, who["token"])]

    # no messages yet: the newest conversation first
    assert order(client) == [d, b, a]
    assert order(admin)[:3] == [d, b, a]
    for e, i in zip(eng, ids):
        assert order(e) == [i]

    # a message moves its conversation to the top
    ma = post_message(c, client["token"], a, "news for the first one")
    assert order(client) == [a, d, b]
    top = conversations(c, client["token"])[0]
    assert (top["last_message"], top["last_message_at"]) == (ma, ma["created_at"])
    assert seconds_between(top["created_at"], top["last_message_at"]) >= 120
    advance_clock(c, 60)
    mb = post_message(c, eng[1]["token"], b, "the second engineer writes")
    assert order(client) == [b, a, d]
    assert order(admin)[:3] == [b, a, d]
    v = conversations(c, client["token"])
    assert [(x["last_message"], x["last_message_at"]) for x in v] == \
        [(mb, mb["created_at"]), (ma, ma["created_at"]), (None, None)]
    assert [x["unread"] for x in v] == [1, 0, 0]
    assert seconds_between(ma["created_at"], mb["created_at"]) >= 60


@pytest.mark.xfail(strict=True, reason="server disagrees with talk-api.md: GET /api/v1/conversations stops at "
                                       "50 conversations (STORE_CONVERSATIONS_MAX), no pagination; the contract "
                                       "says each party sees their own and an admin sees all")
def test_every_conversation_is_listed(spawn, tmp_path_factory):
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    engineers, opened = {}, []
    for n in range(11):  # 11 requests x 5 acceptances = 55 conversations
        req = create_request(c, client["token"], title=f"Async payments API #{n}")
        for k in req["candidates"]:
            if k["engineer_id"] not in engineers:
                engineers[k["engineer_id"]] = demo_login(c, engineer_email(c, admin["token"], k["engineer_id"]))
            accept(c, engineers[k["engineer_id"]]["token"], k["id"])
            opened.append((req["id"], k["id"], k["engineer_id"]))
    assert len(opened) == 55
    want = {(r, k) for r, k, _ in opened}
    assert {(v["request_id"], v["candidate_id"]) for v in conversations(c, client["token"])} == want
    assert {(v["request_id"], v["candidate_id"]) for v in conversations(c, admin["token"])} == want
    for eid, e in engineers.items():
        assert {(v["request_id"], v["candidate_id"]) for v in conversations(c, e["token"])} == \
            {(r, k) for r, k, x in opened if x == eid}
