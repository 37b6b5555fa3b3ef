"""POST /api/v1/auth/login: the token and cookie, uniform failures, and the
per-account and per-IP slowing of failed sign-ins (on their own servers,
with small bursts)."""
import datetime as dt
import re
import threading
import time

import pytest

from opxtest import DEFAULT_PASSWORD, assert_problem, bearer, login, metric, register, signed_in, unique_email

URL = "/api/v1/auth/login"


def parse_ts(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def test_login_200_token_expiry_user_and_cookie(client):
    body, reg = register(client, role="engineer", name="Grace")
    r = login(client, body["email"], body["password"])
    j = r.json()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", j["token"])
    assert j["user"] == reg.json()["user"]
    ttl = parse_ts(j["expires_at"]) - dt.datetime.now(dt.timezone.utc)
    assert abs(ttl.total_seconds() - 14 * 86400) < 300, j["expires_at"]
    sc = r.headers["set-cookie"]
    attrs = [a.strip() for a in sc.split(";")]
    assert attrs[0] == f"opx_session={j['token']}"
    low = [a.lower() for a in attrs]
    assert "httponly" in low
    assert "samesite=lax" in low
    assert "path=/" in low
    assert "max-age=1209600" in low
    assert "secure" not in low  # not without --secure-cookies
    assert r.headers["cache-control"] == "no-store"
    # the token works
    assert client.get("/api/v1/me", headers=bearer(j["token"])).status_code == 200


def test_each_login_gets_a_new_token(client):
    body, _ = register(client)
    t1 = login(client, body["email"]).json()["token"]
    t2 = login(client, body["email"]).json()["token"]
    assert t1 != t2
    for t in (t1, t2):
        assert client.get("/api/v1/me", headers=bearer(t)).status_code == 200


def test_login_email_is_case_insensitive(client):
    body, _ = register(client)
    r = login(client, body["email"].upper())
    assert r.json()["user"]["email"] == body["email"].lower()


def _strip(p):
    return {k: v for k, v in p.items() if k not in ("request_id", "instance")}


def test_wrong_password_and_unknown_email_are_identical_401s(client):
    body, _ = register(client)
    wrong = client.post(URL, json={"email": body["email"], "password": "not the password"})
    unknown = client.post(URL, json={"email": unique_email("nobody"), "password": "not the password"})
    a = assert_problem(wrong, 401, "invalid-credentials")
    b = assert_problem(unknown, 401, "invalid-credentials")
    assert _strip(a) == _strip(b)
    assert a["request_id"] != b["request_id"]
    skip = {"date", "x-request-id", "traceparent"}
    ha = {k: v for k, v in wrong.headers.items() if k.lower() not in skip}
    hb = {k: v for k, v in unknown.headers.items() if k.lower() not in skip}
    assert ha == hb
    assert "set-cookie" not in wrong.headers


def test_unknown_email_costs_about_what_a_wrong_password_costs(client):
    """The dummy hash is verified for unknown emails: no fast path to
    enumerate accounts. Counted, not timed (a timing ratio flakes under
    load): each sign-in, known email or not, runs exactly one argon2id
    verification. The one timing bound is a floor, which load cannot break."""
    body, _ = register(client)

    def checks_for(email):
        before = metric(client, "opx_password_checks_total")
        t = time.perf_counter()
        r = client.post(URL, json={"email": email, "password": "not the password"})
        took = time.perf_counter() - t
        assert_problem(r, 401, "invalid-credentials")
        return metric(client, "opx_password_checks_total") - before, took

    assert checks_for(body["email"])[0] == 1
    ghost, took = checks_for(unique_email("ghost"))
    assert ghost == 1, "an unknown email must still cost an argon2 verification"
    assert took > 0.005, took
    assert checks_for(body["email"].upper())[0] == 1
    r = login(client, body["email"], body["password"])
    assert r.status_code == 200


@pytest.mark.parametrize("payload,fields", [
    ({}, ["email", "password"]),
    ({"email": "a@example.test"}, ["password"]),
    ({"email": "a@example.test", "password": ""}, ["password"]),
    ({"email": 5, "password": "x" * 12}, ["email"]),
    ({"email": "a@example.test", "password": "x" * 12, "remember": True}, ["remember"]),
    ({"email": "a@example.test", "password": "x" * 257}, ["password"]),
])
def test_login_invalid_body_is_422(client, payload, fields):
    assert_problem(client.post(URL, json=payload), 422, "validation", fields)


def test_login_malformed_json_400_and_wrong_type_415(client):
    p = assert_problem(client.post(URL, content=b'{"email":', headers={"Content-Type": "application/json"}),
                       400, "malformed-json")
    assert "line 1" in p["detail"] and "column" in p["detail"]
    assert_problem(client.post(URL, content=b"email=a&password=b",
                               headers={"Content-Type": "application/x-www-form-urlencoded"}),
                   415, "unsupported-media-type")
    assert_problem(client.post(URL, content=b"{}" + b" " * 5000, headers={"Content-Type": "application/json"}),
                   413, "body-too-large")


def test_a_longer_password_than_the_real_one_is_refused(client):
    """Regression: login cut passwords at 256 bytes, so any longer multi-byte
    password starting with a 256-byte one signed in."""
    pw = "ab" + "\u00e9" * 127  # 256 bytes
    body, _ = register(client, password=pw)
    login(client, body["email"], pw)
    login(client, body["email"], pw + "zzz", expect=401)
    long_pw = "a" + "\U0001F600" * 255  # 256 characters, 1021 bytes
    body, _ = register(client, password=long_pw)
    login(client, body["email"], long_pw)
    login(client, body["email"], long_pw[:-1], expect=401)


def test_login_with_an_over_long_multibyte_email_is_422_naming_it(client):
    r = client.post(URL, json={"email": "\u00e9" * 200 + "@example.test", "password": "whatever pass"})
    assert_problem(r, 422, "validation", ["email"])


def _fail(c, email):
    return c.post(URL, json={"email": email, "password": "definitely wrong"})


def assert_rate_limited(r, limit):
    assert_problem(r, 429, "rate-limited")
    retry = int(r.headers["retry-after"])
    assert retry >= 1
    assert int(r.headers["ratelimit-limit"]) == limit
    assert int(r.headers["ratelimit-remaining"]) == 0
    assert int(r.headers["ratelimit-reset"]) >= 1


def test_per_account_slowing(spawn):
    srv = spawn("--login-account-burst", "3", "--login-ip-burst", "1000")
    c = srv.client()
    victim, _ = register(c)
    other, _ = register(c)
    for _ in range(3):
        assert_problem(_fail(c, victim["email"]), 401, "invalid-credentials")
    r = _fail(c, victim["email"])
    assert_rate_limited(r, 3)
    assert 30 <= int(r.headers["retry-after"]) <= 60  # one try a minute
    # limited before the password is checked: even the right one waits
    assert_rate_limited(c.post(URL, json={"email": victim["email"], "password": DEFAULT_PASSWORD}), 3)
    # the account key is the normalised email
    assert_rate_limited(_fail(c, victim["email"].upper()), 3)
    # other accounts from the same IP are not affected
    assert_problem(_fail(c, other["email"]), 401, "invalid-credentials")
    login(c, other["email"])
    # unknown emails are limited the same way (no account enumeration)
    ghost = unique_email("ghost")
    for _ in range(3):
        assert_problem(_fail(c, ghost), 401, "invalid-credentials")
    assert_rate_limited(_fail(c, ghost), 3)


def _at_once(srv, bodies):
    """POSTs every body to the login route at the same moment, each on its
    own connection: the responses, in order."""
    clients = [srv.client() for _ in bodies]
    for cl in clients:  # connected before the barrier, so they arrive together
        assert cl.get("/healthz").status_code == 200
    barrier, out = threading.Barrier(len(bodies)), [None] * len(bodies)

    def run(i):
        barrier.wait(5)
        out[i] = clients[i].post(URL, json=bodies[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(r is not None for r in out), "a login thread hung"
    return out


def test_concurrent_guesses_never_outnumber_the_account_s_tokens(spawn):
    """A token is taken before the password is checked, so twenty guesses at
    once get as many checks as there are tokens; the others are 429 and
    their passwords never reach argon2."""
    srv = spawn("--login-account-burst", "3", "--login-ip-burst", "1000")
    acct, _ = register(srv.client())
    rs = _at_once(srv, [{"email": acct["email"], "password": f"guess {i}"} for i in range(20)])
    assert sorted(r.status_code for r in rs) == [401] * 3 + [429] * 17
    assert metric(srv.client(), "opx_login_failures_total") == 3


def test_concurrent_guesses_never_outnumber_the_ip_s_tokens(spawn):
    srv = spawn("--login-ip-burst", "5")
    rs = _at_once(srv, [{"email": unique_email("spray"), "password": "definitely wrong"} for _ in range(12)])
    assert sorted(r.status_code for r in rs) == [401] * 5 + [429] * 7


def test_an_attempt_that_checked_no_wrong_password_costs_nothing(spawn):
    """The right password gives back the tokens it took; so does an attempt
    the server could not check."""
    srv = spawn("--login-account-burst", "2", "--login-ip-burst", "2")
    c = srv.client()
    acct, _ = register(c)
    for _ in range(5):
        login(c, acct["email"])
    assert _fail(c, acct["email"]).status_code == 401
    assert _fail(c, acct["email"]).status_code == 401
    assert _fail(c, acct["email"]).status_code == 429


def test_a_successful_login_refills_the_account(spawn):
    srv = spawn("--login-account-burst", "3", "--login-ip-burst", "1000")
    c = srv.client()
    acct, _ = register(c)
    for _ in range(2):
        assert _fail(c, acct["email"]).status_code == 401
    login(c, acct["email"])
    for _ in range(3):
        assert _fail(c, acct["email"]).status_code == 401
    assert_rate_limited(_fail(c, acct["email"]), 3)
    assert c.get("/healthz").status_code == 200


def test_per_ip_slowing(spawn):
    srv = spawn("--login-ip-burst", "5")
    c = srv.client()
    acct, _ = register(c)
    for _ in range(5):  # five different accounts: the account limits never trip
        assert_problem(_fail(c, unique_email("spray")), 401, "invalid-credentials")
    r = _fail(c, unique_email("spray"))
    assert_rate_limited(r, 5)
    assert 1 <= int(r.headers["retry-after"]) <= 15  # one try per 15 s
    # the IP is limited for every account, even with the right password
    assert_rate_limited(c.post(URL, json={"email": acct["email"], "password": DEFAULT_PASSWORD}), 5)
    # registration is not a login: unaffected
    register(c)


def test_rate_limits_do_not_touch_other_routes(spawn):
    srv = spawn("--login-ip-burst", "1", "--login-account-burst", "1")
    c = srv.client()
    u = signed_in(c)
    assert _fail(c, u["email"]).status_code == 401
    assert _fail(c, u["email"]).status_code == 429
    assert c.get("/api/v1/me", headers=bearer(u["token"])).status_code == 200
    assert c.get("/healthz").status_code == 200


def test_rate_limited_logins_leave_the_server_healthy(spawn):
    """Many 429s in a row: the server stays up and (sanitizer build) clean."""
    srv = spawn("--login-account-burst", "1", "--login-ip-burst", "1000")
    c = srv.client()
    acct, _ = register(c)
    assert _fail(c, acct["email"]).status_code == 401
    for _ in range(10):
        assert_rate_limited(_fail(c, acct["email"]), 1)
    assert c.get("/healthz").status_code == 200


def test_long_emails_sharing_a_prefix_have_separate_account_limits(spawn):
    """Limiter keys are a hash of the email: emails that share their first
    95 bytes (once a bucket's whole stored key) must not collide."""
    srv = spawn("--login-account-burst", "2", "--login-ip-burst", "1000")
    c = srv.client()
    local = "p" * 60
    a = f"{local}@{'d' * 40}a.example.test"
    b = f"{local}@{'d' * 40}b.example.test"
    # same first 95 bytes of the key, different emails (the b one is registered)
    assert ("acct:" + a)[:95] == ("acct:" + b)[:95]
    register(c, email=b)
    for _ in range(2):
        assert _fail(c, a).status_code == 401
    login(c, b)  # not limited by a's failures
