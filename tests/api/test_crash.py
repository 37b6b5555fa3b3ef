"""Crash safety, as a test: money flows (fund, submit, approve, dispute,
resolve, end with refund) run against a server that is killed with SIGKILL
at random moments (at least 200 times, OPX_CRASH_KILLS to change) and
restarted on the same database; every request is retried with its
Idempotency-Key until it gets a final answer. At the end `opx ledger
verify` passes, every milestone's escrow is what was funded minus what
moved out (the verify checks hold it to the milestone's state), no
milestone was charged twice (one succeeded charge and one fund transaction
at most each), and the totals are exactly what the completed flows imply."""
import os
import pathlib
import random
import sys
import threading
import time

import httpx
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "fakes"))
from stripe_fake import StripeFake  # noqa: E402

from moneytest import FEE_BPS, fee, fixed_offer, ledger_verify, new_key
from opxtest import (DEMO_PASSWORD, bearer, create_request, demo_login, demo_server, engineer_email, kill_hard,
                     login)

KILLS = int(os.environ.get("OPX_CRASH_KILLS", "200"))
AMOUNTS = (30000, 20000, 10000)  # per contract: approved, disputed and split, refunded at the end
SPLIT = (12000, 8000)            # the disputed milestone: released, refunded


class Flaky:
    """The current server's address, which changes on every restart; requests
    wait for a live server and retry on connection errors."""

    def __init__(self, url):
        self.url, self.lock = url, threading.Lock()

    def post(self, path, token, key=None, json=None, deadline_s=120):
        return self.request("POST", path, token, key, json, deadline_s)

    def get(self, path, token, deadline_s=120):
        return self.request("GET", path, token, None, None, deadline_s)

    def request(self, method, path, token, key, json, deadline_s):
        h = bearer(token)
        if key:
            h["Idempotency-Key"] = key
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            with self.lock:
                url = self.url
            try:
                with httpx.Client(base_url=url, timeout=10) as c:
                    r = c.request(method, path, headers=h, json=json)
            except httpx.HTTPError:
                time.sleep(0.01)
                continue
            if r.status_code == 503 or (r.status_code == 409 and "in-use" in r.text):
                time.sleep(0.02)  # draining, or our own earlier attempt still running: ask again
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


def setup_contracts(c, admin, client, n):
    """n active fixed contracts of client (3 milestones each), engineers logged in once each."""
    tokens, out = {}, []
    for _ in range(n):
        req = create_request(c, client["token"])
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
        out.append({"id": kid, "engineer": en, "milestones": [m["id"] for m in r.json()["milestones"]]})
    return out


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
    f = Flaky(srv.base_url)
    finished, errors = [], []

    def drive():
        try:
            for k in contracts:
                flow(f, k, client["token"], admin["token"], finished, card)
        except BaseException as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)

    t = threading.Thread(target=drive)
    t.start()
    kills, rng = 0, random.Random(6)
    try:
        while kills < KILLS and t.is_alive():
            time.sleep(rng.uniform(0.0, 0.04))  # a random moment in whatever runs now
            kill_hard(srv)
            kills += 1
            srv = demo_server_with(spawn, tmp_path_factory, srv.dir, flags)
            with f.lock:
                f.url = srv.base_url
    finally:
        t.join(300)
    assert not errors, errors[0]
    assert not t.is_alive(), "the flows did not finish"
    print(f"{kills} kills, {len(finished)} contracts settled")
    assert kills >= min(KILLS, 50), kills  # the flows outlasted at least this many crashes
    assert len(finished) == len(contracts)

    # the books, recomputed from the entries, hold every invariant
    c = srv.client()
    admin_token = login(c, "admin@demo.opx", DEMO_PASSWORD).json()["token"]
    rep = c.get("/api/v1/admin/ledger", headers=bearer(admin_token)).json()
    assert rep["verify"]["ok"], rep["verify"]["report"]
    totals = {t["kind"]: t["balance"] for t in rep["totals"] if t["currency"] == "USD"}
    n = len(contracts)
    released = AMOUNTS[0] + SPLIT[0]
    assert totals.get("escrow", 0) == 0
    assert totals.get("payable", 0) == n * (AMOUNTS[0] - fee(AMOUNTS[0]) + SPLIT[0] - fee(SPLIT[0]))
    assert totals.get("revenue", 0) == n * (fee(AMOUNTS[0]) + fee(SPLIT[0]))
    assert totals.get("gateway_clearing", 0) == -n * released  # charged everything, refunded the rest
    assert FEE_BPS == 1000
    srv.stop()
    code, out = ledger_verify(srv.dir / "opx.db")
    assert code == 0 and "OK: 0 violations" in out, out

    # no card was charged twice: one succeeded charge and one fund transaction per milestone
    import sqlite3
    db = sqlite3.connect(srv.dir / "opx.db")
    try:
        dup = db.execute("SELECT milestone_id, count(*) FROM payments WHERE kind = 'charge' AND status = 'succeeded'"
                         " GROUP BY milestone_id HAVING count(*) > 1").fetchall()
        assert dup == [], dup
        charged = db.execute("SELECT count(*) FROM payments WHERE kind = 'charge' AND status = 'succeeded'").fetchone()[0]
        funds = db.execute("SELECT count(*) FROM ledger_txns WHERE kind = 'fund'").fetchone()[0]
        assert charged == funds == 3 * n, (charged, funds)
        pending = db.execute("SELECT count(*) FROM payments WHERE status = 'pending'").fetchone()[0]
        assert pending == 0, pending
    finally:
        db.close()
    if fake:  # and the card network agrees: one real charge per milestone, each under its own key
        assert fake.charges == 3 * n, (fake.charges, 3 * n)
        keys = [ch["idempotency_key"] for ch in fake.charge_list]
        assert len(set(keys)) == len(keys)


def demo_server_with(spawn, tmp_path_factory, workdir, flags):
    return spawn("--login-ip-burst", "1000", *flags, workdir=workdir)
