"""The signed-in user's own account: GET /api/v1/auth/session (the web
app's start; never 401), PATCH /api/v1/me and POST /api/v1/me/password."""
import pytest

from opxtest import assert_problem, bearer, cookie, login, signed_in

SESSION = "/api/v1/auth/session"
ME = "/api/v1/me"
LOGOUT = "/api/v1/auth/logout"


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
