"""The signed-in user's own account: GET /api/v1/auth/session (the web
app's start; never 401), PATCH /api/v1/me and POST /api/v1/me/password."""
import pytest

from opxtest import assert_problem, bearer, cookie, db_rows, login, open_events, signed_in

SESSION = "/api/v1/auth/session"
ME = "/api/v1/me"
LOGOUT = "/api/v1/auth/logout"
PASSWORD = "/api/v1/me/password"
NEW_PASSWORD = "a different horse staple"


# ---- GET /api/v1/auth/session -------------------------------------------------

@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer garbage"},
    {"Authorization": "Bearer " + "A" * 43},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Cookie": "opx_session=garbage"},
    {"Cookie": "opx_session=" + "B" * 43},
    {"Cookie": "other=1"},
], ids=["none", "bearer-empty", "bearer-garbage", "bearer-unknown", "basic", "cookie-garbage",
        "cookie-unknown", "cookie-other"])
def test_session_signed_out_is_200_with_nulls(client, headers):
    r = client.get(SESSION, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"user": None, "csrf_token": None}
    assert r.headers["cache-control"] == "no-store"
    assert "www-authenticate" not in r.headers


def test_session_with_bearer_and_cookie_is_me(client):
    u = signed_in(client, name="Sue Session", role="engineer")
    me = client.get(ME, headers=bearer(u["token"])).json()
    for h in (bearer(u["token"]), cookie(u["token"]),
              {"Cookie": f"theme=dark; opx_session={u['token']}"}):
        r = client.get(SESSION, headers=h)
        assert r.status_code == 200
        assert r.json() == me  # the same user and csrf token as /me


def test_session_after_logout_is_signed_out(client):
    u = signed_in(client)
    assert client.get(SESSION, headers=cookie(u["token"])).json()["user"]["id"] == u["user"]["id"]
    assert client.post(LOGOUT, headers=bearer(u["token"])).status_code == 204
    assert client.get(SESSION, headers=cookie(u["token"])).json() == {"user": None, "csrf_token": None}


def test_session_expired_is_signed_out(spawn):
    srv = spawn()
    c = srv.client()
    u = signed_in(c)
    c.post("/api/v1/_test/clock", json={"advance_seconds": 15 * 86400})
    assert c.get(SESSION, headers=bearer(u["token"])).json() == {"user": None, "csrf_token": None}


def test_session_head_and_other_methods(server, client):
    with server.raw() as c:
        r = c.request("HEAD", SESSION)
        assert r.status == 200 and r.body == b""
    assert_problem(client.post(SESSION, json={}), 405, "method-not-allowed")


# ---- PATCH /api/v1/me ------------------------------------------------------------

def test_patch_me_renames_and_every_session_sees_it(client):
    u = signed_in(client, name="Old Name")
    t2 = login(client, u["email"], u["password"]).json()["token"]
    client.get(ME, headers=bearer(t2))  # cached with the old name
    r = client.patch(ME, json={"name": "New Näme"}, headers=bearer(u["token"]))
    assert r.status_code == 200, r.text
    assert r.json()["user"] == {**u["user"], "name": "New Näme"}
    for t in (u["token"], t2):
        assert client.get(ME, headers=bearer(t)).json()["user"]["name"] == "New Näme"
        assert client.get(SESSION, headers=cookie(t)).json()["user"]["name"] == "New Näme"
    # an empty object changes nothing and answers the user
    r = client.patch(ME, json={}, headers=bearer(u["token"]))
    assert r.status_code == 200 and r.json()["user"]["name"] == "New Näme"


@pytest.mark.parametrize("body,field", [
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": 5}, "name"),
    ({"email": "a@b.test"}, "email"),
    ({"role": "admin"}, "role"),
])
def test_patch_me_bad_input_is_422_and_changes_nothing(client, body, field):
    u = signed_in(client, name="Stays Same")
    assert_problem(client.patch(ME, json=body, headers=bearer(u["token"])), 422, "validation", [field])
    assert client.get(ME, headers=bearer(u["token"])).json()["user"] == u["user"]


def test_patch_me_needs_a_session_and_csrf_with_the_cookie(client):
    assert_problem(client.patch(ME, json={"name": "X"}), 401, "unauthorized")
    u = signed_in(client, name="Csrf Person")
    assert_problem(client.patch(ME, json={"name": "X"}, headers=cookie(u["token"])), 403, "csrf")
    csrf = client.get(ME, headers=cookie(u["token"])).json()["csrf_token"]
    r = client.patch(ME, json={"name": "Y"}, headers={**cookie(u["token"]), "X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["user"]["name"] == "Y"
    assert_problem(client.patch(ME, content=b"name=x", headers={**bearer(u["token"]), "Content-Type": "text/plain"}),
                   415, "unsupported-media-type")


# ---- POST /api/v1/me/password -------------------------------------------------------

def test_password_change_ends_every_other_session_and_keeps_this_one(server, client):
    u = signed_in(client)
    others = [login(client, u["email"], u["password"]).json()["token"] for _ in range(2)]
    for t in others:
        assert client.get(ME, headers=bearer(t)).status_code == 200  # cached
    stream = open_events(server, others[0])
    mine = open_events(server, u["token"])
    try:
        r = client.post(PASSWORD, json={"current_password": u["password"], "new_password": NEW_PASSWORD},
                        headers=bearer(u["token"]))
        assert r.status_code == 200, r.text
        assert r.json() == {"sessions_ended": 2}
        stream.until_eof(timeout=3)  # the other session's live stream ended at once
        assert not mine.eof
    finally:
        stream.close()
        mine.close()
    for t in others:
        assert_problem(client.get(ME, headers=bearer(t)), 401, "unauthorized")
        assert client.get(SESSION, headers=cookie(t)).json()["user"] is None
    assert client.get(ME, headers=bearer(u["token"])).status_code == 200
    login(client, u["email"], u["password"], expect=401)
    login(client, u["email"], NEW_PASSWORD)
    assert db_rows(server, "SELECT count(*) FROM audit_log WHERE entity_id = ? AND action = ?",
                   u["user"]["id"], "user.password_changed") == [(1,)]


def test_a_wrong_current_password_is_422_and_changes_nothing(client):
    u = signed_in(client)
    t2 = login(client, u["email"], u["password"]).json()["token"]
    r = client.post(PASSWORD, json={"current_password": "not the password", "new_password": NEW_PASSWORD},
                    headers=bearer(u["token"]))
    p = assert_problem(r, 422, "validation", ["current_password"])
    assert p["errors"][0]["message"] == "is not your current password"
    assert client.get(ME, headers=bearer(t2)).status_code == 200
    login(client, u["email"], u["password"])
    login(client, u["email"], NEW_PASSWORD, expect=401)


@pytest.mark.parametrize("body,fields", [
    ({"current_password": "x"}, ["new_password"]),
    ({"new_password": NEW_PASSWORD}, ["current_password"]),
    ({"current_password": "", "new_password": NEW_PASSWORD}, ["current_password"]),
    ({"current_password": "correct horse battery", "new_password": "short"}, ["new_password"]),
    ({"current_password": "correct horse battery", "new_password": "correct horse battery"}, ["new_password"]),
    ({"current_password": "correct horse battery", "new_password": NEW_PASSWORD, "all": True}, ["all"]),
    ({"current_password": 1, "new_password": NEW_PASSWORD}, ["current_password"]),
], ids=["no-new", "no-current", "empty-current", "weak-new", "same", "unknown", "wrong-type"])
def test_password_bad_input_is_422_and_changes_nothing(client, body, fields):
    u = signed_in(client)
    t2 = login(client, u["email"], u["password"]).json()["token"]
    assert_problem(client.post(PASSWORD, json=body, headers=bearer(u["token"])), 422, "validation", fields)
    assert client.get(ME, headers=bearer(t2)).status_code == 200
    login(client, u["email"], u["password"])


def test_five_wrong_tries_then_429_with_retry_after_even_for_the_right_one(client):
    u = signed_in(client)
    bad = {"current_password": "wrong wrong wrong", "new_password": NEW_PASSWORD}
    for _ in range(5):
        assert_problem(client.post(PASSWORD, json=bad, headers=bearer(u["token"])), 422, "validation",
                       ["current_password"])
    good = {"current_password": u["password"], "new_password": NEW_PASSWORD}
    r = client.post(PASSWORD, json=good, headers=bearer(u["token"]))
    assert_problem(r, 429, "rate-limited")
    assert int(r.headers["retry-after"]) > 0
    login(client, u["email"], u["password"])  # nothing changed
    other = signed_in(client)  # another account is not limited
    r = client.post(PASSWORD, json={"current_password": other["password"], "new_password": NEW_PASSWORD},
                    headers=bearer(other["token"]))
    assert r.status_code == 200, r.text


def test_password_change_needs_a_session_and_csrf_with_the_cookie(client):
    body = {"current_password": "correct horse battery", "new_password": NEW_PASSWORD}
    assert_problem(client.post(PASSWORD, json=body), 401, "unauthorized")
    u = signed_in(client)
    assert_problem(client.post(PASSWORD, json=body, headers=cookie(u["token"])), 403, "csrf")
    csrf = client.get(ME, headers=cookie(u["token"])).json()["csrf_token"]
    r = client.post(PASSWORD, json=body, headers={**cookie(u["token"]), "X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json() == {"sessions_ended": 0}
    assert client.get(ME, headers=cookie(u["token"])).status_code == 200
