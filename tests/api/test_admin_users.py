"""Admins' view of accounts: GET /api/v1/admin/users (search over name and
email, ?role, ?status, cursor), suspend (the account cannot sign in, every
session ends at once: tokens, cached sessions, live streams) and
reactivate; not your own account; bad input and other roles change
nothing; both moves are audited."""
import pytest

from opxtest import (assert_problem, bearer, cookie, create_staff, db_rows, login, open_events, signed_in,
                     unique_email)

USERS = "/api/v1/admin/users"
SESSION = "/api/v1/auth/session"
ME = "/api/v1/me"


@pytest.fixture(scope="module")
def admin(server, client):
    return create_staff(server, client, "admin")


def users(c, token, expect=200, **params):
    r = c.get(USERS, params=params, headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json()


def test_search_filters_and_cursor(client, admin):
    tag = unique_email("zq").split("@")[0]
    a = signed_in(client, name=f"Ada {tag}", role="client")
    b = signed_in(client, name="Bob Plain", role="engineer", email=f"bob.{tag}@example.test")
    got = users(client, admin["token"], q=tag.upper())
    assert [u["id"] for u in got["items"]] == [b["user"]["id"], a["user"]["id"]]  # newest first, name or email
    row = got["items"][1]
    assert row == {**a["user"], "status": "active", "suspended_at": None, "suspended_reason": None}
    assert [u["id"] for u in users(client, admin["token"], q=tag, role="engineer")["items"]] == [b["user"]["id"]]
    assert users(client, admin["token"], q=tag, status="suspended")["items"] == []
    assert users(client, admin["token"], q="100%_no_such")["items"] == []  # wildcards are literal
    page = users(client, admin["token"], q=tag, limit=1)
    assert page["next_cursor"]
    page2 = users(client, admin["token"], q=tag, limit=1, cursor=page["next_cursor"])
    assert [u["id"] for u in page2["items"]] == [a["user"]["id"]]
    assert len(users(client, admin["token"], limit=100)["items"]) >= 3
    for params, field in (({"role": "boss"}, "role"), ({"status": "gone"}, "status"), ({"limit": "0"}, "limit"),
                          ({"cursor": "x"}, "cursor"), ({"q": "x" * 101}, "q")):
        assert_problem(client.get(USERS, params=params, headers=bearer(admin["token"])), 400, "bad-query", [field])


def test_suspend_ends_every_session_and_refuses_sign_in_until_reactivated(server, client, admin):
    u = signed_in(client, name="Sus Pect")
    t2 = login(client, u["email"], u["password"]).json()["token"]
    assert client.get(ME, headers=bearer(t2)).status_code == 200  # cached
    live = open_events(server, u["token"])
    try:
        r = client.post(f"{USERS}/{u['user']['id']}/suspend", json={"reason": "Chargeback fraud."},
                        headers=bearer(admin["token"]))
        assert r.status_code == 200, r.text
        j = r.json()
        assert j["sessions_ended"] == 2
        assert j["user"]["status"] == "suspended" and j["user"]["suspended_reason"] == "Chargeback fraud."
        assert j["user"]["suspended_at"]
        live.until_eof(timeout=3)
    finally:
        live.close()
    for t in (u["token"], t2):
        assert_problem(client.get(ME, headers=bearer(t)), 401, "unauthorized")
        assert client.get(SESSION, headers=cookie(t)).json()["user"] is None
    p = assert_problem(login(client, u["email"], u["password"], expect=403), 403, "account-suspended")
    assert "suspended" in p["detail"]
    login(client, u["email"], "wrong password here", expect=401)  # a wrong password learns nothing
    conflict = client.post(f"{USERS}/{u['user']['id']}/suspend", json={"reason": "again"},
                           headers=bearer(admin["token"]))
    body = assert_problem(conflict, 409, "wrong-state")
    assert (body["entity"], body["state"]) == ("user", "suspended")
    assert users(client, admin["token"], q=u["email"], status="suspended")["items"][0]["id"] == u["user"]["id"]

    r = client.post(f"{USERS}/{u['user']['id']}/reactivate", headers=bearer(admin["token"]))
    assert r.status_code == 200, r.text
    assert r.json()["user"]["status"] == "active" and r.json()["user"]["suspended_at"] is None
    assert r.json()["sessions_ended"] == 0
    assert_problem(client.get(ME, headers=bearer(t2)), 401, "unauthorized")  # old sessions stay ended
    login(client, u["email"], u["password"])
    body = assert_problem(client.post(f"{USERS}/{u['user']['id']}/reactivate", headers=bearer(admin["token"])),
                          409, "wrong-state")
    assert body["state"] == "active"
    rows = db_rows(server, "SELECT action, actor_id FROM audit_log WHERE entity = 'user' AND entity_id = ?"
                   " AND action IN ('user.suspended', 'user.reactivated') ORDER BY id", u["user"]["id"])
    assert rows == [("user.suspended", admin["user"]["id"]), ("user.reactivated", admin["user"]["id"])]


def test_bad_input_self_and_roles_change_nothing(server, client, admin):
    u = signed_in(client)
    url = f"{USERS}/{u['user']['id']}/suspend"
    h = bearer(admin["token"])
    for body, field in (({}, "reason"), ({"reason": ""}, "reason"), ({"reason": "   "}, "reason"),
                        ({"reason": "x" * 2001}, "reason"), ({"reason": "x", "forever": True}, "forever")):
        assert_problem(client.post(url, json=body, headers=h), 422, "validation", [field])
    assert_problem(client.post(url, content=b"why", headers={**h, "Content-Type": "text/plain"}), 415,
                   "unsupported-media-type")
    assert_problem(client.post(f"{USERS}/{admin['user']['id']}/suspend", json={"reason": "me"}, headers=h),
                   409, "self-suspension")
    assert_problem(client.post(f"{USERS}/usr_00000000000000000000/suspend", json={"reason": "x"}, headers=h),
                   404, "not-found")
    assert_problem(client.post(f"{USERS}/{u['user']['id']}/reactivate", json={"x": 1}, headers=h), 422,
                   "validation", ["x"])
    assert_problem(client.post(url, json={"reason": "x"}, headers=cookie(admin["token"])), 403, "csrf")
    vetter = create_staff(server, client, "vetter")
    for who in (u, vetter):
        assert_problem(client.post(url, json={"reason": "x"}, headers=bearer(who["token"])), 403, "forbidden")
        assert_problem(client.get(USERS, headers=bearer(who["token"])), 403, "forbidden")
    assert_problem(client.get(USERS), 401, "unauthorized")
    assert client.get(ME, headers=bearer(u["token"])).status_code == 200  # nothing happened to u
    assert users(client, admin["token"], q=u["email"])["items"][0]["status"] == "active"


def test_a_suspended_engineer_is_not_shortlisted_until_reactivated(spawn, tmp_path_factory):
    from opxtest import create_request, demo_login, demo_server
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    first = create_request(c, client["token"])
    top = first["candidates"][0]["engineer_id"]
    r = c.post(f"{USERS}/{top}/suspend", json={"reason": "Under review."}, headers=bearer(admin["token"]))
    assert r.status_code == 200, r.text
    assert top not in [k["engineer_id"] for k in create_request(c, client["token"])["candidates"]]
    assert c.post(f"{USERS}/{top}/reactivate", headers=bearer(admin["token"])).status_code == 200
    import time
    for _ in range(50):  # the index re-reads the profile just after the answer
        if top in [k["engineer_id"] for k in create_request(c, client["token"])["candidates"]]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the reactivated engineer was never shortlisted again")
