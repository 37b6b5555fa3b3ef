"""Helpers for the API tests: starting and stopping the real `opx serve`,
checking every response against src/api/openapi.json, and a raw-socket HTTP
client for what httpx cannot express (pipelining, partial headers, HEAD
framing, 100-continue, dot segments in the path).

conftest.py builds fixtures on these; test modules import the helpers they
need (`from opxtest import ...`).
"""
import atexit
import http.cookiejar
import itertools
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import threading
import time
import uuid

import httpx
from jsonschema import Draft202012Validator, FormatChecker, RefResolver

from nodelay import nodelay_transport

ROOT = pathlib.Path(__file__).resolve().parents[2]
OPENAPI_FILE = ROOT / "src" / "api" / "openapi.json"
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")
START_TIMEOUT_S = 20  # a sanitizer build starts slower
STOP_TIMEOUT_S = 15

INDEX_HTML = b"<!doctype html>\n<html><head><title>opx test</title></head><body>opx-test-index</body></html>\n"
APP_CSS = b"body { color: #123456; }\n"
SECRET = b"opx-test-secret-outside-the-web-dir\n"


# The suite runs on SQLite by default; with OPX_TEST_PG naming a PostgreSQL
# server (postgres://USER@HOST:PORT/DB, e.g. from tests/pg/pg-server.sh),
# every server and seed gets a fresh database of its own there instead.
PG_SERVER = os.environ.get("OPX_TEST_PG") or None
_pg_count = itertools.count()
_pg_made = []


def _psql(url, sql):
    out = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"psql {sql!r}: {out.stderr}"


def workdir_db(workdir):
    """What --db names for a work directory: its opx.db, or on PostgreSQL a
    database of its own, made on first use and remembered in pg.url (so a
    server restarted on the directory, or seeded before, finds it)."""
    d = pathlib.Path(workdir)
    if not PG_SERVER:
        return str(d / "opx.db")
    remembered = d / "pg.url"
    if remembered.exists():
        return remembered.read_text().strip()
    name = f"opx_api_{os.getpid()}_{next(_pg_count)}"
    _psql(PG_SERVER, f'CREATE DATABASE "{name}"')
    _pg_made.append(name)
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    remembered.write_text(url + "\n")
    return url


def drop_test_databases():
    """Drops every database workdir_db made (at the end of the session)."""
    while _pg_made:
        _psql(PG_SERVER, f'DROP DATABASE IF EXISTS "{_pg_made.pop()}" WITH (FORCE)')


def opx_bin():
    p = pathlib.Path(os.environ.get("OPX_BIN", "build/opx"))
    if not p.is_absolute():
        p = p if p.exists() else ROOT / p
    return str(p.resolve())


_sanitized = None


def sanitized():
    """True when $OPX_BIN is an ASan/UBSan build."""
    global _sanitized
    if _sanitized is None:
        with open(opx_bin(), "rb") as f:
            data = f.read()
        _sanitized = b"__asan_init" in data or b"__ubsan_handle" in data
    return _sanitized


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_email_seq = itertools.count(1)


def unique_email(tag="u"):
    return f"{tag}{next(_email_seq)}-{uuid.uuid4().hex[:10]}@example.test"


# ---- the contract ---------------------------------------------------------


class ContractError(AssertionError):
    pass


def media_type(ct):
    return (ct or "").split(";")[0].strip().lower()


class Contract:
    """The OpenAPI document and a checker of responses against it."""

    METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
    STREAMED = ("text/event-stream",)  # bodies that never end on their own

    def __init__(self, doc):
        self.doc = doc
        self.resolver = RefResolver.from_schema(doc)
        self.format_checker = FormatChecker()
        self.templates = []
        for tmpl, item in doc.get("paths", {}).items():
            rx = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(tmpl)) + "$"
            self.templates.append((tmpl, re.compile(rx), item))
        self.seen = set()  # (template or bucket, method, status) checked
        self._lock = threading.Lock()

    def deref(self, obj):
        seen = 0
        while isinstance(obj, dict) and "$ref" in obj:
            _, obj = self.resolver.resolve(obj["$ref"])
            seen += 1
            if seen > 20:
                raise ContractError("$ref loop")
        return obj

    def operations(self):
        """[(METHOD, path, operation)] of every documented operation."""
        out = []
        for tmpl, _, item in self.templates:
            for m in self.METHODS:
                if m in item:
                    out.append((m.upper(), tmpl, item[m]))
        return out

    def match(self, path):
        for tmpl, rx, item in self.templates:
            if rx.match(path):
                return tmpl, item
        return None, None

    def validate_schema(self, schema, instance, what):
        v = Draft202012Validator(schema, resolver=self.resolver, format_checker=self.format_checker)
        errs = sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errs:
            lines = [f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errs[:8]]
            raise ContractError(f"{what}: body does not match the schema:\n" + "\n".join(lines))

    def responses_for(self, method, path):
        """(bucket name, responses object) the document gives this request."""
        m = method.lower()
        lookup = "get" if m == "head" else m
        tmpl, item = self.match(path)
        if item is not None and lookup in item:
            return f"{method} {tmpl}", item[lookup].get("responses", {}), False
        if item is not None:
            return f"{method} {tmpl} (other method)", self.doc["x-unrouted"]["responses"], True
        static = self.doc.get("x-static-files", {})
        if lookup in static.get("methods", []) and not path.startswith("/api/"):
            merged = dict(self.doc["x-unrouted"]["responses"])
            merged.update(static["responses"])
            merged.pop("405", None)
            return "static", merged, False
        merged = dict(self.doc["x-unrouted"]["responses"])
        merged.pop("405", None)
        return "unrouted", merged, False

    def check(self, method, path, status, headers, body):
        """Raises ContractError unless the response is what the document says.
        headers: a mapping with case-insensitive .get(); body: bytes."""
        bucket, responses, other_method = self.responses_for(method, path)
        what = f"{method} {path} -> {status} [{bucket}]"
        excerpt = body[:400].decode("utf-8", "replace")
        if other_method and status == 404:
            raise ContractError(f"{what}: a documented path answered 404 to another method (405 expected)\n{excerpt}")
        resp = responses.get(str(status))
        if resp is None:
            raise ContractError(f"{what}: status {status} is not documented here "
                                f"(documented: {sorted(responses)})\nbody: {excerpt}")
        resp = self.deref(resp)
        with self._lock:
            self.seen.add((bucket, status))
        for name, h in (resp.get("headers") or {}).items():
            h = self.deref(h)
            value = headers.get(name)
            if value is None:
                if h.get("required"):
                    raise ContractError(f"{what}: required header {name} is missing")
                continue
            schema = h.get("schema")
            if schema:
                inst = value
                if schema.get("type") == "integer":
                    if not re.fullmatch(r"-?[0-9]+", value.strip()):
                        raise ContractError(f"{what}: header {name}: {value!r} is not an integer")
                    inst = int(value)
                self.validate_schema(schema, inst, f"{what}: header {name}={value!r}")
        content = resp.get("content")
        ct = headers.get("content-type")
        if not content:
            if body:
                raise ContractError(f"{what}: the document gives no body, the server sent {len(body)} bytes")
            return
        if ct is None:
            raise ContractError(f"{what}: no Content-Type (documented: {sorted(content)})")
        mt = media_type(ct)
        media = content.get(mt) or content.get("*/*")
        if media is None:
            raise ContractError(f"{what}: Content-Type {ct!r} is not documented ({sorted(content)})")
        if method.upper() == "HEAD":
            if body:
                raise ContractError(f"{what}: a HEAD response carries a body")
            return
        if mt in self.STREAMED:
            # a stream never ends: only what was read of it (maybe nothing) is here;
            # its events are checked one by one (check_event)
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                raise ContractError(f"{what}: event stream is not UTF-8")
            return
        schema = media.get("schema")
        if schema is None or schema == {}:
            return
        if mt == "application/json" or mt.endswith("+json"):
            try:
                inst = json.loads(body)
            except ValueError as e:
                raise ContractError(f"{what}: body is not JSON ({e}): {excerpt}")
        elif mt.startswith("text/"):
            try:
                inst = body.decode("utf-8")
            except UnicodeDecodeError:
                raise ContractError(f"{what}: text body is not UTF-8")
        else:
            return
        self.validate_schema(schema, inst, what)
        # a problem's request_id is the response's X-Request-Id
        if isinstance(inst, dict) and mt == "application/problem+json":
            rid = headers.get("x-request-id")
            if "request_id" in inst and rid is not None and inst["request_id"] != rid:
                raise ContractError(f"{what}: problem request_id {inst['request_id']!r} != X-Request-Id {rid!r}")
            if inst.get("status") != status:
                raise ContractError(f"{what}: problem status {inst.get('status')} != HTTP status")

    def event_schemas(self):
        """{kind: schema} of the events GET /api/v1/events documents (x-events)."""
        media = self.deref(self.doc["paths"]["/api/v1/events"]["get"]["responses"]["200"])["content"]
        return media["text/event-stream"]["x-events"]

    def check_event(self, event):
        """An Event of the stream: a documented kind whose data matches its schema."""
        with self._lock:
            if not hasattr(self, "_event_validators"):  # one validator per kind: streams carry thousands
                self._event_validators = {
                    kind: Draft202012Validator(schema, resolver=self.resolver, format_checker=self.format_checker)
                    for kind, schema in self.event_schemas().items()}
            v = self._event_validators.get(event.event)
        if v is None:
            raise ContractError(f"event {event.id}: kind {event.event!r} is not documented "
                                f"({sorted(self._event_validators)})")
        errs = sorted(v.iter_errors(event.data), key=lambda e: list(e.absolute_path))
        if errs:
            lines = [f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errs[:8]]
            raise ContractError(f"event {event.id} {event.event}: data does not match the schema:\n"
                                + "\n".join(lines))
        with self._lock:
            self.seen.add(("event", event.event))

    # httpx hook
    def check_httpx(self, response):
        req = response.request
        path = req.url.raw_path.decode("latin-1").split("?", 1)[0]
        if media_type(response.headers.get("content-type")) in self.STREAMED and req.method != "HEAD":
            # reading it would wait forever: the head now, the body as the test reads it
            self.check(req.method, path, response.status_code, response.headers, b"")
            return
        response.read()
        self.check(req.method, path, response.status_code, response.headers, response.content)


class NoCookies(http.cookiejar.DefaultCookiePolicy):
    """The shared clients never keep cookies: tests send them explicitly."""

    def set_ok(self, cookie, request):
        return False


def validated_client(base_url, contract, **kw):
    jar = http.cookiejar.CookieJar(policy=NoCookies())
    transport = kw.pop("transport", None) or nodelay_transport()
    return httpx.Client(base_url=base_url, cookies=jar, timeout=kw.pop("timeout", 15), transport=transport,
                        event_hooks={"response": [contract.check_httpx]}, **kw)


# ---- raw HTTP ---------------------------------------------------------------


class Headers:
    def __init__(self, pairs):
        self.pairs = pairs

    def get(self, name, default=None):
        name = name.lower()
        for k, v in self.pairs:
            if k.lower() == name:
                return v
        return default

    def get_list(self, name):
        name = name.lower()
        return [v for k, v in self.pairs if k.lower() == name]

    def __contains__(self, name):
        return self.get(name) is not None

    def __getitem__(self, name):
        v = self.get(name)
        if v is None:
            raise KeyError(name)
        return v

    def __repr__(self):
        return repr(self.pairs)


class RawResponse:
    def __init__(self, version, status, reason, headers, body, raw):
        self.version, self.status, self.reason = version, status, reason
        self.headers, self.body, self.raw = headers, body, raw

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<RawResponse {self.status} {self.headers!r} {self.body[:200]!r}>"


class Raw:
    """One TCP connection speaking HTTP/1.1 by hand."""

    def __init__(self, port, contract=None, timeout=5.0):
        self.port = port
        self.contract = contract
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    @staticmethod
    def build(method, path, headers=(), body=b"", version="HTTP/1.1", host=True):
        if isinstance(headers, dict):
            headers = list(headers.items())
        lines = [f"{method} {path} {version}"]
        names = {k.lower() for k, _ in headers}
        if host and "host" not in names:
            lines.append("Host: 127.0.0.1")
        lines += [f"{k}: {v}" for k, v in headers]
        if body and "content-length" not in names and "transfer-encoding" not in names:
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("connection closed by the server")
        self.buf += d

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        pairs = []
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            pairs.append((k.strip(), v.strip()))
        return version, int(status), reason, Headers(pairs), head

    def read_response(self, head_request=False):
        version, status, reason, headers, head = self.read_head()
        body = b""
        if head_request or status in (204, 304) or 100 <= status < 200:
            pass
        elif headers.get("content-length") is not None:
            n = int(headers.get("content-length"))
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
        else:  # no length: until close
            try:
                while True:
                    self._fill()
            except EOFError:
                pass
            body, self.buf = self.buf, b""
        return RawResponse(version, status, reason, headers, body, head + b"\r\n\r\n" + body)

    def validate(self, method, path, resp):
        if self.contract is not None:
            self.contract.check(method, path.split("?", 1)[0], resp.status, resp.headers, resp.body)
        return resp

    def request(self, method, path, headers=(), body=b"", version="HTTP/1.1", validate=True):
        self.send(self.build(method, path, headers, body, version))
        resp = self.read_response(head_request=method == "HEAD")
        if validate:
            self.validate(method, path, resp)
        return resp

    def wait_eof(self, timeout):
        """True when the server closes (EOF or reset) within timeout; data
        that arrives first is kept in self.buf."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not d:
                return True
            self.buf += d


# ---- a running server -------------------------------------------------------

_all_procs = []


class Server:
    """`opx serve` on a free port, with its own database, web dir and log."""

    def __init__(self, workdir, args=(), test_clock=True, contract=None, web=True, port=None, db=None):
        self.dir = pathlib.Path(workdir)
        self.fixed_port = port  # a restart on the same address (behind a proxy), else a free one each start
        self.web = web  # False: no --web, the app built into the binary
        self.args = list(args)
        self.test_clock = test_clock
        self.contract = contract
        self.proc = None
        self.port = None
        self.log_path = self.dir / "server.log"
        self.db = db or workdir_db(self.dir)  # what --db names: a SQLite path or a postgres:// URL
        self.clients = []
        self.stopped = False
        web = self.dir / "web"
        web.mkdir(parents=True, exist_ok=True)
        (web / "index.html").write_bytes(INDEX_HTML)
        (web / "app.css").write_bytes(APP_CSS)
        (self.dir / "secret.txt").write_bytes(SECRET)  # beside web/, must never be served
        (self.dir / "app.h").write_bytes(SECRET)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def command(self, port):
        cmd = [opx_bin(), "serve", "--listen", f"127.0.0.1:{port}", "--db", self.db]
        if self.web:
            cmd += ["--web", str(self.dir / "web")]
        if self.test_clock:
            cmd.append("--test-clock")
        return cmd + self.args

    def start(self):
        last = ""
        for _ in range(5):
            port = self.fixed_port or free_port()
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(self.command(port), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)
            log.close()
            _all_procs.append(self.proc)
            self.port = port
            deadline = time.monotonic() + START_TIMEOUT_S
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if self._healthy():
                    return self
                time.sleep(0.02)
            else:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"opx did not answer /healthz within {START_TIMEOUT_S} s:\n{self.log_tail()}")
            last = self.log_tail()
            if "cannot listen" not in last:
                raise RuntimeError(f"opx exited at start with {self.proc.returncode}:\n{last}")
        raise RuntimeError(f"opx could not listen on a free port:\n{last}")

    def _healthy(self):
        try:
            with Raw(self.port, timeout=1) as r:
                return r.request("GET", "/healthz", validate=False).status == 200
        except (OSError, EOFError, ValueError):
            return False

    def client(self, **kw):
        c = validated_client(self.base_url, self.contract, **kw)
        self.clients.append(c)
        return c

    def raw(self, timeout=5.0):
        return Raw(self.port, self.contract, timeout)

    def log_text(self):
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=15):
        return "\n".join(self.log_text().splitlines()[-n:])

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout=STOP_TIMEOUT_S, known_sanitizer_bug=False):
        """SIGTERM (unless it has exited), wait, then the checks every
        server must pass. Returns a list of problems (empty = fine).
        known_sanitizer_bug: the test is an xfail for a bug a sanitizer build
        aborts on; its report and exit code are then expected, not problems."""
        if self.stopped:
            return []
        self.stopped = True
        for c in self.clients:
            c.close()
        problems = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
            problems.append(f"opx (port {self.port}) did not exit within {timeout} s of SIGTERM; killed")
        text = self.log_text()
        if known_sanitizer_bug and any(m in text for m in SANITIZER_MARKERS):
            return problems
        if rc is not None and rc != 0:
            problems.append(f"opx (port {self.port}) exited with {rc}, not 0")
        for marker in SANITIZER_MARKERS:
            if marker in text:
                i = text.index(marker)
                problems.append(f"opx (port {self.port}) log contains {marker!r}:\n"
                                f"{text[max(0, i - 500):i + 3000]}")
        if problems:
            problems.append(f"log tail ({self.log_path}):\n{self.log_tail()}")
        return problems


def kill_leftovers():
    """A safety net only (an interrupted run): fixtures stop every server."""
    for p in _all_procs:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(kill_leftovers)


# ---- API helpers ------------------------------------------------------------

DEFAULT_PASSWORD = "correct horse battery"


def register(client, expect=201, **fields):
    body = {"email": unique_email(), "password": DEFAULT_PASSWORD, "name": "Test User", "role": "client"}
    body.update(fields)
    r = client.post("/api/v1/auth/register", json=body)
    assert r.status_code == expect, r.text
    return body, r


def login(client, email, password=DEFAULT_PASSWORD, expect=200):
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert r.status_code == expect, r.text
    return r


def signed_in(client, **fields):
    """A new account, signed in: dict(email, password, token, user)."""
    body, _ = register(client, **fields)
    r = login(client, body["email"], body["password"])
    j = r.json()
    return {"email": body["email"], "password": body["password"], "token": j["token"], "user": j["user"],
            "set_cookie": r.headers.get("set-cookie")}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def cookie(token):
    return {"Cookie": f"opx_session={token}"}


def assert_problem(r, status, slug, fields=None):
    """Status, problem+json, type and (optionally) exactly the error fields."""
    code = r.status_code if hasattr(r, "status_code") else r.status
    body = r.json()
    assert code == status, (code, body)
    assert media_type(r.headers.get("content-type")) == "application/problem+json"
    assert body["type"] == f"urn:opx:problem:{slug}", body
    assert body["status"] == status
    if fields is not None:
        assert sorted(e["field"] for e in body.get("errors", [])) == sorted(fields), body
    return body



# ---- vetting helpers ----------------------------------------------------------

QUESTION_BANK_FILE = ROOT / "src" / "rules" / "question_bank.json"
# keys that would give an answer away; none may appear before grading
LEAK_KEYS = {"answer", "answers", "answer_index", "correct", "correct_choice", "correct_answer",
             "explanation", "solution", "is_correct"}
THIRTY_MIN, DAY = 30 * 60, 86400
_bank = None


def question_bank():
    """{id: entry} of the bank the server draws from. Reading it is the
    test's privilege (to know the right answers), never a client's."""
    global _bank
    if _bank is None:
        _bank = {q["id"]: q for q in json.loads(QUESTION_BANK_FILE.read_bytes())}
    return _bank


def right_choice(question):
    """Index, in the order the server showed, of the right choice."""
    b = question_bank()[question["id"]]
    return question["choices"].index(b["choices"][b["answer"]])


def wrong_choice(question):
    return (right_choice(question) + 1) % 4


def make_answers(attempt, right=20):
    """Answers to every question of attempt: the first `right` right, the rest wrong."""
    return [{"question_id": q["id"], "choice": right_choice(q) if i < right else wrong_choice(q)}
            for i, q in enumerate(attempt["questions"])]


def leaked_keys(obj, path=""):
    """Paths of every key in obj (recursively) that could carry an answer."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k.lower() in LEAK_KEYS:
                out.append(f"{path}/{k}")
            out += leaked_keys(v, f"{path}/{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += leaked_keys(v, f"{path}/{i}")
    return out


def parse_time(s):
    import datetime
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def seconds_between(a, b):
    """b - a in seconds, for two RFC 3339 strings."""
    return int((parse_time(b) - parse_time(a)).total_seconds())


def create_staff(server, client, role, name=None):
    """A vetter or admin made with `opx user create` on server's database
    (SQLite WAL lets the CLI write while the server runs), signed in through
    client: dict(email, password, token, user)."""
    email = unique_email(role)
    out = subprocess.run([opx_bin(), "user", "create", "--email", email, "--password", DEFAULT_PASSWORD,
                          "--name", name or f"Test {role.capitalize()}", "--role", role,
                          "--db", db_url(server)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    r = login(client, email)
    j = r.json()
    assert j["user"]["role"] == role
    return {"email": email, "password": DEFAULT_PASSWORD, "token": j["token"], "user": j["user"]}


def valid_profile(**over):
    body = {
        "headline": "Async Python backend engineer",
        "bio": "Builds FastAPI services on asyncpg; careful with cancellation and timeouts.",
        "hourly_rate": {"amount": 9000, "currency": "USD"},
        "timezone": "Europe/Berlin",
        "hours_per_week": 30,
        "years_experience": 8,
        "links": ["https://github.com/example", "http://blog.example.test/async"],
        "skills": [{"id": "fastapi", "level": 4}, {"id": "asyncpg", "level": 3},
                   {"id": "cancellation", "level": 5}],
    }
    body.update(over)
    return body


def put_profile(client, token, body=None, expect=200):
    r = client.put("/api/v1/me/profile", json=valid_profile() if body is None else body, headers=bearer(token))
    assert r.status_code == expect, r.text
    return r


def get_profile(client, token):
    r = client.get("/api/v1/me/profile", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()["engineer"]


def new_engineer(client, profile=True, **fields):
    """A signed-in engineer (dict of signed_in plus "id"), with a complete
    profile unless profile=False (or the profile body to PUT)."""
    fields.setdefault("name", "Test Engineer")
    e = signed_in(client, role="engineer", **fields)
    e["id"] = e["user"]["id"]
    if profile:
        e["profile"] = valid_profile() if profile is True else profile
        put_profile(client, e["token"], e["profile"])
    return e


def start_attempt(client, token, expect=201):
    r = client.post("/api/v1/me/assessment", headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json()


def submit_attempt(client, token, attempt_id, answers, expect=200):
    r = client.post(f"/api/v1/assessments/{attempt_id}/submit", json={"answers": answers}, headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json()


def passed_engineer(client, right=20, **fields):
    """An engineer who completed a profile and passed the assessment:
    (engineer, attempt, submit result)."""
    e = new_engineer(client, **fields)
    a = start_attempt(client, e["token"])
    res = submit_attempt(client, e["token"], a["id"], make_answers(a, right))
    assert res["passed"] and res["vetting"]["status"] == "assessment_passed", res
    return e, a, res


def scorecard_body(decision="vetted", level="senior", **over):
    body = {"scores": {"concepts": 4, "must_have": 4, "testing": 3, "production": 4, "senior": 3},
            "decision": decision, "notes": "Solid on cancellation and timeouts; clear about trade-offs."}
    if level is not None:
        body["level"] = level
    body.update(over)
    return body


def get_audit(client, token, engineer_id):
    r = client.get(f"/api/v1/engineers/{engineer_id}/audit", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def crash_safe_cases(start, cases, check):
    """Runs check(env, case) for each case (a tuple whose first item is its
    name) against env = start(), a dict with the server under "srv"; a new
    env is started after a server dies, so one crash neither hides the other
    cases nor takes down a shared server. Returns the failures as text."""
    failures, env = [], None
    for case in cases:
        if env is None or env["srv"].proc.poll() is not None:
            env = start()
        try:
            check(env, case)
        except (AssertionError, httpx.HTTPError) as ex:
            try:
                died = env["srv"].proc.wait(2) if isinstance(ex, httpx.HTTPError) else env["srv"].proc.poll()
            except subprocess.TimeoutExpired:
                died = None
            failures.append(f"{case[0]}: {type(ex).__name__}: {str(ex)[:600]}"
                            + (f"\n  -> the server died (exit status {died})" if died is not None else ""))
    return failures


def sign_in_again(client, person):
    """A fresh session for person (a dict from signed_in/create_staff), e.g.
    after the clock moved past the session lifetime; updates person["token"]."""
    person["token"] = login(client, person["email"], person["password"]).json()["token"]
    return person


def transitions(audit):
    """The audit rows that move the vetting status (other rows record events
    such as an assessment started, with from and to null)."""
    return [a for a in audit if a["to"] is not None]


def advance_clock(client, seconds):
    """Moves the clock of the server client talks to. The clock is process
    wide: only ever on a server a test spawned for itself."""
    r = client.post("/api/v1/_test/clock", json={"advance_seconds": seconds})
    assert r.status_code == 200, r.text
    return r.json()


# ---- requests, matching and SLA helpers --------------------------------------------

DEMO_PASSWORD = "demo-pass-123"
HOUR = 3600
SLA_S, SLA_HALF_S, INVITE_TTL_S = 8 * HOUR, 4 * HOUR, 24 * HOUR
REQUESTS = "/api/v1/requests"


def seeded_workdir(tmp_path_factory, tag="seeded"):
    """A fresh directory whose database (workdir_db) holds the demo population
    (`opx seed --demo`): pass it to spawn(workdir=...)."""
    d = tmp_path_factory.mktemp(tag)
    out = subprocess.run([opx_bin(), "seed", "--demo", "--db", workdir_db(d)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return d


def stop_checked(server):
    """Stops a server a module-scoped fixture started; fails on any problem."""
    problems = server.stop()
    assert not problems, "\n\n".join(problems)


def utc_today():
    import datetime
    return datetime.datetime.now(datetime.timezone.utc).date()


def days_from_today(n):
    import datetime
    return (utc_today() + datetime.timedelta(days=n)).isoformat()


def request_body(**over):
    """A valid request (hourly, USD, Europe/Berlin); keyword arguments replace
    fields (None removes one)."""
    body = {
        "title": "Async payments API",
        "description": "Harden a FastAPI service on asyncpg: timeouts, cancellation, backpressure.",
        "frameworks": ["fastapi"],
        "must_have": ["asyncpg", "cancellation"],
        "nice_to_have": ["httpx"],
        "seniority": "senior",
        "engagement": "hourly",
        "budget": {"amount": 20000, "currency": "USD"},
        "hours_per_week": 20,
        "timezone": "Europe/Berlin",
        "min_overlap_hours": 2,
        "start_date": days_from_today(7),
    }
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


def create_request(client, token, body=None, expect=201, **over):
    r = client.post(REQUESTS, json=request_body(**over) if body is None else body, headers=bearer(token))
    assert r.status_code == expect, r.text
    if expect == 201:
        assert r.headers["location"] == f"{REQUESTS}/{r.json()['id']}"
    return r.json()


def get_request(client, token, rid, expect=200):
    r = client.get(f"{REQUESTS}/{rid}", headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json()


def accept(client, token, cid, expect=200, **kw):
    r = client.post(f"/api/v1/candidates/{cid}/accept", headers=bearer(token), **kw)
    assert r.status_code == expect, r.text
    return r.json()


def decline(client, token, cid, reason=None, expect=200, **kw):
    if reason is not None:
        kw["json"] = {"reason": reason}
    r = client.post(f"/api/v1/candidates/{cid}/decline", headers=bearer(token), **kw)
    assert r.status_code == expect, r.text
    return r.json()


def invitations(client, token):
    r = client.get("/api/v1/me/invitations", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def sla_board(client, token):
    r = client.get("/api/v1/admin/sla", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()


def metric(client, name, labels=""):
    """The value of one sample of GET /metrics (it must be there)."""
    want = name + (f"{{{labels}}}" if labels else "")
    text = client.get("/metrics").text
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == want:
            return float(value)
    raise AssertionError(f"/metrics has no sample {want}")


def wait_for(fn, timeout=5.0, what="the condition"):
    """Polls fn() until it returns something truthy (jobs run just after a
    clock move); returns that value."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {v!r}")
        time.sleep(0.05)


def db_url(server):
    """What server's --db names: its SQLite file's path, or a postgres:// URL."""
    return server.db


def is_postgres(server):
    return db_url(server).startswith(("postgres://", "postgresql://"))


class DbError(Exception):
    """A statement db_tamper ran failed; str() is the database's message."""


def _param(v):
    if v is None or isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise TypeError(f"db_rows binds text, integers and reals only, not {v!r}")
    return str(v)


def _numbered(sql):
    """SQLite's ? parameters as PostgreSQL's $1, $2, ... (outside quotes)."""
    out, n, quote = [], 0, None
    for ch in sql:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            n += 1
            ch = f"${n}"
        out.append(ch)
    return "".join(out)


def db_rows(server, sql, *args):
    """Rows (a list of tuples) of one read-only query on server's database,
    through `opx inspect --json` (one snapshot, safe while the server runs).
    Each arg is bound as text to the next parameter (? in the text, on
    either database); values come back typed."""
    if is_postgres(server):
        sql = _numbered(sql)
    out = subprocess.run([opx_bin(), "inspect", "--db", db_url(server), "--json", sql, *map(_param, args)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"opx inspect {sql!r} {args!r}: exit {out.returncode}: {out.stderr}"
    return [tuple(r) for r in json.loads(out.stdout)["rows"]]


def db_tamper(server, sql):
    """Runs one statement that changes server's database behind its back
    (for the tests that corrupt it on purpose) and returns the rows it
    changed; raises DbError with the database's message when it fails."""
    if is_postgres(server):
        out = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", db_url(server), "-c", sql],
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise DbError(out.stderr.strip())
        m = re.search(r"^(?:UPDATE|DELETE|INSERT \d+) (\d+)$", out.stdout, re.M)
        return int(m.group(1)) if m else 0
    import sqlite3
    con = sqlite3.connect(db_url(server), timeout=5)
    try:
        try:
            n = con.execute(sql).rowcount
        except sqlite3.DatabaseError as e:
            con.rollback()
            raise DbError(str(e)) from None
        con.commit()
        return n
    finally:
        con.close()


def vetted_engineer(client, vetter, level="senior", confirm=None, decision="vetted", name="Test Engineer",
                    assessment=True, **profile):
    """An engineer with valid_profile(**profile), the assessment passed and a
    scorecard (decision, level, confirm = [{"id", "level"}] vetted skill
    levels) by vetter; assessment=False stops after the profile, decision=None
    after the assessment. Returns the dict of new_engineer."""
    body = valid_profile(**profile)
    if not assessment:
        return new_engineer(client, profile=body, name=name)
    e, _, _ = passed_engineer(client, profile=body, name=name)
    if decision is None:
        return e
    sc = scorecard_body(decision, level if decision == "vetted" else None)
    if confirm:
        sc["skills"] = confirm
    r = client.post(f"/api/v1/engineers/{e['id']}/scorecard", json=sc, headers=bearer(vetter["token"]))
    assert r.status_code == 201, r.text
    e["engineer"] = r.json()["engineer"]
    return e


def engineer_email(client, staff_token, engineer_id):
    r = client.get(f"/api/v1/engineers/{engineer_id}", headers=bearer(staff_token))
    assert r.status_code == 200, r.text
    return r.json()["engineer"]["email"]


def demo_login(client, email):
    """A signed-in account of the demo population (`opx seed --demo`)."""
    j = login(client, email, DEMO_PASSWORD).json()
    return {"email": email, "password": DEMO_PASSWORD, "token": j["token"], "user": j["user"], "id": j["user"]["id"]}


def demo_server(spawn, tmp_path_factory, workdir=None):
    """A spawned server on a fresh demo database (or on workdir's)."""
    return spawn("--login-ip-burst", "1000", workdir=workdir or seeded_workdir(tmp_path_factory))


# ---- talk (conversations) helpers ---------------------------------------------------------

CONVERSATIONS = "/api/v1/conversations"


def conversations(client, token):
    """GET /api/v1/conversations: the caller's conversations, newest activity first."""
    r = client.get(CONVERSATIONS, headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def messages_page(client, token, conversation_id, expect=200, **params):
    """One page of GET .../messages (params: after, limit): the parsed body."""
    r = client.get(f"{CONVERSATIONS}/{conversation_id}/messages", params=params, headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json()


def all_messages(client, token, conversation_id, limit=None):
    """Every message, following next_cursor: (messages, page sizes)."""
    out, sizes, after = [], [], None
    for _ in range(10000):
        params = {k: v for k, v in (("after", after), ("limit", limit)) if v is not None}
        page = messages_page(client, token, conversation_id, **params)
        out += page["items"]
        sizes.append(len(page["items"]))
        after = page["next_cursor"]
        if after is None:
            return out, sizes
    raise AssertionError("next_cursor never ran out")


def post_message(client, token, conversation_id, body, expect=201):
    """POST a message ({"body": body}); the created Message when expect is 201, else the response."""
    r = client.post(f"{CONVERSATIONS}/{conversation_id}/messages", json={"body": body}, headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json() if expect == 201 else r


def post_raw_message(client, token, conversation_id, content, content_type="application/json"):
    """POST exactly these bytes (raw UTF-8 bodies: httpx's json= escapes non-ASCII)."""
    h = {**bearer(token)}
    if content_type is not None:
        h["Content-Type"] = content_type
    return client.post(f"{CONVERSATIONS}/{conversation_id}/messages", content=content, headers=h)


def mark_read(client, token, conversation_id, message_id, expect=204):
    r = client.post(f"{CONVERSATIONS}/{conversation_id}/read", json={"message_id": message_id},
                    headers=bearer(token))
    assert r.status_code == expect, r.text
    return r


def unread(client, token, conversation_id):
    """The caller's unread count of one conversation (from the list)."""
    mine = [v for v in conversations(client, token) if v["id"] == conversation_id]
    assert len(mine) == 1, mine
    return mine[0]["unread"]


def talk_pair(c, admin, client, **request_over):
    """On a demo server: client raises a request and its rank-1 engineer
    accepts. dict(request, candidate, engineer (signed in), conversation
    (as the client lists it))."""
    req = create_request(c, client["token"], **request_over)
    k = req["candidates"][0]
    eng = demo_login(c, engineer_email(c, admin["token"], k["engineer_id"]))
    accept(c, eng["token"], k["id"])
    conv = [v for v in conversations(c, client["token"]) if v["candidate_id"] == k["id"]]
    assert len(conv) == 1, conv
    return {"request": req, "candidate": k, "engineer": eng, "conversation": conv[0]}


def kill_hard(server):
    """SIGKILL: no drain, no shutdown code. The fixture then leaves it alone
    (a killed process has no exit status or sanitizer report to check)."""
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(STOP_TIMEOUT_S)
    server.stopped = True
    for c in server.clients:
        c.close()


# ---- live events (GET /api/v1/events, Server-Sent Events) ----------------------------

EVENTS = "/api/v1/events"


class Event:
    """One SSE event: id (int), event (its kind), data (the parsed JSON)."""

    def __init__(self, id, event, data):
        self.id, self.event, self.data = id, event, data

    def __eq__(self, other):
        return isinstance(other, Event) and (self.id, self.event, self.data) == (other.id, other.event, other.data)

    def __repr__(self):
        return f"<Event {self.id} {self.event} {json.dumps(self.data)[:160]}>"


class Comment(str):
    """A comment line (": heartbeat" is Comment("heartbeat"))."""


class Retry(int):
    """A "retry: N" line."""


class EventStream:
    """GET /api/v1/events on a raw socket. The head is read (and checked
    against the contract) at once; a 200 body is parsed as it arrives --
    chunked transfer coding (or, for HTTP/1.0, bytes until close) and then
    the event-stream format -- into Event, Comment and Retry items. Any
    line the contract does not allow fails the test, and each event's data
    is checked against the document's schema of its kind (x-events).

    rcvbuf: SO_RCVBUF set before connecting (a slow reader's tiny window).
    Use as a context manager, or close()."""

    def __init__(self, port, token=None, headers=(), query="", contract=None, timeout=5.0, rcvbuf=None,
                 version="HTTP/1.1", method="GET"):
        self.contract = contract
        self.path = EVENTS + (f"?{query}" if query else "")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            if rcvbuf is not None:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout)
            self.sock.connect(("127.0.0.1", port))
            hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers)
            if token is not None:
                hdrs.append(("Authorization", f"Bearer {token}"))
            self.sock.sendall(Raw.build(method, self.path, hdrs, version=version))
            self.raw = b""          # undecoded bytes from the socket
            self.text = ""          # decoded event-stream text not yet parsed into items
            self.transcript = ""    # the decoded event-stream text so far (its first MiB)
            self.items = []         # parsed items not yet taken
            self.eof = False        # the server closed (or reset) the connection
            self.terminated = False  # the chunked body's last chunk (0 CRLF CRLF) came
            self.received = 0       # body bytes decoded so far
            self._read_head(method)
        except BaseException:
            self.sock.close()
            raise

    # -- the head --

    def _recv(self):
        try:
            d = self.sock.recv(65536)
        except ConnectionResetError:
            d = b""
        if not d:
            self.eof = True
        self.raw += d
        return d

    def _read_head(self, method):
        while b"\r\n\r\n" not in self.raw:
            if not self._recv():
                raise EOFError(f"the connection closed before a response head: {self.raw[:200]!r}")
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.version, status, self.reason = (lines[0].split(" ", 2) + [""])[:3]
        self.status = int(status)
        self.headers = Headers([(k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in lines[1:])])
        self.body = b""
        self.chunked = (self.headers.get("transfer-encoding") or "").lower() == "chunked"
        if self.status != 200 or method == "HEAD":
            n = int(self.headers.get("content-length") or 0)
            while len(self.raw) < n and self._recv():
                pass
            self.body, self.raw = self.raw[:n], self.raw[n:]
            if self.contract is not None:
                self.contract.check(method, EVENTS, self.status, self.headers, self.body)
            return
        assert media_type(self.headers.get("content-type")) == "text/event-stream", self.headers
        if self.contract is not None:  # the head only: the body never ends
            self.contract.check(method, EVENTS, self.status, self.headers, b"")
        self._decode()  # what came with the head
        self._parse()

    def json(self):
        return json.loads(self.body)

    @property
    def status_code(self):  # assert_problem takes this as a response
        return self.status

    # -- the body --

    def _decode(self):
        """Moves what self.raw holds of the body to self.text."""
        out = b""
        if not self.chunked:
            out, self.raw = self.raw, b""
        while self.chunked and not self.terminated:
            line, sep, rest = self.raw.partition(b"\r\n")
            if not sep:
                break
            assert re.fullmatch(rb"[0-9a-fA-F]{1,16}", line), f"bad chunk size line {line[:40]!r}"
            n = int(line, 16)
            if n == 0:
                if not rest.startswith(b"\r\n"):
                    break  # the terminator's final CRLF has not come yet
                self.terminated = True
                assert rest[2:] == b"", f"bytes after the last chunk: {rest[2:80]!r}"
                self.raw = b""
                break
            if len(rest) < n + 2:
                break
            assert rest[n:n + 2] == b"\r\n", f"chunk of {n} bytes not followed by CRLF: {rest[n:n + 10]!r}"
            out += rest[:n]
            self.raw = rest[n + 2:]
        if out:
            self.received += len(out)
            self._pending = getattr(self, "_pending", b"") + out
            # a chunk may in principle split a UTF-8 sequence: decode whole blocks only
            text, sep, rest = self._pending.rpartition(b"\n\n")
            if sep:
                whole = (text + sep).decode("utf-8")
                self.text += whole
                if len(self.transcript) < 1 << 20:  # the first MiB is plenty to look at
                    self.transcript += whole
                self._pending = rest

    def _parse(self):
        while "\n\n" in self.text:
            block, self.text = self.text.split("\n\n", 1)
            fields = {}
            for line in block.split("\n"):
                if line.startswith(":"):
                    self.items.append(Comment(line[1:].strip()))
                    continue
                name, sep, value = line.partition(": ")
                assert sep and name in ("id", "event", "data", "retry"), f"unexpected SSE line {line[:200]!r}"
                assert name not in fields, f"field {name} twice in one event: {block[:300]!r}"
                if name == "retry":
                    assert re.fullmatch(r"[0-9]+", value), line
                    self.items.append(Retry(int(value)))
                else:
                    fields[name] = value
            if not fields:
                continue
            assert set(fields) == {"id", "event", "data"}, f"an event needs id, event and data: {block[:300]!r}"
            assert re.fullmatch(r"[1-9][0-9]*", fields["id"]), f"bad id {fields['id']!r}"
            e = Event(int(fields["id"]), fields["event"], json.loads(fields["data"]))
            if self.contract is not None:
                self.contract.check_event(e)
            self.items.append(e)

    def _pump(self, timeout):
        """One read within timeout; False when nothing came (timeout or EOF)."""
        if self.eof:
            return False
        self.sock.settimeout(max(timeout, 0.001))
        try:
            d = self._recv()
        except socket.timeout:
            return False
        self._decode()
        self._parse()
        return bool(d)

    def poll(self):
        """Takes in what has arrived, without waiting (the items wait for
        next_item/events): keeps a stream read while a test is busy elsewhere."""
        while self._pump(0.001):
            pass

    def next_item(self, timeout=5.0):
        """The next Event, Comment or Retry; None when none came in time or the stream ended."""
        end = time.monotonic() + timeout
        while not self.items:
            left = end - time.monotonic()
            if left <= 0 or not self._pump(left):
                if not self.items:
                    return None
        return self.items.pop(0)

    def events(self, n, timeout=5.0):
        """The next n events (comments skipped); fails when they do not come in time."""
        out, end = [], time.monotonic() + timeout
        while len(out) < n:
            item = self.next_item(max(end - time.monotonic(), 0))
            if item is None:
                raise AssertionError(f"{len(out)} of {n} events within {timeout} s "
                                     f"(eof={self.eof}): {out}")
            if isinstance(item, Event):
                out.append(item)
        return out

    def event(self, timeout=5.0):
        return self.events(1, timeout)[0]

    def drain(self, quiet=0.3, limit=5.0):
        """Every item until no event has come for `quiet` seconds (comments such as
        heartbeats do not count), the stream ends, or `limit` seconds passed."""
        out, end = [], time.monotonic() + limit
        quiet_end = min(time.monotonic() + quiet, end)
        while True:
            item = self.next_item(max(quiet_end - time.monotonic(), 0))
            if item is None:
                return out
            out.append(item)
            if isinstance(item, Event):
                quiet_end = min(time.monotonic() + quiet, end)

    def quiet_events(self, quiet=0.3, limit=5.0):
        """The events (not comments) among drain(quiet, limit)."""
        return [i for i in self.drain(quiet, limit) if isinstance(i, Event)]

    def until_eof(self, timeout=5.0):
        """Every item until the server closes; fails when it does not within timeout."""
        out, end = [], time.monotonic() + timeout
        while not self.eof:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the stream did not end within {timeout} s; got {out}")
            self._pump(left)
            out += self.items
            self.items = []
        out += self.items
        self.items = []
        return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def open_events(server, token=None, **kw):
    """An EventStream to server, its head checked against the contract; 200 expected
    unless expect= says otherwise."""
    expect = kw.pop("expect", 200)
    s = EventStream(server.port, token, contract=server.contract, **kw)
    if expect is not None and s.status != expect:
        s.close()
        raise AssertionError(f"GET {s.path}: {s.status} {s.headers!r} {s.body[:300]!r}, not {expect}")
    return s
