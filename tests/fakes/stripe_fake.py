"""A fake of the part of Stripe's API that opx's `stripe` gateway adapter
(src/ext/gateway.h) speaks, for tests. Python standard library only.

What it owns:
  * POST /v1/payment_intents (form-encoded, confirm=true): checks
    `Authorization: Bearer <secret>`, implements Stripe's idempotency
    (same Idempotency-Key + same parameters -> the FIRST answer again, byte
    for byte, no second charge; same key + different parameters -> 400
    idempotency_error) and answers by payment_method:
        pm_card_visa            200 payment_intent, status "succeeded" (a charge)
        pm_card_chargeDeclined  402 card_error / card_declined
        pm_card_slow            like pm_card_visa, but answers after `slow_s`
        anything else           400 invalid_request_error (resource_missing)
  * POST /v1/refunds (form-encoded: payment_intent, amount, metadata[..],
    reason): refunds part or all of a payment intent this fake charged
    successfully. 200 refund with status `refund_status` ("succeeded";
    tests may set "pending" or "failed"); 400 resource_missing for an
    intent it did not charge; 400 amount_too_large for more than
    amount_received minus the earlier refunds that are not "failed"
    (refund_set_status() changes a recorded refund's status, e.g. before
    a test sends its webhook);
  * GET /v1/refunds/{id}: a recorded refund with its current status
    (auth, failure injection and counting as for POSTs; 404 resource_missing
    for an unknown id);
  * POST /v1/transfers (Connect; form-encoded: amount, currency,
    destination, transfer_group, description, metadata[..]) answering by
    destination:
        acct_insufficient       400 invalid_request_error (balance_insufficient)
        acct_missing, not acct_ 400 invalid_request_error (resource_missing)
        any other acct_...      200 transfer
  * Stripe's idempotency, the auth check and the failure injection below
    on all three paths alike; an Idempotency-Key is global across paths,
    so reusing one on another path is an idempotency_error;
  * failure injection for the next requests (fail_next, hang_next) and a
    delay for every request (delay);
  * counters and logs for assertions (requests, by_key, charges,
    charge_list, refunds, refund_list, transfers, transfer_list, log);
  * Stripe-signed webhook events (webhook), which tests POST to opx
    themselves.

It does NOT own opx: tests start opx with server_args() and env().

Timing model: a request's outcome is decided, and any charge, refund or
transfer made (and its idempotent result stored), the moment the request
arrives; only the answer is held back (delay(), pm_card_slow). So a client
that times out and retries with the same key gets the stored answer straight
away and is charged (refunded, paid out) once.
(Real Stripe answers 409 idempotency_error to a retry that overlaps the
original; inject that with fail_next(1, 409) when a test needs it.)

Order of handling one POST: count it (requests, by_key, log) -> an injected
failure or hang, if one is queued (before auth: it stands for the network or
Stripe's edge) -> auth -> route -> idempotency -> validation -> payment
method, payment intent or destination.

Stored and replayed under an Idempotency-Key: 200 charges, refunds and
transfers, 402 declines, and the 400s decided after validation (unknown
payment method, unknown payment intent, amount_too_large, unknown
destination, balance_insufficient). Not stored: 401, unknown paths,
idempotency errors and parameter validation errors (a missing required
param, an amount that is not an integer >= 1, currency not /^[a-z]{3}$/)
-- Stripe does not save those either -- and injected failures and hangs,
so that a retry after one goes through (real Stripe would replay a 500 it
had really given).

In-process use:
    fake = StripeFake(secret="sk_test_x", webhook_secret="whsec_x").start()
    ... spawn opx with fake.server_args() and fake.env() ...
    fake.stop()          # or: with StripeFake() as fake: ...

As a script (logs each request to stderr, stops on SIGINT/SIGTERM):
    python3 tests/fakes/stripe_fake.py [--host H] [--port N (12111; 0: a free one)]
        [--secret sk_..] [--webhook-secret whsec_..] [--slow S]
(secrets default to $OPX_STRIPE_SECRET_KEY / $OPX_STRIPE_WEBHOOK_SECRET).
"""
import collections
import hashlib
import hmac
import http.server
import json
import re
import secrets
import select
import socket
import socketserver
import sys
import threading
import time
import urllib.parse

API_VERSION = "2024-06-20"
PAYMENT_INTENTS = "/v1/payment_intents"
REFUNDS = "/v1/refunds"
TRANSFERS = "/v1/transfers"

# payment_method -> behaviour
BEHAVIOURS = {
    "pm_card_visa": "succeed",
    "pm_card_chargeDeclined": "decline",
    "pm_card_slow": "slow",
}

_CURRENCY = re.compile(r"^[a-z]{3}$")
_AMOUNT = re.compile(r"^[0-9]+$")
_METADATA = re.compile(r"^metadata\[(.+)\]$")
_ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                 "vuv", "xaf", "xof", "xpf"}


def _id(prefix):
    return prefix + "_" + secrets.token_hex(12)


def _currency_error(currency):
    """The error body for a missing or malformed currency, or None."""
    if currency is None:
        return _invalid("Missing required param: currency.", "currency", "parameter_missing")
    if not _CURRENCY.match(currency):
        return _invalid(f"Invalid currency: {currency}.", "currency", "parameter_invalid")
    return None


def _invalid(message, param=None, code=None):
    err = {"type": "invalid_request_error", "message": message}
    if param:
        err["param"] = param
    if code:
        err["code"] = code
    return {"error": err}


def _amount_error(amount):
    """The validation error for a required positive integer amount, or None."""
    if amount is None:
        return _invalid("Missing required param: amount.", "amount", "parameter_missing")
    if not _AMOUNT.match(amount) or int(amount) < 1:
        return _invalid("Invalid integer: " + amount, "amount", "parameter_invalid_integer")
    return None


def _metadata(form):
    """{k: v} of the metadata[k]=v pairs of a parsed form."""
    metadata = {}
    for k, v in form:
        m = _METADATA.match(k)
        if m:
            metadata[m.group(1)] = v
    return metadata


def _money(amount, currency):
    """An amount in the smallest unit as Stripe words it in messages: $50.00."""
    if currency in _ZERO_DECIMAL:
        return f"${amount}"
    return f"${amount // 100}.{amount % 100:02d}"


def sign(payload, secret, t):
    """The Stripe-Signature header value for payload (bytes or str) at unix
    time t: "t=<t>,v1=<hex HMAC-SHA256(secret, f"{t}.{payload}")>"."""
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    mac = hmac.new(secret.encode("utf-8"), f"{t}.{payload}".encode("utf-8"), hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def _error_body(status):
    """The default body of an injected failure with this status."""
    if status == 409:
        err = {"type": "idempotency_error",
               "message": "There is currently another in-progress request using this Idempotent Key "
                          "(that probably means you submitted twice, and the other request is still "
                          "going through). Please try again later."}
    elif status == 429:
        err = {"type": "invalid_request_error", "code": "rate_limit",
               "message": "Too many requests hit the API too quickly."}
    elif status == 401:
        err = {"type": "invalid_request_error", "message": "Invalid API Key provided."}
    elif status == 402:
        err = {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
               "message": "Your card was declined."}
    elif 400 <= status < 500:
        err = {"type": "invalid_request_error", "message": f"Injected {status}."}
    else:
        err = {"type": "api_error", "message": "An unknown error occurred (injected)."}
    return {"error": err}


class _Server(http.server.ThreadingHTTPServer):
    # Handler threads are daemons (a test that forgets stop() cannot hang the
    # interpreter's exit) but are all tracked: stop() unblocks, then joins them.
    daemon_threads = True

    def __init__(self, addr, handler, fake):
        self.fake = fake
        self.handler_threads = []
        super().__init__(addr, handler)

    def process_request(self, request, client_address):
        t = threading.Thread(target=self.process_request_thread, args=(request, client_address),
                             name=f"stripe-fake:{self.server_address[1]}:conn", daemon=True)
        self.handler_threads = [h for h in self.handler_threads if h.is_alive()]
        self.handler_threads.append(t)
        t.start()

    def join_handlers(self):
        for t in self.handler_threads:
            t.join()
        self.handler_threads = []

    def server_bind(self):
        # HTTPServer.server_bind would call socket.getfqdn(), a DNS lookup
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = host, port

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client that went away, or stop() closing its socket
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stripe-fake"
    sys_version = ""

    def setup(self):
        super().setup()
        try:  # answers go out in one write; no Nagle wait against the client's delayed ACK
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self._quickack()
        self.server.fake._track(self.connection)

    def _quickack(self):
        # Linux: ACK the client's next segments at once. Clients that write
        # headers and body apart without TCP_NODELAY (httpx) otherwise wait
        # ~40 ms per request on our delayed ACK. Linux clears it again, so
        # it is set again after every answer.
        if hasattr(socket, "TCP_QUICKACK"):
            try:
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            except OSError:
                pass

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.fake._untrack(self.connection)

    def log_message(self, fmt, *args):
        if self.server.fake.verbose:
            sys.stderr.write("stripe-fake: %s\n" % (fmt % args))

    def _body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body, headers=()):
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-Id", _id("req"))
            self.send_header("Stripe-Version", API_VERSION)
            for k, v in headers:
                self.send_header(k, v)
            self._headers_buffer.append(b"\r\n" + body)  # end_headers(), with the body in the same write
            self.flush_headers()
            self._quickack()
        except OSError:
            self.close_connection = True

    def do_POST(self):
        body = self._body()
        fake = self.server.fake
        status, payload, headers, wait_s = fake._decide(self, body)
        if status is None:  # a hang: no answer, ever; close when the client gives up
            fake._wait(fake.hang_max_s, self.connection)
            self.close_connection = True
            return
        if wait_s > 0 and not fake._wait(wait_s, self.connection):
            self.close_connection = True  # client gone or fake stopping: nobody to answer
            return
        self._send(status, payload, headers)

    def _not_found(self):
        self._body()
        self._send(404, json.dumps({"error": {
            "type": "invalid_request_error",
            "message": f"Unrecognized request URL ({self.command}: {self.path})."}}).encode())

    def do_GET(self):
        self._body()
        status, payload = self.server.fake._get(self)
        if status is None:  # a hang
            fake = self.server.fake
            fake._wait(fake.hang_max_s, self.connection)
            self.close_connection = True
            return
        self._send(status, payload)

    do_PUT = do_DELETE = do_PATCH = _not_found


class StripeFake:
    """A fake Stripe on http://127.0.0.1:<port>. See the module docstring."""

    def __init__(self, secret="sk_test_opx_fake", webhook_secret="whsec_opx_fake", *,
                 host="127.0.0.1", port=0, slow_s=3.0, hang_max_s=30.0, verbose=False):
        self.secret = secret
        self.webhook_secret = webhook_secret
        self.host = host
        self.port = port            # the real port once started (kept for a restart)
        self.slow_s = slow_s        # pm_card_slow answers after this many seconds
        self.hang_max_s = hang_max_s  # a hung request's connection closes after this at most
        self.verbose = verbose
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = None
        self._thread = None
        self._conns = set()
        self.reset()

    # ---- life ------------------------------------------------------------------------

    def start(self):
        """Binds (port 0 -> a free port, then self.port is that port) and
        serves on a thread. Returns self. After stop(), start() again binds
        the same port; counters and stored keys survive."""
        if self._server is not None:
            raise RuntimeError("StripeFake already started")
        self._stopping.clear()
        self._server = _Server((self.host, self.port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"stripe-fake:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stops serving, releases every waiting request (slow, delayed,
        hung), closes every connection and the listening socket and joins all
        of the fake's threads. Idempotent."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()  # serve_forever returns; nothing new is accepted
        with self._lock:
            for conn in list(self._conns):
                self._shut(conn)
        thread.join()
        server.server_close()  # closes the listener
        server.join_handlers()
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        """http://127.0.0.1:<port>: the value of opx's --stripe-api-base."""
        return f"http://{self.host}:{self.port}"

    def server_args(self):
        """The `opx serve` flags that charge through this fake."""
        return ["--gateway", "stripe", "--stripe-api-base", self.url]

    def env(self):
        """The environment opx needs for it (merge into os.environ's copy)."""
        return {"OPX_STRIPE_SECRET_KEY": self.secret, "OPX_STRIPE_WEBHOOK_SECRET": self.webhook_secret}

    # ---- knobs and state -------------------------------------------------------------

    def reset(self):
        """Forgets every request, charge, refund, transfer, stored key,
        injected failure and the delay; refund_status is "succeeded" again."""
        with self._lock:
            self.requests = 0
            self.by_key = {}
            self.charge_list = []
            self.refund_list = []
            self.transfer_list = []
            self.refund_status = "succeeded"  # the status of the refunds made from now on
            self.log = []
            self.delay_s = 0.0
            self._injected = collections.deque()
            self._stored = {}  # key -> (path, params, status, body bytes)
            self._intents = {}  # id of a charged payment intent -> its amount_received, currency, latest_charge

    @property
    def charges(self):
        """Successful charges actually made (a replay is not a charge)."""
        return len(self.charge_list)

    @property
    def refunds(self):
        """Refunds actually made (answered 200, whatever their status; a replay is not a refund)."""
        return len(self.refund_list)

    @property
    def transfers(self):
        """Transfers actually made (a replay is not a transfer)."""
        return len(self.transfer_list)

    def refund_set_status(self, refund_id, status):
        """Sets the status of the recorded refund refund_id (in refund_list;
        KeyError if there is none), as Stripe does when a pending refund
        settles or fails. A "failed" refund no longer counts against the
        intent's refundable amount. Answers already stored for replay keep
        the status they were given."""
        with self._lock:
            for r in self.refund_list:
                if r["id"] == refund_id:
                    r["status"] = status
                    return
        raise KeyError(refund_id)

    def fail_next(self, n, status=500, body=None):
        """The next n POSTs answer `status` (with `body`, a dict, or a Stripe
        error fitting the status) without charging and without storing
        anything under their Idempotency-Key. Queued after anything queued before."""
        raw = json.dumps(body if body is not None else _error_body(status)).encode()
        with self._lock:
            self._injected.extend([("fail", status, raw)] * n)

    def hang_next(self, n):
        """The next n POSTs are read but never answered: the fake neither
        charges nor stores anything for them and closes the connection when
        the client gives up, the fake stops, or after hang_max_s (30 s)."""
        with self._lock:
            self._injected.extend([("hang", None, None)] * n)

    def delay(self, seconds):
        """Holds back every answer by `seconds` (0 turns it off)."""
        self.delay_s = float(seconds)

    def webhook(self, event_type, obj, *, secret=None, t=None, event_id=None):
        """A Stripe event {"id": "evt_...", "object": "event", "type": ...,
        "created": t, "data": {"object": obj}, ...} signed like Stripe does.
        Returns (payload bytes, Stripe-Signature header value). secret
        defaults to webhook_secret, t (unix seconds) to now; pass another
        secret or an old t to test rejection."""
        t = int(time.time()) if t is None else int(t)
        event = {"id": event_id or _id("evt"), "object": "event", "api_version": API_VERSION,
                 "type": event_type, "created": t, "livemode": False, "data": {"object": obj}}
        payload = json.dumps(event).encode("utf-8")
        return payload, sign(payload, self.webhook_secret if secret is None else secret, t)

    # ---- internals ---------------------------------------------------------------------

    @staticmethod
    def _shut(conn):
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _track(self, conn):
        with self._lock:
            self._conns.add(conn)
            if self._stopping.is_set():
                self._shut(conn)

    def _untrack(self, conn):
        with self._lock:
            self._conns.discard(conn)

    def _wait(self, seconds, conn):
        """Sleeps up to `seconds`; False as soon as the client closed its
        end or the fake is stopping, True when the time is up."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            if self._stopping.is_set():
                return False
            try:
                ready, _, _ = select.select([conn], [], [], min(left, 0.05))
                if ready:
                    if not conn.recv(1, socket.MSG_PEEK):
                        return False  # EOF: the client gave up
                    if self._stopping.wait(min(left, 0.05)):  # it sent more (pipelining): just sleep
                        return False
            except (OSError, ValueError):
                return False

    def _decide(self, handler, body):
        """Everything about one POST but the waiting and writing: returns
        (status or None for a hang, body bytes, extra headers, seconds to wait)."""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        form = urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        key = headers.get("idempotency-key")
        entry = {"method": "POST", "path": handler.path, "headers": headers, "form": dict(form),
                 "key": key, "status": None, "outcome": None}
        with self._lock:
            self.requests += 1
            if key is not None:
                self.by_key[key] = self.by_key.get(key, 0) + 1
            self.log.append(entry)
            injected = self._injected.popleft() if self._injected else None
            status, raw, extra, wait = self._answer(entry, handler.path, headers, form, key, injected)
            entry["status"] = status
        return status, raw, extra, wait + (self.delay_s if status is not None else 0.0)

    def _get(self, handler):
        """GET /v1/refunds/{id}: the recorded refund with its current status
        (refund_set_status() moves it), counted and logged like a POST, after
        any injected failure and the auth check; (status or None for a hang,
        body bytes)."""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        entry = {"method": "GET", "path": handler.path, "headers": headers, "form": {}, "key": None,
                 "status": None, "outcome": None}
        with self._lock:
            self.requests += 1
            self.log.append(entry)
            injected = self._injected.popleft() if self._injected else None
            if injected is not None:
                kind, status, raw = injected
                entry["outcome"] = "hang" if kind == "hang" else "injected"
                return (None, b"") if kind == "hang" else (status, raw)
            if headers.get("authorization") != f"Bearer {self.secret}":
                entry.update(outcome="unauthorized", status=401)
                return 401, json.dumps({"error": {"type": "invalid_request_error",
                                                  "message": "Invalid API Key provided."}}).encode()
            route = urllib.parse.urlsplit(handler.path).path
            m = re.match(r"^/v1/refunds/([A-Za-z0-9_]+)$", route)
            if not m:
                entry.update(outcome="not_found", status=404)
                return 404, json.dumps(_invalid(f"Unrecognized request URL (GET: {handler.path}).")).encode()
            found = [r for r in self.refund_list if r["id"] == m.group(1)]
            if not found:
                entry.update(outcome="invalid", status=404)
                return 404, json.dumps(_invalid(f"No such refund: '{m.group(1)}'", "id", "resource_missing")).encode()
            r = found[0]
            entry.update(outcome="read", status=200)
            return 200, json.dumps({"id": r["id"], "object": "refund", "amount": r["amount"],
                                    "currency": r["currency"], "payment_intent": r["payment_intent"],
                                    "status": r["status"], "metadata": r["metadata"]}).encode()

    def _answer(self, entry, path, headers, form, key, injected):
        def out(outcome, status, body, extra=(), wait=0.0):
            entry["outcome"] = outcome
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            return status, raw, list(extra), wait

        if injected is not None:
            kind, status, raw = injected
            if kind == "hang":
                entry["outcome"] = "hang"
                return None, b"", [], 0.0
            return out("injected", status, raw)

        if headers.get("authorization") != f"Bearer {self.secret}":
            return out("unauthorized", 401, {"error": {
                "type": "invalid_request_error",
                "message": "Invalid API Key provided."}}, [("WWW-Authenticate", 'Bearer realm="Stripe"')])

        route = urllib.parse.urlsplit(path).path
        endpoints = {PAYMENT_INTENTS: self._payment_intent, REFUNDS: self._refund, TRANSFERS: self._transfer}
        if route not in endpoints:
            return out("not_found", 404, _invalid(f"Unrecognized request URL (POST: {path})."))

        params = sorted(form)
        if key is not None and key in self._stored:
            first_route, first_params, status, raw = self._stored[key]
            if first_route != route:
                return out("idempotency_error", 400, {"error": {
                    "type": "idempotency_error",
                    "message": "Keys for idempotent requests can only be used for the same endpoint they "
                               f"were first used for ('POST {route}' vs 'POST {first_route}'). Try using "
                               f"a key other than '{key}' if you meant to execute a different request."}})
            if first_params != params:
                return out("idempotency_error", 400, {"error": {
                    "type": "idempotency_error",
                    "message": "Keys for idempotent requests can only be used with the same parameters "
                               "they were first used with. Try using a key other than "
                               f"'{key}' if you meant to execute a different request."}})
            return out("replayed", status, raw, [("Idempotent-Replayed", "true")])

        outcome, status, body, wait = endpoints[route](dict(form), form, key)
        raw = json.dumps(body).encode()
        if key is not None and outcome != "invalid_params":
            self._stored[key] = (route, params, status, raw)
        return out("invalid" if outcome == "invalid_params" else outcome, status, raw, wait=wait)

    # Each endpoint: (form as a dict, form as pairs, Idempotency-Key) ->
    # (outcome, status, body dict, seconds to wait). Outcome "invalid_params"
    # (logged as "invalid") is a validation error: not stored under the key.

    def _payment_intent(self, f, form, key):
        amount, currency, pm = f.get("amount"), f.get("currency"), f.get("payment_method")
        err = _amount_error(amount) or _currency_error(currency)
        if err is not None:
            return "invalid_params", 400, err, 0.0
        if not pm:
            return "invalid_params", 400, _invalid("Missing required param: payment_method.", "payment_method",
                                                   "parameter_missing"), 0.0

        metadata = _metadata(form)
        behaviour = BEHAVIOURS.get(pm)
        pi_id = _id("pi")
        wait = 0.0
        if behaviour in ("succeed", "slow"):
            charge_id = _id("ch")
            status, body, outcome = 200, {
                "id": pi_id, "object": "payment_intent", "status": "succeeded",
                "amount": int(amount), "amount_received": int(amount), "currency": currency,
                "payment_method": pm, "description": f.get("description"), "metadata": metadata,
                "latest_charge": charge_id, "confirmation_method": "automatic",
                "created": int(time.time()), "livemode": False}, "charged"
            self.charge_list.append({"id": pi_id, "amount": int(amount), "currency": currency,
                                     "payment_method": pm, "metadata": metadata,
                                     "description": f.get("description"), "idempotency_key": key})
            self._intents[pi_id] = {"amount_received": int(amount), "currency": currency,
                                    "latest_charge": charge_id}
            if behaviour == "slow":
                wait = self.slow_s
        elif behaviour == "decline":
            status, outcome = 402, "declined"
            body = {"error": {
                "type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                "message": "Your card was declined.", "charge": _id("ch"),
                "payment_intent": {"id": pi_id, "object": "payment_intent",
                                   "status": "requires_payment_method", "amount": int(amount),
                                   "currency": currency, "metadata": metadata}}}
        else:
            status, outcome = 400, "invalid"
            body = _invalid(f"No such PaymentMethod: '{pm}'", "payment_method", "resource_missing")
        return outcome, status, body, wait

    def _refund(self, f, form, key):
        amount, pi = f.get("amount"), f.get("payment_intent")
        if not pi:
            return "invalid_params", 400, _invalid("Missing required param: payment_intent.", "payment_intent",
                                                   "parameter_missing"), 0.0
        err = _amount_error(amount)
        if err is not None:
            return "invalid_params", 400, err, 0.0

        intent = self._intents.get(pi)
        if intent is None:
            return "invalid", 400, _invalid(f"No such payment_intent: '{pi}'", "payment_intent",
                                            "resource_missing"), 0.0
        amount = int(amount)
        left = intent["amount_received"] - sum(r["amount"] for r in self.refund_list
                                               if r["payment_intent"] == pi and r["status"] != "failed")
        if amount > left:
            return "invalid", 400, _invalid(
                f"Refund amount ({_money(amount, intent['currency'])}) is greater than unrefunded amount "
                f"on charge ({_money(left, intent['currency'])})", "amount", "amount_too_large"), 0.0

        metadata = _metadata(form)
        re_id, status = _id("re"), self.refund_status
        body = {"id": re_id, "object": "refund", "amount": amount, "currency": intent["currency"],
                "payment_intent": pi, "charge": intent["latest_charge"], "status": status,
                "metadata": metadata, "created": int(time.time()), "reason": f.get("reason")}
        self.refund_list.append({"id": re_id, "payment_intent": pi, "amount": amount,
                                 "currency": intent["currency"], "status": status, "metadata": metadata,
                                 "idempotency_key": key})
        return "refunded", 200, body, 0.0

    def _transfer(self, f, form, key):
        amount, currency, dest = f.get("amount"), f.get("currency"), f.get("destination")
        err = _amount_error(amount) or _currency_error(currency)
        if err is not None:
            return "invalid_params", 400, err, 0.0
        if not dest:
            return "invalid_params", 400, _invalid("Missing required param: destination.", "destination",
                                                   "parameter_missing"), 0.0

        if dest == "acct_missing" or not dest.startswith("acct_"):
            return "invalid", 400, _invalid(f"No such destination: '{dest}'", "destination",
                                            "resource_missing"), 0.0
        if dest == "acct_insufficient":
            return "invalid", 400, _invalid("You have insufficient available funds in your Stripe account.",
                                            code="balance_insufficient"), 0.0

        metadata = _metadata(form)
        tr_id, group = _id("tr"), f.get("transfer_group")
        body = {"id": tr_id, "object": "transfer", "amount": int(amount), "currency": currency,
                "destination": dest, "transfer_group": group, "description": f.get("description"),
                "metadata": metadata, "reversed": False, "amount_reversed": 0,
                "created": int(time.time()), "livemode": False}
        self.transfer_list.append({"id": tr_id, "amount": int(amount), "currency": currency,
                                   "destination": dest, "transfer_group": group, "metadata": metadata,
                                   "idempotency_key": key})
        return "transferred", 200, body, 0.0


def main(argv=None):
    import argparse
    import os
    import signal

    p = argparse.ArgumentParser(description="A fake Stripe (PaymentIntents, Refunds, Transfers) for opx tests.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=12111)
    p.add_argument("--secret", default=os.environ.get("OPX_STRIPE_SECRET_KEY", "sk_test_opx_fake"))
    p.add_argument("--webhook-secret", default=os.environ.get("OPX_STRIPE_WEBHOOK_SECRET", "whsec_opx_fake"))
    p.add_argument("--slow", type=float, default=3.0, help="seconds pm_card_slow takes to answer")
    a = p.parse_args(argv)
    fake = StripeFake(a.secret, a.webhook_secret, host=a.host, port=a.port, slow_s=a.slow, verbose=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    fake.start()
    print(f"stripe-fake on {fake.url} (secret {fake.secret}, webhook secret {fake.webhook_secret})", flush=True)
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    fake.stop()
    print(f"stripe-fake: {fake.requests} requests, {fake.charges} charges, {fake.refunds} refunds, "
          f"{fake.transfers} transfers", flush=True)


if __name__ == "__main__":
    main()
