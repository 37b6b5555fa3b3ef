"""Sessions: GET /api/v1/me with a Bearer token or the cookie, bad
credentials, logout (Bearer, and cookie with CSRF), and expiry through the
test clock (on its own server so the shared clock is not moved)."""
import pytest

from opxtest import assert_problem, bearer, cookie, login, signed_in

ME = "/api/v1/me"
LOGOUT = "/api/v1/auth/logout"


def assert_unauthorized(r):
    p = assert_problem(r, 401, "unauthorized")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert 'realm="opx"' in r.headers["www-authenticate"]
    return p


def test_me_with_bearer(client):
    u = signed_in(client, name="Bea Bearer", role="engineer")
    r = client.get(ME, headers=bearer(u["token"]))
    assert r.status_code == 200
    j = r.json()
    assert j["user"] == u["user"]
    assert len(j["csrf_token"]) >= 16
    assert r.headers["cache-control"] == "no-store"


def test_me_with_cookie(client):
    u = signed_in(client)
    r = client.get(ME, headers=cookie(u["token"]))
    assert r.status_code == 200
    assert r.json()["user"] == u["user"]
    # the cookie among others, and the exact Set-Cookie value sent back
    r = client.get(ME, headers={"Cookie": f"theme=dark; opx_session={u['token']}; lang=en"})
    assert r.json()["user"]["id"] == u["user"]["id"]
    raw = u["set_cookie"].split(";")[0]
    assert client.get(ME, headers={"Cookie": raw}).status_code == 200


def test_csrf_token_is_per_session_and_stable(client):
    u = signed_in(client)
    a = client.get(ME, headers=bearer(u["token"])).json()["csrf_token"]
    b = client.get(ME, headers=cookie(u["token"])).json()["csrf_token"]
    assert a == b
    other = signed_in(client)
    assert client.get(ME, headers=bearer(other["token"])).json()["csrf_token"] != a


def test_head_me_has_no_body(server, client):
    u = signed_in(client)
    with server.raw() as c:
        r = c.request("HEAD", ME, bearer(u["token"]))
        assert r.status == 200 and r.body == b""
        assert int(r.headers["content-length"]) > 0


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer garbage"},
    {"Authorization": "Bearer " + "A" * 43},  # right shape, unknown
    {"Authorization": "Bearer " + "A" * 42 + "!"},
    {"Authorization": "Bearer " + "A" * 44},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Token abc"},
    {"Cookie": "opx_session=garbage"},
    {"Cookie": "opx_session=" + "B" * 43},
    {"Cookie": "opx_session="},
    {"Cookie": "other=1"},
], ids=["none", "bearer-empty", "bearer-garbage", "bearer-unknown", "bearer-bad-char", "bearer-too-long",
        "basic", "token-scheme", "cookie-garbage", "cookie-unknown", "cookie-empty", "cookie-other"])
def test_bad_credentials_are_401_with_www_authenticate(client, headers):
    assert_unauthorized(client.get(ME, headers=headers))


def test_a_bad_authorization_header_is_not_rescued_by_a_good_cookie(client):
    u = signed_in(client)
    assert_unauthorized(client.get(ME, headers={"Authorization": "Bearer nope", **cookie(u["token"])}))


def test_logout_with_bearer_ends_the_session(client):
    u = signed_in(client)
    r = client.post(LOGOUT, headers=bearer(u["token"]))  # no CSRF header needed
    assert r.status_code == 204
    assert r.content == b""
    sc = r.headers["set-cookie"]
    assert sc.startswith("opx_session=;") and "Max-Age=0" in sc
    assert_unauthorized(client.get(ME, headers=bearer(u["token"])))
    assert_unauthorized(client.get(ME, headers=cookie(u["token"])))
    assert_unauthorized(client.post(LOGOUT, headers=bearer(u["token"])))


def test_logout_ends_only_that_session(client):
    u = signed_in(client)
    t2 = login(client, u["email"], u["password"]).json()["token"]
    assert client.post(LOGOUT, headers=bearer(u["token"])).status_code == 204
    assert client.get(ME, headers=bearer(t2)).status_code == 200


def test_bearer_wins_over_cookie_and_needs_no_csrf(client):
    u = signed_in(client)
    r = client.post(LOGOUT, headers={**bearer(u["token"]), **cookie(u["token"])})
    assert r.status_code == 204


def test_cookie_logout_needs_the_csrf_token(client):
    u = signed_in(client)
    r = client.post(LOGOUT, headers=cookie(u["token"]))
    assert_problem(r, 403, "csrf")
    assert client.get(ME, headers=cookie(u["token"])).status_code == 200  # still alive
    # a wrong token, or another session's, is refused too
    other = signed_in(client)
    other_csrf = client.get(ME, headers=bearer(other["token"])).json()["csrf_token"]
    for bad in ("wrong", other_csrf, ""):
        assert_problem(client.post(LOGOUT, headers={**cookie(u["token"]), "X-CSRF-Token": bad}), 403, "csrf")
    assert client.get(ME, headers=cookie(u["token"])).status_code == 200
    csrf = client.get(ME, headers=cookie(u["token"])).json()["csrf_token"]
    r = client.post(LOGOUT, headers={**cookie(u["token"]), "X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert_unauthorized(client.get(ME, headers=cookie(u["token"])))
    assert client.get(ME, headers=bearer(other["token"])).status_code == 200


def test_logout_body_is_optional_but_must_be_an_empty_json_object(client):
    u = signed_in(client)
    h = bearer(u["token"])
    assert_problem(client.post(LOGOUT, headers={**h, "Content-Type": "text/plain"}, content=b"bye"),
                   415, "unsupported-media-type")
    assert_problem(client.post(LOGOUT, headers=h, json={"all": True}), 422, "validation", ["all"])
    assert_problem(client.post(LOGOUT, headers={**h, "Content-Type": "application/json"}, content=b"{"),
                   400, "malformed-json")
    assert_problem(client.post(LOGOUT, headers={**h, "Content-Type": "application/json"},
                               content=b"{}" + b" " * 2000), 413, "body-too-large")
    assert client.get(ME, headers=h).status_code == 200
    assert client.post(LOGOUT, headers=h, json={}).status_code == 204


def test_session_expires_after_its_lifetime(spawn):
    srv = spawn()  # its own clock
    c = srv.client()
    u = signed_in(c)
    r = c.post("/api/v1/_test/clock", json={"advance_seconds": 13 * 86400})
    assert r.status_code == 200 and r.json()["offset_seconds"] == 13 * 86400
    assert c.get(ME, headers=bearer(u["token"])).status_code == 200
    r = c.post("/api/v1/_test/clock", json={"advance_seconds": 2 * 86400})
    assert r.json()["offset_seconds"] == 15 * 86400
    assert_unauthorized(c.get(ME, headers=bearer(u["token"])))
    assert_unauthorized(c.get(ME, headers=cookie(u["token"])))
    # a new login works and expires 14 days after the moved clock
    fresh = signed_in(c)
    assert c.get(ME, headers=bearer(fresh["token"])).status_code == 200


def test_session_expiry_in_one_step(spawn):
    srv = spawn()
    c = srv.client()
    u = signed_in(c)
    assert c.post("/api/v1/_test/clock", json={"advance_seconds": 15 * 86400}).status_code == 200
    assert_unauthorized(c.get(ME, headers=bearer(u["token"])))


def test_session_ttl_flag(spawn):
    srv = spawn("--session-ttl", "120")
    c = srv.client()
    u = signed_in(c)
    assert "Max-Age=120" in u["set_cookie"]
    c.post("/api/v1/_test/clock", json={"advance_seconds": 60})
    assert c.get(ME, headers=bearer(u["token"])).status_code == 200
    c.post("/api/v1/_test/clock", json={"advance_seconds": 61})
    assert_unauthorized(c.get(ME, headers=bearer(u["token"])))


def test_test_clock_validation(client):
    url = "/api/v1/_test/clock"
    assert_problem(client.post(url, json={}), 422, "validation", ["advance_seconds"])
    assert_problem(client.post(url, json={"advance_seconds": -5}), 422, "validation", ["advance_seconds"])
    assert_problem(client.post(url, json={"advance_seconds": "5"}), 422, "validation", ["advance_seconds"])
    assert_problem(client.post(url, json={"advance_seconds": 1.5}), 422, "validation", ["advance_seconds"])
    assert_problem(client.post(url, json={"advance_seconds": 0, "x": 1}), 422, "validation", ["x"])
    assert_problem(client.post(url, content=b"x"), 415, "unsupported-media-type")
    r = client.post(url, json={"advance_seconds": 0})  # moves nothing
    assert r.status_code == 200 and r.json()["offset_seconds"] == 0


def test_test_clock_is_404_without_the_flag(spawn):
    srv = spawn(test_clock=False)
    c = srv.client()
    assert_problem(c.post("/api/v1/_test/clock", json={"advance_seconds": 86400}), 404, "not-found")
    assert c.get("/healthz").status_code == 200
