"""Graceful shutdown under load, and an event loop that never blocks while
argon2 works on the thread pool."""
import json
import select
import socket
import statistics
import time

import pytest

from opxtest import PG_SERVER, DEFAULT_PASSWORD, Raw, register, sanitized, wait_for


def _login_bytes(email, password=DEFAULT_PASSWORD, extra=None):
    h = {"Content-Type": "application/json"}
    h.update(extra or {})
    return Raw.build("POST", "/api/v1/auth/login", h, json.dumps({"email": email, "password": password}).encode())


def _accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def test_graceful_shutdown_finishes_in_flight_logins(spawn):
    # twenty checks of one account at once: each holds one of its tokens
    srv = spawn("--login-account-burst", "100")
    c = srv.client()
    acct, _ = register(c)
    c.close()
    n = 20
    conns = [srv.raw(timeout=15) for _ in range(n)]
    try:
        for i, k in enumerate(conns):
            k.send(_login_bytes(acct["email"], extra={"X-Request-Id": f"drain-{i}"}))
        time.sleep(0.02)  # let the loop read them (they are far from done: ~20 argon2 runs)
        srv.terminate()
        # new connections are refused while the old ones drain (polled: a
        # loaded machine may take a while to deliver the signal)
        wait_for(lambda: not _accepts(srv.port), timeout=10, what="the listener to close")
        got = []
        for i, k in enumerate(conns):
            r = k.validate("POST", "/api/v1/auth/login", k.read_response())
            got.append(r)
            assert r.status == 200, r
            assert r.headers["x-request-id"] == f"drain-{i}"
            assert len(r.body) == int(r.headers["content-length"])
            assert r.json()["user"]["email"] == acct["email"]
            assert k.wait_eof(5)  # answered during the drain: closed after; before it: idle, closed
        drained = [r for r in got if r.headers.get("connection") == "close"]
        assert len(drained) >= n // 2, "SIGTERM came too late to test the drain"
    finally:
        for k in conns:
            k.close()
    assert srv.proc.wait(15) == 0
    problems = srv.stop()
    assert problems == [], problems
    log = srv.log_text()
    assert "draining" in log and "drained" in log
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()


def test_shutdown_with_idle_keep_alive_connections_is_prompt(spawn):
    srv = spawn()
    idle = [srv.raw() for _ in range(5)]
    try:
        for k in idle:
            assert k.request("GET", "/healthz").status == 200
        t = time.monotonic()
        srv.terminate()
        assert srv.proc.wait(15) == 0
        assert time.monotonic() - t < 3, "idle connections held up the drain"
        for k in idle:
            assert k.wait_eof(2)
    finally:
        for k in idle:
            k.close()
    assert srv.stop() == []


def test_readyz_is_503_while_draining_and_healthz_stays_200(spawn):
    """A connection that is mid-headers when SIGTERM comes is not cut: its
    request is answered, and /readyz then says the server is going away."""
    srv = spawn()
    ready, health = srv.raw(), srv.raw()
    try:
        ready.send(b"GET /readyz HTTP/1.1\r\nHost: x\r\n")  # the final CRLF comes later
        health.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.05)
        srv.terminate()
        time.sleep(0.1)
        assert srv.proc.poll() is None, "the drain did not wait for a request being received"
        ready.send(b"\r\n")
        r = ready.validate("GET", "/readyz", ready.read_response())
        assert r.status == 503, r
        assert r.json()["type"] == "urn:opx:problem:not-ready"
        assert int(r.headers["retry-after"]) >= 1
        assert r.headers["connection"] == "close"
        assert ready.wait_eof(5)
        health.send(b"\r\n")
        r = health.validate("GET", "/healthz", health.read_response())
        assert r.status == 200 and r.headers["connection"] == "close"
        assert health.wait_eof(5)
    finally:
        ready.close()
        health.close()
    assert srv.proc.wait(15) == 0


def test_pipelined_requests_behind_an_in_flight_one_are_dropped_on_drain(spawn):
    srv = spawn()
    c = srv.client()
    acct, _ = register(c)
    c.close()
    with srv.raw(timeout=10) as k:
        k.send(b"".join(_login_bytes(acct["email"], extra={"X-Request-Id": f"pl-{i}"}) for i in range(6)))
        time.sleep(0.01)
        srv.terminate()
        first = k.validate("POST", "/api/v1/auth/login", k.read_response())
        assert first.status == 200
        # the one being handled when SIGTERM came closes its connection; any
        # answered before it kept theirs. Nothing after the close is answered.
        n = 1
        while first.headers.get("connection") != "close":
            first = k.validate("POST", "/api/v1/auth/login", k.read_response())
            n += 1
            assert n < 6, "SIGTERM was not noticed"
        assert k.wait_eof(5)
        assert k.buf == b""
    assert srv.proc.wait(15) == 0


@pytest.mark.skipif(bool(PG_SERVER), reason="the loop's latency is measured by the SQLite run: make test runs "
                    "the PostgreSQL one beside it on the same cores, and hashing never touches the database")
def test_loop_is_never_blocked_by_password_hashing(server, client):
    n = 8
    # an account per connection: one account's checks at once are bounded by its tokens
    accts = [register(client)[0] for _ in range(n)]
    lat, during = [], 0
    for _ in range(3):
        conns = [server.raw(timeout=15) for _ in range(n)]
        try:
            for k, acct in zip(conns, accts):
                k.send(_login_bytes(acct["email"]))
            with server.raw() as probe:
                while True:
                    t = time.perf_counter()
                    r = probe.request("GET", "/healthz")
                    lat.append(time.perf_counter() - t)
                    assert r.status == 200
                    ready, _, _ = select.select([k.sock for k in conns], [], [], 0)
                    if len(ready) == n:
                        break
                    during += 1  # probed while logins were still hashing
                    time.sleep(0.002)
            for k in conns:
                assert k.validate("POST", "/api/v1/auth/login", k.read_response()).status == 200
        finally:
            for k in conns:
                k.close()
    assert during >= 5, f"only {during} probes overlapped the hashing"
    # 50 ms is the bar; a sanitizer build (ASan maps and poisons argon2's 19 MiB
    # per hash, starving this 2-core client) gets 3x: the strict check is the
    # normal build's, the sanitizer run is there for memory errors
    bar = 0.05 * (3 if sanitized() else 1)
    assert max(lat) < bar, f"/healthz took up to {max(lat) * 1000:.1f} ms while hashing " \
                           f"(median {statistics.median(lat) * 1000:.1f} ms, n={len(lat)})"
