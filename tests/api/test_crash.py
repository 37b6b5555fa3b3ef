"""Crash safety, as a test: money flows (fund, submit, approve, dispute,
resolve, end with refund) and payout runs (POST /api/v1/admin/payouts)
run against a server that is killed with SIGKILL at random moments (at
least 200 times, OPX_CRASH_KILLS to change) and restarted on the same
database; every request is retried with its Idempotency-Key until it gets
a final answer. The card refunds and payouts those queue are sent by jobs
that die with the server too; each new server's test clock is moved past
the leases the dead ones held, so a send cut short (perhaps made at the
gateway, its answer never recorded) runs again at once, and may be cut
short again. After the last kill the last server sends whatever is still
pending. At the end `opx ledger verify` passes (it also holds refunds and
payouts to the ledger), every milestone's escrow is what was funded minus
what moved out, no milestone was charged twice (one succeeded charge and
one fund transaction at most each), every refund succeeded and each
milestone got back exactly what the flows refunded, every engineer was
paid out exactly what was released to them (never more), and the totals
are exactly what the completed flows imply. Under the fake Stripe (which
answers a little late, so kills land between its acting and opx recording
it), the gateway agrees: one charge per milestone, one refund per refund
row and one transfer per payout, each under its own key and of its amount,
however often it was sent."""
import collections
import http.client
import json as jsonlib
import os
import pathlib
import random
import re
import sys
import threading
import time
import urllib.parse

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "fakes"))
from stripe_fake import StripeFake  # noqa: E402

from moneytest import FEE_BPS, fee, fixed_offer, ledger_verify, new_key
from opxtest import (DEMO_PASSWORD, advance_clock, bearer, create_request, db_rows, demo_login, demo_server,
                     engineer_email, kill_hard, login)

KILLS = int(os.environ.get("OPX_CRASH_KILLS", "200"))
AMOUNTS = (30000, 20000, 10000)  # per contract: approved, disputed and split, refunded at the end
SPLIT = (12000, 8000)            # the disputed milestone: released, refunded
PAYOUT_EVERY = 8                 # contracts settled between two payout runs (and one after the last)
PAUSE_S = 0.015                  # a pause of up to this before each request
GATEWAY_S = 0.005                # the fake Stripe answers this late: a kill may land after it acted
SETTLE_S = 60                    # the last server sends every pending refund and payout within this


class Answer:
    """What Flaky.request returns: the parts of an httpx response the flows read."""

    def __init__(self, status, headers, content):
        self.status_code, self.content = status, content
        self.headers = {k.lower(): v for k, v in headers}

    @property
    def text(self):
        return self.content.decode("utf-8", "replace")

    def json(self):
        return jsonlib.loads(self.content)


class Flaky:
    """The current server's address, which changes on every restart; requests
    wait for a live server and retry on connection errors. http.client, not
    httpx: it connects with TCP_NODELAY, so a request with a body does not
    wait out the server's delayed ACK (~40 ms, longer than most servers here
    live), and costs next to nothing to set up per attempt."""

    def __init__(self, url, pause_s=0.0, seed=0):
        self.url, self.lock = url, threading.Lock()
        self.pause_s, self.rng = pause_s, random.Random(seed)
        self.retried = 0  # attempts that got no final answer (a dead server, 502, 503, in use)

    def post(self, path, token, key=None, json=None, deadline_s=120):
        return self.request("POST", path, token, key, json, deadline_s)

    def get(self, path, token, deadline_s=120):
        return self.request("GET", path, token, None, None, deadline_s)

    def put(self, path, token, json=None, deadline_s=120):
        return self.request("PUT", path, token, None, json, deadline_s)

    def request(self, method, path, token, key, json, deadline_s):
        h = bearer(token)
        if key:
            h["Idempotency-Key"] = key
        body = None
        if json is not None:
            body, h["Content-Type"] = jsonlib.dumps(json).encode(), "application/json"
        time.sleep(self.rng.uniform(0, self.pause_s))  # a client's pace: requests land anywhere in a server's life
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            with self.lock:
                url = self.url
            u = urllib.parse.urlsplit(url)
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            try:
                conn.request(method, path, body=body, headers=h)
                resp = conn.getresponse()
                r = Answer(resp.status, resp.getheaders(), resp.read())
            except (OSError, http.client.HTTPException):
                self.retried += 1
                time.sleep(0.01)
                continue
            finally:
                conn.close()
            if r.status_code in (502, 503, 504) or (r.status_code == 409 and "in-use" in r.text):
                # draining, a proxy whose upstream died, or our own earlier attempt still running: ask again
                self.retried += 1
                time.sleep(0.02)
                continue
            return r
        raise AssertionError(f"{method} {path} got no final answer in {deadline_s} s")


def done_or_already(r, entity_state):
    """A move without a key is final when it succeeded, or when a retry finds
    its own earlier attempt committed (409 naming the state it moved to)."""
    if r.status_code in (200, 201):
        return True
    body = r.json() if r.headers.get("content-type", "").startswith("application/problem+json") else {}
    return r.status_code == 409 and body.get("state") == entity_state


def set_clock(url, offset_s):
    """Moves a fresh server's clock (at offset 0 when it starts) offset_s seconds on."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request("POST", "/api/v1/_test/clock", body=jsonlib.dumps({"advance_seconds": offset_s}).encode(),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
        resp.read()
    finally:
        conn.close()


def setup_contracts(c, admin, client, n):
    """n active fixed contracts of client (3 milestones each), engineers logged in once each.
    An engineer with an active contract is not matched again, so when the senior
    engineers are all taken the requests ask for the other levels."""
    tokens, out = {}, []
    for _ in range(n):
        for seniority in ("senior", "mid", "staff"):
            req = create_request(c, client["token"], seniority=seniority)
            if req["candidates"]:
                break
        else:
            raise AssertionError("no engineer left to match")
        k = req["candidates"][0]
        email = engineer_email(c, admin["token"], k["engineer_id"])
        if email not in tokens:
            tokens[email] = login(c, email, DEMO_PASSWORD).json()["token"]
        en = tokens[email]
        r = c.post(f"/api/v1/candidates/{k['id']}/accept", headers=bearer(en))
        assert r.status_code == 200, r.text
        r = c.post("/api/v1/contracts", json=fixed_offer(k["id"], AMOUNTS), headers=bearer(client["token"]))
        assert r.status_code == 201, r.text
        kid = r.json()["id"]
        r = c.post(f"/api/v1/contracts/{kid}/accept", headers=bearer(en))
        assert r.status_code == 200, r.text
        out.append({"id": kid, "engineer": en, "engineer_id": k["engineer_id"],
                    "milestones": [m["id"] for m in r.json()["milestones"]]})
    return out


def payout_account(engineer_id):
    """The Stripe account an engineer is paid to (acct_ and letters or digits)."""
    return "acct_" + re.sub(r"[^A-Za-z0-9]", "", engineer_id)


def payout_run(f, admin, runs):
    """One payout run, retried under its Idempotency-Key until it has an answer."""
    key = new_key()
    r = f.post("/api/v1/admin/payouts", admin, key=key)
    assert r.status_code == 201, r.text
    runs.append((key, r.json()))


def list_all(c, token, path, status=None):
    """Every item of a paginated money-out list (newest first)."""
    items, before = [], None
    while True:
        params = {"limit": 100}
        if status:
            params["status"] = status
        if before:
            params["before"] = before
        r = c.get(path, params=params, headers=bearer(token))
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        before = page["next_cursor"]
        if not before:
            return items


def flow(f, k, client, admin, log, card):
    """One contract's whole money life, each step retried until final."""
    m1, m2, m3 = k["milestones"]
    for m in (m1, m2, m3):
        r = f.post(f"/api/v1/milestones/{m}/fund", client, key=new_key(), json={"payment_method": card})
        assert r.status_code == 200, r.text
    assert done_or_already(f.post(f"/api/v1/milestones/{m1}/submit", k["engineer"], json={"note": "done"}),
                           "submitted")
    r = f.post(f"/api/v1/milestones/{m1}/approve", client, key=new_key())
    assert r.status_code == 200 and r.json()["status"] == "released", r.text
    r = f.post(f"/api/v1/milestones/{m2}/dispute", client, json={"reason": "half done"})
    if r.status_code == 201:
        did = r.json()["id"]
    else:  # the first attempt committed before the kill: find the dispute on the milestone
        assert done_or_already(r, "disputed"), r.text
        r = f.get(f"/api/v1/contracts/{k['id']}", client)
        assert r.status_code == 200, r.text
        did = r.json()["milestones"][1]["dispute_id"]
    r = f.post(f"/api/v1/disputes/{did}/resolve", admin, key=new_key(), json={"release": SPLIT[0], "refund": SPLIT[1]})
    assert r.status_code == 200 and r.json()["status"] == "resolved", r.text
    r = f.post(f"/api/v1/contracts/{k['id']}/end", client)
    assert done_or_already(r, "ended"), r.text
    log.append(k["id"])


@pytest.fixture(params=["sandbox", "stripe"])
def gateway(request, monkeypatch):
    """(server flags, card token, the fake Stripe or None): the fake counts
    every charge it really makes, across all the restarts"""
    if request.param == "sandbox":
        yield [], "tok_visa", None
        return
    fake = StripeFake().start()
    fake.delay(GATEWAY_S)
    for k, v in fake.env().items():
        monkeypatch.setenv(k, v)
    yield fake.server_args(), "pm_card_visa", fake
    fake.stop()


def test_money_survives_200_kills(spawn, tmp_path_factory, gateway):
    flags, card, fake = gateway
    seeded = demo_server(spawn, tmp_path_factory)
    workdir = seeded.dir
    seeded.stop()
    srv = demo_server_with(spawn, tmp_path_factory, workdir, flags)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    contracts = setup_contracts(c, admin, client, 40)
    f = Flaky(srv.base_url, PAUSE_S, 7)
    finished, errors, runs = [], [], []

    def drive():
        try:
            for i, k in enumerate(contracts):
                if fake:  # an engineer is paid through Stripe only once they named their account
                    r = f.put("/api/v1/me/payout-account", k["engineer"],
                              json={"stripe_account": payout_account(k["engineer_id"])})
                    assert r.status_code == 200, r.text
                flow(f, k, client["token"], admin["token"], finished, card)
                if (i + 1) % PAYOUT_EVERY == 0:
                    payout_run(f, admin["token"], runs)
            payout_run(f, admin["token"], runs)  # everything released by now: this run pays the rest
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    t = threading.Thread(target=drive)
    t.start()
    kills, rng, clock = 0, random.Random(6), 0
    try:
        while kills < KILLS:  # the flows and payout runs, then (if they finish first) the jobs sending money out
            time.sleep(rng.uniform(0.0, 0.04))  # a random moment in whatever runs now
            kill_hard(srv)
            kills += 1
            srv = demo_server_with(spawn, tmp_path_factory, srv.dir, flags)
            # each server's clock is on past the leases the killed ones held (60 s): the jobs they were
            # running (a refund or a transfer perhaps sent, its answer not recorded) run again at once
            clock += 61
            set_clock(srv.base_url, clock)
            with f.lock:
                f.url = srv.base_url
    finally:
        t.join(300)
    assert not errors, errors[0]
    assert not t.is_alive(), "the flows did not finish"
    print(f"{kills} kills, {len(finished)} contracts settled, {len(runs)} payout runs")
    assert kills >= KILLS, kills
    assert len(finished) == len(contracts)

    # the last server (started after the last kill) sends what is still pending; the jobs the killed
    # servers held wait for their lease (60 s) to run out: the test clock passes it
    c = srv.client()
    admin_token = login(c, "admin@demo.opx", DEMO_PASSWORD).json()["token"]
    settle(c, admin_token, lambda s: advance_clock(c, s))
    check_books(c, admin_token, contracts, runs, fake, srv, srv.stop)


def settle(c, admin_token, advance):
    """Waits until no refund or payout is pending, moving the servers' clocks
    on (advance(seconds)) past leases and backoffs whenever nothing moved."""
    start = time.monotonic()
    deadline, advanced, before = start + SETTLE_S, 0, None
    while True:
        pending = (list_all(c, admin_token, "/api/v1/admin/refunds", "pending")
                   + list_all(c, admin_token, "/api/v1/admin/payouts", "pending"))
        if not pending:
            break
        assert time.monotonic() < deadline, f"still pending after {SETTLE_S} s (clock {advanced} s on): {pending[:3]}"
        if before is None or len(pending) >= before:  # stalled: a lease (60 s) or a send's backoff to pass
            advance(61)
            advanced += 61
        before = len(pending)
        time.sleep(0.1)
    print(f"money out settled in {time.monotonic() - start:.1f} s (clock {advanced} s on)")


def check_books(c, admin_token, contracts, runs, fake, db, stop):
    """Every contract settled by flow() and every payout run: the ledger, the
    refunds, the payouts and (with the fake Stripe) the gateway agree that
    each move happened exactly once. db names the database (a server);
    stop() stops every server on it before the offline checks."""
    n = len(contracts)
    # the books, recomputed from the entries, hold every invariant (refunds and payouts against the ledger too)
    rep = c.get("/api/v1/admin/ledger", headers=bearer(admin_token)).json()
    assert rep["verify"]["ok"], rep["verify"]["report"]
    totals = {t["kind"]: t["balance"] for t in rep["totals"] if t["currency"] == "USD"}
    balance = {a["id"]: a["balance"] for a in rep["accounts"]}
    released = AMOUNTS[0] + SPLIT[0]
    net = AMOUNTS[0] - fee(AMOUNTS[0]) + SPLIT[0] - fee(SPLIT[0])  # what each contract's engineer earned
    assert totals.get("escrow", 0) == 0
    assert totals.get("client_funding", 0) == 0, "no refund was refused: nothing held for the client"
    assert totals.get("payable", 0) == 0, "the last payout run paid every balance out"
    assert totals.get("paid_out", 0) == n * net
    assert totals.get("revenue", 0) == n * (fee(AMOUNTS[0]) + fee(SPLIT[0]))
    assert totals.get("gateway_clearing", 0) == -n * released  # charged everything, refunded the rest
    assert FEE_BPS == 1000

    # every refund succeeded, and each milestone got back exactly what its flow refunded
    refunds = list_all(c, admin_token, "/api/v1/admin/refunds")
    assert [r for r in refunds if r["status"] != "succeeded"] == [], [r for r in refunds if r["status"] != "succeeded"]
    want = {}
    for k in contracts:
        want[k["milestones"][1]] = SPLIT[1]     # the dispute's refund part
        want[k["milestones"][2]] = AMOUNTS[2]   # funded, then the contract ended
    got = collections.Counter()
    for r in refunds:
        got[r["milestone_id"]] += r["amount"]
    assert dict(got) == want, {m: (got.get(m), want.get(m)) for m in set(got) | set(want) if got.get(m) != want.get(m)}
    assert len(refunds) == len({r["id"] for r in refunds}) == 2 * n, len(refunds)  # one row per refund made
    for r in refunds:
        assert r["gateway"] == ("stripe" if fake else "sandbox") and r["currency"] == "USD", r
        assert r["gateway_ref"] and r["gateway_ref"].startswith("re_"), r

    # every engineer was paid out exactly what was released to them, never more
    payouts = list_all(c, admin_token, "/api/v1/admin/payouts")
    assert [p for p in payouts if p["status"] != "succeeded"] == [], [p for p in payouts if p["status"] != "succeeded"]
    assert len({p["id"] for p in payouts}) == len(payouts)
    earned = collections.Counter()
    for k in contracts:
        earned[k["engineer_id"]] += net
    paid = collections.Counter()
    for p in payouts:
        paid[p["engineer_id"]] += p["amount"]
        assert p["gateway"] == ("stripe" if fake else "sandbox") and p["currency"] == "USD", p
        assert p["gateway_ref"] and p["gateway_ref"].startswith("tr_"), p
        assert p["destination"] == (payout_account(p["engineer_id"]) if fake else "sandbox"), p
    over = {e: (paid[e], earned.get(e, 0)) for e in paid if paid[e] > earned.get(e, 0)}
    assert over == {}, f"paid out more than released: {over}"
    assert paid == earned, {e: (paid.get(e), earned.get(e)) for e in set(paid) | set(earned)
                            if paid.get(e) != earned.get(e)}
    for e in earned:
        assert balance.get(f"paid_out:{e}:USD", 0) == paid[e], e
        assert balance.get(f"payable:{e}:USD", 0) == 0, e
    # the runs' answers (replays included) name exactly the payouts there are, each once
    batched = [p for _, run in runs for p in run["payouts"]]
    assert sorted(p["id"] for p in batched) == sorted(p["id"] for p in payouts)
    assert all(run["skipped"] == 0 and not run["more"] for _, run in runs), runs
    assert len({run["batch_id"] for _, run in runs}) == len(runs)

    stop()
    code, out = ledger_verify(db)
    assert code == 0 and "OK: 0 violations" in out, out

    # no card was charged twice: one succeeded charge and one fund transaction per milestone
    dup = db_rows(db, "SELECT milestone_id, count(*) FROM payments WHERE kind = 'charge' AND status = 'succeeded'"
                  " GROUP BY milestone_id HAVING count(*) > 1")
    assert dup == [], dup
    charged = db_rows(db, "SELECT count(*) FROM payments WHERE kind = 'charge' AND status = 'succeeded'")[0][0]
    funds = db_rows(db, "SELECT count(*) FROM ledger_txns WHERE kind = 'fund'")[0][0]
    assert charged == funds == 3 * n, (charged, funds)
    pending = db_rows(db, "SELECT count(*) FROM payments WHERE status = 'pending'")[0][0]
    assert pending == 0, pending
    # one ledger move per payout and per refund, none moved back
    moves = dict(db_rows(db, "SELECT kind, count(*) FROM ledger_txns GROUP BY kind"))
    assert moves.get("payout", 0) == len(payouts), moves
    assert moves.get("refund", 0) == n and moves.get("resolve", 0) == n, moves  # the end; the split
    assert not {"payout_failed", "payout_reversed", "refund_failed"} & set(moves), moves
    left = db_rows(db, "SELECT kind, count(*) FROM jobs WHERE done_at IS NULL"
                   " AND kind IN ('payment.refund', 'payout.send') GROUP BY kind")
    assert left == [], left
    if fake:  # and the card network agrees: one real charge per milestone, each under its own key
        assert fake.charges == 3 * n, (fake.charges, 3 * n)
        keys = [ch["idempotency_key"] for ch in fake.charge_list]
        assert len(set(keys)) == len(keys)
        # one real refund per refund row, under the row's id, of its amount, from the milestone's charge
        made = collections.defaultdict(list)
        for x in fake.refund_list:
            made[x["idempotency_key"]].append(x)
        twice = {key: len(xs) for key, xs in made.items() if len(xs) != 1}
        assert twice == {}, f"refunded more than once at the gateway: {twice}"
        assert fake.refunds == len(refunds), (fake.refunds, len(refunds))
        assert set(made) == {r["id"] for r in refunds}, set(made) ^ {r["id"] for r in refunds}
        charge_of = {ch["metadata"].get("opx_milestone_id"): ch["id"] for ch in fake.charge_list}
        for r in refunds:
            x = made[r["id"]][0]
            assert (x["amount"], x["status"], x["id"]) == (r["amount"], "succeeded", r["gateway_ref"]), (x, r)
            assert x["metadata"].get("opx_payment_id") == r["id"], x
            assert x["payment_intent"] == charge_of.get(r["milestone_id"]), (x, r)
        # one real transfer per payout, under the payout's id, to the engineer's account
        sent = collections.defaultdict(list)
        for x in fake.transfer_list:
            sent[x["idempotency_key"]].append(x)
        twice = {key: len(xs) for key, xs in sent.items() if len(xs) != 1}
        assert twice == {}, f"transferred more than once: {twice}"
        assert fake.transfers == len(payouts), (fake.transfers, len(payouts))
        assert set(sent) == {p["id"] for p in payouts}, set(sent) ^ {p["id"] for p in payouts}
        to = collections.Counter()
        for p in payouts:
            x = sent[p["id"]][0]
            assert (x["amount"], x["currency"], x["destination"], x["transfer_group"], x["id"]) == \
                (p["amount"], "usd", p["destination"], p["batch_id"], p["gateway_ref"]), (x, p)
            assert x["metadata"].get("opx_payout_id") == p["id"], x
            to[x["destination"]] += x["amount"]
        assert to == {payout_account(e): paid_e for e, paid_e in paid.items()}, to
        resent = sum(1 for key in list(made) + list(sent) if fake.by_key.get(key, 0) > 1)
        print(f"{resent} refunds and transfers sent again after a crash, each made once")




def demo_server_with(spawn, tmp_path_factory, workdir, flags):
    return spawn("--login-ip-burst", "1000", *flags, workdir=workdir)
