"""The HTTP/1.1 layer on the main server, mostly over raw sockets: keep-alive,
pipelining, chunked bodies, 100-continue, limits (413/414/431), HEAD, 405,
404, Date, Connection: close, HTTP/1.0, framing errors."""
import datetime as dt
import email.utils
import json
import re
import socket
import time

import pytest

from opxtest import DEFAULT_PASSWORD, assert_problem, unique_email

REGISTER = "/api/v1/auth/register"
JSON = {"Content-Type": "application/json"}


def reg_body(email=None):
    return json.dumps({"email": email or unique_email("http"), "password": DEFAULT_PASSWORD,
                       "name": "Raw", "role": "client"}).encode()


def test_keep_alive_serves_several_requests_on_one_connection(server):
    with server.raw() as c:
        for i in range(5):
            r = c.request("GET", "/healthz", {"X-Request-Id": f"ka-{i}"})
            assert r.status == 200 and r.headers["x-request-id"] == f"ka-{i}"
            assert r.headers.get("connection") is None  # HTTP/1.1: persistent by default
        r = c.request("POST", REGISTER, JSON, reg_body())
        assert r.status == 201
        assert c.request("GET", "/readyz").status == 200


def test_httpx_reuses_its_connection(client):
    ports = set()
    for _ in range(3):
        r = client.get("/healthz")
        assert r.status_code == 200
        ports.add(r.extensions["network_stream"].get_extra_info("client_addr")[1])
    assert len(ports) == 1


def test_pipelined_requests_are_answered_in_order(server):
    email = unique_email("pipe")
    with server.raw() as c:
        reqs = [("POST", REGISTER, {**JSON, "X-Request-Id": "pipe-1"}, reg_body(email)),  # slow: argon2
                ("GET", "/healthz", {"X-Request-Id": "pipe-2"}, b""),
                ("GET", "/api/v1/me", {"X-Request-Id": "pipe-3"}, b"")]
        c.send(b"".join(c.build(m, p, h, b) for m, p, h, b in reqs))
        got = []
        for m, p, _, _ in reqs:
            got.append(c.validate(m, p, c.read_response()))
        assert [r.headers["x-request-id"] for r in got] == ["pipe-1", "pipe-2", "pipe-3"]
        assert [r.status for r in got] == [201, 200, 401]
        assert got[0].json()["user"]["email"] == email
        assert c.buf == b""
        assert c.request("GET", "/healthz").status == 200  # and the connection lives on


def test_many_pipelined_requests_in_one_segment(server):
    with server.raw() as c:
        n = 40
        c.send(b"".join(c.build("GET", "/healthz", {"X-Request-Id": f"p{i}"}) for i in range(n)))
        ids = [c.validate("GET", "/healthz", c.read_response()).headers["x-request-id"] for _ in range(n)]
        assert ids == [f"p{i}" for i in range(n)]


def test_chunked_request_body_is_accepted(server):
    email = unique_email("chunked")
    body = reg_body(email)
    parts = [body[:7], body[7:30], body[30:]]
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    with server.raw() as c:
        head = c.build("POST", REGISTER, {**JSON, "Transfer-Encoding": "chunked"})
        c.send(head + chunked[:10])
        time.sleep(0.05)  # the body arrives in pieces
        c.send(chunked[10:])
        r = c.validate("POST", REGISTER, c.read_response())
        assert r.status == 201, r
        assert r.json()["user"]["email"] == email


def test_expect_100_continue(server):
    email = unique_email("expect")
    body = reg_body(email)
    with server.raw() as c:
        c.send(c.build("POST", REGISTER, {**JSON, "Expect": "100-continue", "Content-Length": str(len(body))}))
        interim = c.read_response()
        assert interim.status == 100
        assert interim.raw.startswith(b"HTTP/1.1 100 Continue\r\n")
        c.send(body)
        r = c.validate("POST", REGISTER, c.read_response())
        assert r.status == 201 and r.json()["user"]["email"] == email


def test_expect_100_continue_with_too_large_length_is_413_without_100(server):
    with server.raw() as c:
        c.send(c.build("POST", REGISTER, {**JSON, "Expect": "100-continue", "Content-Length": "100000"}))
        r = c.validate("POST", REGISTER, c.read_response())
        assert not r.raw.startswith(b"HTTP/1.1 100")
        assert_problem(r, 413, "body-too-large")
        assert r.headers["connection"] == "close"
        assert c.wait_eof(3)


def test_unsupported_expectation_is_417(server):
    with server.raw() as c:
        r = c.request("POST", REGISTER, {**JSON, "Expect": "200-ok"}, reg_body())
        assert_problem(r, 417, "expectation-failed")


def test_http10_expect_is_ignored(server):
    """RFC 9110 10.1.1: no 100 Continue to HTTP/1.0 (regression)."""
    body = reg_body()
    with server.raw() as c:
        c.send(c.build("POST", REGISTER, {**JSON, "Expect": "100-continue"}, body, version="HTTP/1.0"))
        r = c.validate("POST", REGISTER, c.read_response())
        assert r.status == 201, "100 Continue sent to an HTTP/1.0 client" if r.status == 100 else r


def test_header_block_too_large_is_431(server):
    with server.raw() as c:
        r = c.request("GET", "/healthz", {"X-Big": "a" * 20000})
        assert_problem(r, 431, "headers-too-large")
        assert c.wait_eof(3)


def test_too_many_header_fields_is_431(server):
    with server.raw() as c:
        r = c.request("GET", "/healthz", [(f"X-H{i}", "1") for i in range(80)])
        assert_problem(r, 431, "headers-too-large")


def test_header_block_just_under_the_limit_is_fine(server):
    with server.raw() as c:
        r = c.request("GET", "/healthz", {"X-Big": "a" * 15000})
        assert r.status == 200


def test_url_too_long_is_414(server):
    with server.raw() as c:
        r = c.request("GET", "/healthz?x=" + "a" * 9000)
        assert_problem(r, 414, "uri-too-long")
        assert c.wait_eof(3)


def test_long_url_under_the_limit_is_fine(server):
    with server.raw() as c:
        assert c.request("GET", "/healthz?x=" + "a" * 8000).status == 200


def test_head_healthz_has_content_length_but_no_body(server):
    with server.raw() as c:
        # a GET right behind the HEAD: any stray body bytes would corrupt it
        c.send(c.build("HEAD", "/healthz") + c.build("GET", "/healthz", {"X-Request-Id": "after-head"}))
        head = c.validate("HEAD", "/healthz", c.read_response(head_request=True))
        assert head.status == 200
        assert head.headers["content-length"] == str(len(b'{"status":"ok"}'))
        assert head.headers["content-type"].startswith("application/json")
        get = c.validate("GET", "/healthz", c.read_response())
        assert get.headers["x-request-id"] == "after-head"
        assert get.body == b'{"status":"ok"}'


def test_head_through_httpx(client):
    r = client.head("/healthz")
    assert r.status_code == 200 and r.content == b"" and r.headers["content-length"] == "15"


@pytest.mark.parametrize("method,path,allow", [
    ("GET", "/api/v1/auth/login", "POST"),
    ("PUT", "/api/v1/auth/register", "POST"),
    ("DELETE", "/api/v1/me", "GET, HEAD, PATCH"),
    ("POST", "/healthz", "GET, HEAD"),
    ("PATCH", "/metrics", "GET, HEAD"),
    ("OPTIONS", "/readyz", "GET, HEAD"),
    ("GET", "/api/v1/_test/clock", "POST"),
])
def test_wrong_method_is_405_with_allow(client, method, path, allow):
    r = client.request(method, path)
    assert_problem(r, 405, "method-not-allowed")
    assert r.headers["allow"] == allow


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/x"), ("GET", "/api/v1/users/1"), ("POST", "/api/v1/nope"),
    ("GET", "/api/v1/me/"), ("GET", "/API/V1/ME"), ("POST", "/nope"), ("DELETE", "/"),
    ("GET", "/healthz/x"),
])
def test_unknown_path_is_404_problem(client, method, path):
    r = client.request(method, path)
    p = assert_problem(r, 404, "not-found")
    assert p["instance"] == path


HTTP_DATE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                       r"[0-9]{4} [0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT")


@pytest.mark.parametrize("method,path", [("GET", "/healthz"), ("GET", "/api/v1/me"), ("POST", "/healthz"),
                                         ("GET", "/nope"), ("GET", "/")])
def test_date_header_is_rfc7231_imf_fixdate(client, method, path):
    r = client.request(method, path)
    d = r.headers["date"]
    assert HTTP_DATE.fullmatch(d), d
    when = email.utils.parsedate_to_datetime(d)
    assert abs((when - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 5


def test_connection_close_is_honoured(server):
    with server.raw() as c:
        r = c.request("GET", "/healthz", {"Connection": "close"})
        assert r.status == 200 and r.headers["connection"] == "close"
        assert c.wait_eof(3), "the server kept the connection open"
        assert c.buf == b""


def test_requests_pipelined_after_connection_close_are_not_answered(server):
    with server.raw() as c:
        c.send(c.build("GET", "/healthz", {"Connection": "close"}) + c.build("GET", "/readyz"))
        r = c.read_response()
        assert r.status == 200
        assert c.wait_eof(3)
        assert c.buf == b""


def test_http10_request_works_and_closes(server):
    with server.raw() as c:
        r = c.request("GET", "/healthz", version="HTTP/1.0")
        assert r.status == 200 and r.body == b'{"status":"ok"}'
        assert r.version == "HTTP/1.1"
        assert r.headers["connection"] == "close"
        assert c.wait_eof(3)


def test_http10_without_host_is_fine(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b'{"status":"ok"}')


def test_http10_keep_alive(server):
    with server.raw() as c:
        r = c.request("GET", "/healthz", {"Connection": "keep-alive"}, version="HTTP/1.0")
        assert r.status == 200 and r.headers["connection"].lower() == "keep-alive"
        r = c.request("GET", "/healthz", {"Connection": "keep-alive"}, version="HTTP/1.0")
        assert r.status == 200


def test_http11_without_host_is_400(server):
    with server.raw() as c:
        c.send(b"GET /healthz HTTP/1.1\r\n\r\n")
        r = c.validate("GET", "/healthz", c.read_response())
        assert_problem(r, 400, "bad-request")
        assert c.wait_eof(3)


@pytest.mark.parametrize("raw", [
    b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad\x01Header: x\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /healthz#frag HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /heal\x00thz HTTP/1.1\r\nHost: x\r\n\r\n",
], ids=["cl-and-te", "two-lengths", "negative-length", "ctl-in-name", "no-target", "fragment", "nul-in-target"])
def test_framing_errors_are_400_and_close(server, raw):
    """Request smuggling guards: ambiguous framing is refused, never guessed."""
    with server.raw() as c:
        c.send(raw)
        r = c.read_response()
        assert r.status == 400, r
        assert r.headers["content-type"] == "application/problem+json"
        assert json.loads(r.body)["type"] == "urn:opx:problem:bad-request"
        assert r.headers["connection"] == "close"
        assert c.wait_eof(3)


def test_http_2_request_line_is_505(server):
    with server.raw() as c:
        c.send(b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n")
        r = c.validate("GET", "/healthz", c.read_response())
        assert r.status == 505
        assert r.headers["connection"] == "close"


def test_505_has_its_reason_phrase_and_own_problem_type(server):
    with server.raw() as c:
        c.send(b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n")
        r = c.read_response()
        assert r.reason == "HTTP Version Not Supported"
        p = r.json()
        assert p["title"] == "HTTP Version Not Supported"
        assert p["type"] != "urn:opx:problem:bad-request"


def test_absolute_form_target_is_accepted(server):
    with server.raw() as c:
        r = c.request("GET", f"http://127.0.0.1:{server.port}/healthz", validate=False)
        assert r.status == 200, r


def test_body_on_a_get_is_413_when_the_route_takes_none(server):
    with server.raw() as c:
        r = c.request("GET", "/healthz", {"Content-Type": "text/plain"}, b"hello")
        assert_problem(r, 413, "body-too-large")


def test_server_survives_a_client_that_vanishes_mid_request(server, client):
    """A login whose client disconnects while argon2 runs: the request is
    cancelled, nothing crashes or leaks (the sanitizer build checks)."""
    email = unique_email("vanish")
    for _ in range(3):
        with server.raw() as c:
            c.send(c.build("POST", "/api/v1/auth/login", JSON,
                           json.dumps({"email": email, "password": "whatever-pass"}).encode()))
        with server.raw() as c:
            c.send(c.build("POST", REGISTER, JSON, reg_body())[:-5])  # half a body
    time.sleep(0.3)
    assert client.get("/healthz").status_code == 200
