"""Helpers of the contracts and money tests (test_contracts.py,
test_ledger.py, test_hourly.py, test_reviews.py): offering and answering
contracts, the milestone moves, hourly timesheets, reviews, Idempotency-Key
handling, balances, the admin ledger and `opx ledger verify`. Every
request goes through a validated client, so each answer is also held to
src/api/openapi.json."""
import datetime
import subprocess
import uuid

from opxtest import (advance_clock, seeded_workdir, assert_problem, bearer, demo_server, create_request, days_from_today, demo_login, engineer_email, opx_bin,
                     db_url, parse_time, talk_pair)

CONTRACTS = "/api/v1/contracts"
MILESTONES = "/api/v1/milestones"
DISPUTES = "/api/v1/disputes"
TIMESHEETS = "/api/v1/timesheets"
FEE_BPS = 1000  # the server's default --fee-bps
ID = r"[0-9a-z]{20}"


def conflict(r, entity, state_):
    """A 409 wrong-state naming the entity in the way and its state."""
    body = assert_problem(r, 409, "wrong-state")
    assert (body["entity"], body["state"]) == (entity, state_), body
    return body


def replayed(r):
    return r.headers.get("idempotent-replayed") == "true"


def money_env(spawn, tmp_path_factory):
    """A demo server: dict(srv, c, admin, client) (the money tests' fixture). Its payout
    schedule is off (--payout-interval 0), so balances stay where the tests' clock moves
    leave them; test_payouts.py runs payouts itself."""
    srv = spawn("--login-ip-burst", "1000", "--payout-interval", "0", workdir=seeded_workdir(tmp_path_factory))
    c = srv.client()
    return {"srv": srv, "c": c, "admin": demo_login(c, "admin@demo.opx"),
            "client": demo_login(c, "client@demo.opx")}


def new_key():
    return f"test-{uuid.uuid4()}"


def fee(amount, fee_bps=FEE_BPS):
    """The platform fee the contract names: floor(amount * fee_bps / 10000)."""
    return amount * fee_bps // 10000


def fixed_offer(candidate_id, amounts=(150000, 50000), currency="USD", **over):
    """A valid fixed-price offer, one milestone per amount (due in 10, 20, ... days);
    keyword arguments replace fields (None removes one)."""
    body = {"candidate_id": candidate_id, "type": "fixed", "currency": currency,
            "milestones": [{"title": f"Milestone {i + 1}", "amount": a, "due": days_from_today(10 * (i + 1))}
                           for i, a in enumerate(amounts)]}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


def hourly_offer(candidate_id, rate=9000, cap=20, currency="USD", **over):
    body = {"candidate_id": candidate_id, "type": "hourly", "currency": currency, "hourly_rate": rate,
            "weekly_cap_hours": cap}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


def offer(c, token, body, expect=201):
    """POST /api/v1/contracts: the Contract on 201 (its Location checked), else the response."""
    r = c.post(CONTRACTS, json=body, headers=bearer(token))
    assert r.status_code == expect, r.text
    if expect != 201:
        return r
    k = r.json()
    assert r.headers["location"] == f"{CONTRACTS}/{k['id']}"
    return k


def get_contract(c, token, kid, expect=200):
    r = c.get(f"{CONTRACTS}/{kid}", headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json() if expect == 200 else r


def contract_move(c, token, kid, action, expect=200, **kw):
    """POST /api/v1/contracts/{id}/{accept|decline|end}: the Contract on 200, else the response."""
    r = c.post(f"{CONTRACTS}/{kid}/{action}", headers=bearer(token), **kw)
    assert r.status_code == expect, r.text
    return r.json() if expect == 200 else r


def fund(c, token, mid, key=None, payment_method="tok_visa", expect=200, **kw):
    """POST .../fund with an Idempotency-Key (a new one unless given): the response."""
    h = {**bearer(token), "Idempotency-Key": key or new_key()}
    if "content" not in kw:
        kw["json"] = {"payment_method": payment_method}
    r = c.post(f"{MILESTONES}/{mid}/fund", headers=h, **kw)
    assert expect is None or r.status_code == expect, r.text
    return r


def approve(c, token, mid, key=None, expect=200, **kw):
    r = c.post(f"{MILESTONES}/{mid}/approve", headers={**bearer(token), "Idempotency-Key": key or new_key()}, **kw)
    assert expect is None or r.status_code == expect, r.text
    return r


def submit(c, token, mid, note="Done: see the links.", links=None, expect=200):
    body = {"note": note}
    if links is not None:
        body["links"] = links
    r = c.post(f"{MILESTONES}/{mid}/submit", json=body, headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json() if expect == 200 else r


def request_changes(c, token, mid, note="Please add tests.", expect=200):
    r = c.post(f"{MILESTONES}/{mid}/request-changes", json={"note": note}, headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json() if expect == 200 else r


def dispute(c, token, mid, reason="The work does not do what we agreed.", expect=201):
    r = c.post(f"{MILESTONES}/{mid}/dispute", json={"reason": reason}, headers=bearer(token))
    assert r.status_code == expect, r.text
    if expect != 201:
        return r
    d = r.json()
    assert r.headers["location"] == f"{DISPUTES}/{d['id']}"
    return d


def resolve(c, token, did, release, refund, key=None, expect=200):
    r = c.post(f"{DISPUTES}/{did}/resolve", json={"release": release, "refund": refund},
               headers={**bearer(token), "Idempotency-Key": key or new_key()})
    assert expect is None or r.status_code == expect, r.text
    return r


def balances(c, token):
    """GET /api/v1/me/balance as {currency: row}."""
    r = c.get("/api/v1/me/balance", headers=bearer(token))
    assert r.status_code == 200, r.text
    rows = r.json()["balances"]
    assert len({b["currency"] for b in rows}) == len(rows), rows
    return {b["currency"]: b for b in rows}


def ledger(c, admin_token, ok=True):
    """GET /api/v1/admin/ledger; its verification must say ok (unless ok is None)."""
    r = c.get("/api/v1/admin/ledger", headers=bearer(admin_token))
    assert r.status_code == 200, r.text
    rep = r.json()
    if ok is not None:
        assert rep["verify"]["ok"] is ok, rep["verify"]["report"]
        if ok:
            assert rep["verify"]["violations"] == 0 and rep["verify"]["report"].endswith("OK: 0 violations\n")
    return rep


def totals(c, admin_token, currency="USD"):
    """The ledger's totals of one currency as {kind: balance} (kinds with no account left out);
    they always sum to zero (double entry)."""
    rep = ledger(c, admin_token)
    out = {t["kind"]: t["balance"] for t in rep["totals"] if t["currency"] == currency}
    assert sum(out.values()) == 0, rep["totals"]
    return out


def nonzero(t):
    return {k: v for k, v in t.items() if v}


def account(c, admin_token, account_id):
    """The balance of one ledger account (0 when it does not exist)."""
    for a in ledger(c, admin_token)["accounts"]:
        if a["id"] == account_id:
            return a["balance"]
    return 0


def ledger_verify(target):
    """`opx ledger verify --db` on a server's database (db_url) or on the
    database a URL or path names: (exit status, stdout + stderr)."""
    db = db_url(target) if hasattr(target, "db") else str(target)
    out = subprocess.run([opx_bin(), "ledger", "verify", "--db", db], capture_output=True, text=True, timeout=30)
    return out.returncode, out.stdout + out.stderr


def state(c, token, kid):
    """A contract's money at a glance: (escrow, [(status, escrow) per milestone])."""
    k = get_contract(c, token, kid)
    assert k["escrow"] == sum(m["escrow"] for m in k["milestones"]), k
    return k["escrow"], [(m["status"], m["escrow"]) for m in k["milestones"]]


def money_pair(c, admin, client, **request_over):
    """talk_pair: a request of client whose rank-1 engineer accepted (dict(request,
    candidate, engineer, conversation))."""
    return talk_pair(c, admin, client, **request_over)


def active_contract(c, admin, client, amounts=(150000, 50000), currency="USD", pair=None):
    """An accepted fixed-price contract: (contract, engineer)."""
    p = pair or money_pair(c, admin, client)
    k = offer(c, client["token"], fixed_offer(p["candidate"]["id"], amounts, currency))
    k = contract_move(c, p["engineer"]["token"], k["id"], "accept")
    assert k["status"] == "active"
    return k, p["engineer"]


def invited_candidate(c, admin, client):
    """A candidate who is only invited (not accepted): (request, candidate, engineer)."""
    req = create_request(c, client["token"])
    k = req["candidates"][0]
    return req, k, demo_login(c, engineer_email(c, admin["token"], k["engineer_id"]))



# ---- hourly contracts and timesheets --------------------------------------------------------------------


def server_now(c):
    """The server's clock (it may have been moved) as an aware datetime."""
    return parse_time(advance_clock(c, 0)["now"])


def monday_of(day, weeks=0):
    """The Monday (YYYY-MM-DD) of the week holding day (a date or YYYY-MM-DD), plus weeks."""
    d = datetime.date.fromisoformat(day) if isinstance(day, str) else day
    return (d - datetime.timedelta(days=d.weekday()) + datetime.timedelta(weeks=weeks)).isoformat()


def hourly_contract(c, admin, client, rate=10000, cap=10, pair=None, **over):
    """An accepted hourly contract (its first week: this week, by the server's clock): (contract, engineer)."""
    p = pair or money_pair(c, admin, client)
    k = offer(c, client["token"], hourly_offer(p["candidate"]["id"], rate=rate, cap=cap, **over))
    k = contract_move(c, p["engineer"]["token"], k["id"], "accept")
    assert (k["status"], k["type"]) == ("active", "hourly")
    return k, p["engineer"]


def submit_timesheet(c, token, kid, week_start, hours, note="Worked on the retry path.", expect=201, body=None):
    """POST /api/v1/contracts/{id}/timesheets: the Timesheet on 201 (its Location checked), else the response."""
    r = c.post(f"{CONTRACTS}/{kid}/timesheets", headers=bearer(token),
               json=body if body is not None else {"week_start": week_start, "hours": hours, "note": note})
    assert r.status_code == expect, r.text
    if expect != 201:
        return r
    t = r.json()
    assert r.headers["location"] == f"{TIMESHEETS}/{t['id']}"
    return t


def approve_timesheet(c, token, tid, key=None, expect=200, **kw):
    """POST /api/v1/timesheets/{id}/approve with an Idempotency-Key (a new one unless given): the response."""
    r = c.post(f"{TIMESHEETS}/{tid}/approve", headers={**bearer(token), "Idempotency-Key": key or new_key()}, **kw)
    assert expect is None or r.status_code == expect, r.text
    return r


# ---- reviews -----------------------------------------------------------------------------------------------


def review(c, token, kid, rating=5, comment="Clear communication, solid work.", expect=201, body=None):
    """POST /api/v1/contracts/{id}/review: the Reviews on 201, else the response."""
    r = c.post(f"{CONTRACTS}/{kid}/review", headers=bearer(token),
               json=body if body is not None else {"rating": rating, "comment": comment})
    assert expect is None or r.status_code == expect, r.text
    return r.json() if expect == 201 else r


def reviews(c, token, kid, expect=200):
    """GET /api/v1/contracts/{id}/reviews: the Reviews on 200, else the response."""
    r = c.get(f"{CONTRACTS}/{kid}/reviews", headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json() if expect == 200 else r
