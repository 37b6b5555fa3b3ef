"""Timeouts and caps, each on its own server with small values: header and
body timeouts (408), idle keep-alive close, --max-connections and
--max-inflight (503 with Retry-After)."""
import json
import time

import pytest

from opxtest import DEFAULT_PASSWORD, Raw, assert_problem, register, unique_email


@pytest.fixture
def slow_client_server(spawn):
    return spawn("--header-timeout", "300", "--body-timeout", "400", "--idle-timeout", "700")


def test_header_timeout_is_408_then_close(slow_client_server):
    srv = slow_client_server
    with srv.raw() as c:
        t = time.monotonic()
        c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Partial: ")
        r = c.validate("GET", "/healthz", c.read_response())
        took = time.monotonic() - t
        assert_problem(r, 408, "timeout")
        assert r.headers["connection"] == "close"
        assert 0.25 <= took < 2.0, took
        assert c.wait_eof(3)


def test_header_timeout_is_not_extended_by_trickling(slow_client_server):
    """Slowloris: a header line every 100 ms must not keep the header phase alive."""
    srv = slow_client_server
    with srv.raw() as c:
        t = time.monotonic()
        c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        for i in range(30):
            try:
                c.send(b"X-A: b\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            if c.wait_eof(0.1) or c.buf:
                break
        took = time.monotonic() - t
        assert c.buf.startswith(b"HTTP/1.1 408 "), c.buf[:100]
        assert took < 1.5, took


def test_body_timeout_is_408(slow_client_server):
    srv = slow_client_server
    with srv.raw() as c:
        t = time.monotonic()
        c.send(c.build("POST", "/api/v1/auth/login", {"Content-Type": "application/json",
                                                       "Content-Length": "50"}) + b'{"email"')
        r = c.validate("POST", "/api/v1/auth/login", c.read_response())
        assert_problem(r, 408, "timeout")
        assert 0.35 <= time.monotonic() - t < 2.5
        assert c.wait_eof(3)


def test_idle_keep_alive_connection_is_closed(slow_client_server):
    srv = slow_client_server
    with srv.raw() as c:
        assert c.request("GET", "/healthz").status == 200
        t = time.monotonic()
        assert c.wait_eof(5), "idle connection never closed"
        took = time.monotonic() - t
        assert c.buf == b"", "an idle close sends nothing"
        assert 0.6 <= took < 2.5, took  # the idle timeout (700 ms), not the header one (300 ms)


def test_a_connection_that_never_sends_is_closed(slow_client_server):
    srv = slow_client_server
    with srv.raw() as c:
        assert c.wait_eof(3)
        assert c.buf == b""


def test_activity_keeps_a_connection_alive(slow_client_server):
    srv = slow_client_server
    with srv.raw() as c:
        for _ in range(5):  # 5 x 400 ms > the idle timeout, but never idle that long
            assert c.request("GET", "/healthz").status == 200
            time.sleep(0.4)
        assert c.request("GET", "/healthz").status == 200


def test_max_connections(spawn):
    srv = spawn("--max-connections", "2")
    time.sleep(0.1)  # the start-up probe's connection is gone
    a, b = srv.raw(), srv.raw()
    try:
        assert a.request("GET", "/healthz").status == 200
        assert b.request("GET", "/healthz").status == 200
        with srv.raw() as c:
            r = c.validate("GET", "/healthz", c.read_response())  # answered before it asks
            assert_problem(r, 503, "overloaded")
            assert int(r.headers["retry-after"]) >= 1
            assert r.headers["connection"] == "close"
            assert c.wait_eof(3)
        # the two admitted connections still work
        assert a.request("GET", "/healthz").status == 200
        a.close()
        time.sleep(0.1)
        with srv.raw() as c:  # a slot is free again
            assert c.request("GET", "/healthz").status == 200
    finally:
        a.close()
        b.close()
    time.sleep(0.1)
    shed = [ln for ln in srv.client().get("/metrics").text.splitlines()
            if ln.startswith('opx_http_shed_total{reason="connections"}')]
    assert shed and float(shed[0].split()[-1]) >= 1


def _login_bytes(email, password):
    return Raw.build("POST", "/api/v1/auth/login", {"Content-Type": "application/json"},
                     json.dumps({"email": email, "password": password}).encode())


def test_max_inflight(spawn):
    srv = spawn("--max-inflight", "1")
    c0 = srv.client()
    acct, _ = register(c0)
    c0.close()
    conns = [srv.raw() for _ in range(2)]
    try:
        for c in conns:  # both sent before either is read: argon2 keeps the first in flight
            c.send(_login_bytes(acct["email"], DEFAULT_PASSWORD))
        got = [c.validate("POST", "/api/v1/auth/login", c.read_response()) for c in conns]
    finally:
        for c in conns:
            c.close()
    statuses = sorted(r.status for r in got)
    assert statuses == [200, 503], [r.raw[:300] for r in got]
    shed = next(r for r in got if r.status == 503)
    assert_problem(shed, 503, "overloaded")
    assert int(shed.headers["retry-after"]) >= 1
    # once it is done the server takes requests again
    with srv.raw() as c:
        assert c.request("GET", "/healthz").status == 200


def test_trust_proxy_keys_login_limits_by_x_forwarded_for(spawn):
    srv = spawn("--trust-proxy", "--login-ip-burst", "2")
    c = srv.client()

    def fail(ip):
        return c.post("/api/v1/auth/login", json={"email": unique_email("xff"), "password": "wrong password"},
                      headers={"X-Forwarded-For": f"203.0.113.9, {ip}"})

    assert fail("198.51.100.1").status_code == 401
    assert fail("198.51.100.1").status_code == 401
    assert_problem(fail("198.51.100.1"), 429, "rate-limited")
    assert fail("198.51.100.2").status_code == 401  # another client behind the proxy


def test_without_trust_proxy_x_forwarded_for_cannot_dodge_limits(spawn):
    srv = spawn("--login-ip-burst", "2")
    c = srv.client()

    def fail(ip):
        return c.post("/api/v1/auth/login", json={"email": unique_email("xff"), "password": "wrong password"},
                      headers={"X-Forwarded-For": ip})

    assert fail("198.51.100.1").status_code == 401
    assert fail("198.51.100.2").status_code == 401
    assert_problem(fail("198.51.100.3"), 429, "rate-limited")
    assert c.get("/healthz").status_code == 200


def test_request_deadline_is_503_and_stores_nothing(spawn):
    """--request-timeout 1: the insert after argon2 (~20 ms) is past the
    deadline, so the store refuses it: 503 with Retry-After, no account."""
    srv = spawn("--request-timeout", "1")
    c = srv.client()
    email = unique_email("deadline")
    body = {"email": email, "password": DEFAULT_PASSWORD, "name": "Late", "role": "client"}
    r = c.post("/api/v1/auth/register", json=body)
    assert_problem(r, 503, "unavailable")
    assert int(r.headers["retry-after"]) >= 1
    assert c.get("/healthz").status_code == 200
    assert srv.stop() == []
    again = spawn(workdir=srv.dir)  # same database, normal deadline
    c2 = again.client()
    assert c2.post("/api/v1/auth/register", json=body).status_code == 201


def test_drain_deadline_closes_stragglers(spawn):
    srv = spawn("--drain-timeout", "300", "--header-timeout", "60000")
    with srv.raw() as k:
        k.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
        time.sleep(0.05)
        t = time.monotonic()
        srv.terminate()
        assert srv.proc.wait(10) == 0
        assert time.monotonic() - t < 3
        assert k.wait_eof(2)
    assert "drain deadline passed" in srv.log_text()


def test_pipelining_past_the_read_buffer(server):
    """More pipelined bytes than the 16 KiB read buffer: reading pauses and
    resumes; every request is answered, in order."""
    n = 400
    with server.raw(timeout=10) as c:
        c.send(b"".join(c.build("GET", "/healthz", {"X-Request-Id": f"r{i}"}) for i in range(n)))
        ids = [c.validate("GET", "/healthz", c.read_response()).headers["x-request-id"] for _ in range(n)]
    assert ids == [f"r{i}" for i in range(n)]


def test_concurrent_registrations_of_one_email(server):
    email = unique_email("race")
    body = json.dumps({"email": email, "password": DEFAULT_PASSWORD, "name": "Racer", "role": "client"}).encode()
    conns = [server.raw(timeout=10) for _ in range(6)]
    try:
        for c in conns:
            c.send(Raw.build("POST", "/api/v1/auth/register", {"Content-Type": "application/json"}, body))
        got = [c.validate("POST", "/api/v1/auth/register", c.read_response()) for c in conns]
    finally:
        for c in conns:
            c.close()
    assert sorted(r.status for r in got) == [201] + [409] * 5
    for r in got:
        if r.status == 409:
            assert_problem(r, 409, "email-taken", ["email"])
