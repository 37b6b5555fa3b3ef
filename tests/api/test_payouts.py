"""Money out: card refunds and payouts (the contract: schema v8).

Escrow going back to a client -- a contract ended with funded milestones, a
dispute resolved with a refund, the unworked rest of an hourly week -- is a
refund row (GET /api/v1/admin/refunds) sent to the card by a job with the
row's id as the gateway's idempotency key; a refused refund holds the money
for the client (client_funding) until an admin sends it again. A payout run
(POST /api/v1/admin/payouts, or every --payout-interval) turns each
engineer's payable balance of at least --payout-min into one payout per
currency (payable -> paid_out at once); a failed or reversed payout is
payable again. Under the stripe gateway (tests/fakes/stripe_fake.py) a
refund is POST /v1/refunds against the charge's PaymentIntent and a payout
POST /v1/transfers to the engineer's connected account; webhooks settle
pending refunds and take reversed transfers back; a Stripe that is down is
retried with backoff until it answers, moving the money exactly once.
`opx ledger verify` holds the ledger to the refund and payout rows.

Each money test runs on a demo population of its own; the validation and
role tests share one."""
import pathlib
import re
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "fakes"))
from stripe_fake import StripeFake  # noqa: E402

from mailtest import outbox  # noqa: E402
from moneytest import (ID, account, active_contract, approve, approve_timesheet, balances, contract_move,  # noqa: E402
                       dispute, fee, fixed_offer, fund, hourly_contract, ledger, ledger_verify, money_env,
                       money_pair, monday_of, new_key, nonzero, offer, replayed, resolve, server_now, submit,
                       submit_timesheet, totals)
from opxtest import (Event, Server, accept, advance_clock, assert_problem, bearer, create_request,  # noqa: E402
                     demo_login, engineer_email, open_events, seeded_workdir, stop_checked, wait_for)

REFUNDS = "/api/v1/admin/refunds"
PAYOUTS = "/api/v1/admin/payouts"
MY_PAYOUTS = "/api/v1/me/payouts"
ACCOUNT = "/api/v1/me/payout-account"
BALANCE = "/api/v1/me/balance"
WEBHOOK = "/api/v1/webhooks/stripe"
TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
SETTLE_S = 8.0  # jobs run every second (at once after a clock move): a row settles well within this


# ---- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture
def money(spawn, tmp_path_factory):
    return money_env(spawn, tmp_path_factory)


def _stripe_env(spawn, tmp_path_factory, monkeypatch, *extra):
    fake = StripeFake().start()
    for k, v in fake.env().items():
        monkeypatch.setenv(k, v)
    srv = spawn("--login-ip-burst", "1000", *fake.server_args(), "--stripe-timeout", "400", *extra,
                workdir=seeded_workdir(tmp_path_factory))
    c = srv.client()
    return {"fake": fake, "srv": srv, "c": c, "admin": demo_login(c, "admin@demo.opx"),
            "client": demo_login(c, "client@demo.opx")}


@pytest.fixture
def stripe(spawn, tmp_path_factory, monkeypatch):
    env = _stripe_env(spawn, tmp_path_factory, monkeypatch)
    yield env
    env["fake"].stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory, contract):
    """One demo server for the validation and role tests (they move no money)."""
    srv = Server(seeded_workdir(tmp_path_factory, "payouts-shared"), ["--login-ip-burst", "1000"],
                 contract=contract).start()
    try:
        c = srv.client()
        admin, cl = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
        en = money_pair(c, admin, cl)["engineer"]
        yield {"srv": srv, "c": c, "admin": admin, "client": cl, "engineer": en}
    finally:
        stop_checked(srv)


# ---- helpers ------------------------------------------------------------------------------------------------


def page(c, token, path, expect=200, **params):
    r = c.get(path, params=params, headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json() if expect == 200 else r


def items(c, token, path, **params):
    """Every item of a list (newest first), following next_cursor."""
    out, before = [], None
    for _ in range(100):
        q = dict(params, limit=100)
        if before:
            q["before"] = before
        p = page(c, token, path, **q)
        out += p["items"]
        before = p["next_cursor"]
        if before is None:
            return out
    raise AssertionError("next_cursor never ran out")


def walk(c, token, path, limit, **params):
    """Every item, limit per page: (items, number of pages)."""
    out, before, pages = [], None, 0
    for _ in range(1000):
        q = dict(params, limit=limit)
        if before is not None:
            q["before"] = before
        p = page(c, token, path, **q)
        pages += 1
        assert len(p["items"]) <= limit, p
        out += p["items"]
        before = p["next_cursor"]
        if before is None:
            return out, pages
        assert re.fullmatch(r"c[1-9][0-9]*", before), before
        assert len(p["items"]) == limit, "a page with a next_cursor is full"
    raise AssertionError("next_cursor never ran out")


def settle(c, token, path, n, status, timeout=SETTLE_S, **params):
    """Waits until the list holds exactly n items, all in status; returns them."""
    def check():
        got = items(c, token, path, **params)
        return got if len(got) == n and all(x["status"] == status for x in got) else None
    return wait_for(check, timeout, f"{n} {path} rows {status}")


def run_payouts(c, admin_token, key=None, expect=201, **kw):
    """POST /api/v1/admin/payouts with an Idempotency-Key (a new one unless given): the response."""
    h = {**bearer(admin_token)}
    h.update(kw.pop("headers", {}))
    if key is not False:
        h["Idempotency-Key"] = key or new_key()
    r = c.post(PAYOUTS, headers=h, **kw)
    assert expect is None or r.status_code == expect, r.text
    return r


def retry_refund(c, admin_token, rid, key=None, expect=202, **kw):
    h = {**bearer(admin_token)}
    h.update(kw.pop("headers", {}))
    if key is not False:
        h["Idempotency-Key"] = key or new_key()
    r = c.post(f"{REFUNDS}/{rid}/retry", headers=h, **kw)
    assert expect is None or r.status_code == expect, r.text
    return r


def set_account(c, token, acct, expect=200):
    r = c.put(ACCOUNT, json={"stripe_account": acct}, headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json()


def refund_row(r, **want):
    """A RefundOut: every field present, the fixed ones as expected."""
    assert set(r) == {"id", "kind", "status", "amount", "currency", "gateway", "gateway_ref", "error", "attempts",
                      "created_at", "updated_at", "client_id", "contract_id", "milestone_id"}, r
    assert re.fullmatch(f"ref_{ID}", r["id"]) and r["kind"] == "refund", r
    assert re.fullmatch(TIME, r["created_at"]) and re.fullmatch(TIME, r["updated_at"]), r
    assert r["created_at"] <= r["updated_at"], r
    for k, v in want.items():
        assert r[k] == v, (k, r)
    return r


def payout_row(p, **want):
    assert set(p) == {"id", "kind", "status", "amount", "currency", "gateway", "gateway_ref", "error", "attempts",
                      "created_at", "updated_at", "engineer_id", "batch_id", "destination"}, p
    assert re.fullmatch(f"po_{ID}", p["id"]) and p["kind"] == "payout", p
    assert re.fullmatch(f"pob_{ID}", p["batch_id"]), p
    assert re.fullmatch(TIME, p["created_at"]) and re.fullmatch(TIME, p["updated_at"]), p
    for k, v in want.items():
        assert p[k] == v, (k, p)
    return p


def balance(c, token, currency="USD"):
    return balances(c, token).get(currency)


def released(c, cl, en, k, which=None):
    """Funds, submits and approves the contract's milestones (all, or the indexes in which)."""
    ms = k["milestones"] if which is None else [k["milestones"][i] for i in which]
    for m in ms:
        fund(c, cl["token"], m["id"])
        submit(c, en["token"], m["id"])
        approve(c, cl["token"], m["id"])


def pair_rank(c, admin, cl, avoid=()):
    """A request of cl whose best-ranked candidate not among the engineer ids in avoid accepted:
    (candidate, engineer signed in)."""
    req = create_request(c, cl["token"], title=f"Project {len(avoid) + 1}")
    k = next((x for x in req["candidates"] if x["engineer_id"] not in avoid), None)
    assert k is not None, req["candidates"]
    en = demo_login(c, engineer_email(c, admin["token"], k["engineer_id"]))
    accept(c, en["token"], k["id"])
    return k, en


def contract_with(c, cl, cand, en, amounts, currency="USD"):
    k = offer(c, cl["token"], fixed_offer(cand["id"], amounts, currency))
    return contract_move(c, en["token"], k["id"], "accept")


def another_candidacy(c, cl, en):
    """A second request of cl that en (not yet busy with a contract: matching then leaves them out) is
    invited to and accepts: the candidate."""
    req = create_request(c, cl["token"], title="Another project")
    mine = [x for x in req["candidates"] if x["engineer_id"] == en["id"]]
    assert len(mine) == 1, req["candidates"]
    accept(c, en["token"], mine[0]["id"])
    return mine[0]


def verify_ok(srv):
    rc, out = ledger_verify(srv)
    assert rc == 0 and out.endswith("OK: 0 violations\n"), out
    return out


def webhook(env, event_type, obj):
    payload, sig = env["fake"].webhook(event_type, obj)
    r = env["c"].post(WEBHOOK, content=payload, headers={"Stripe-Signature": sig, "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    return r.json()


MONEY_OUT_EVENTS = ("refund.succeeded", "refund.failed", "payout.succeeded", "payout.failed", "payout.reversed")


def kinds(events, prefix):
    return [(e.event, e.data) for e in events if isinstance(e, Event) and e.event.startswith(prefix)]


# ---- 1. sandbox refunds ------------------------------------------------------------------------------------


def test_ending_a_contract_refunds_each_funded_milestone_to_the_card(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(30000, 20000, 10000))
    kid = k["id"]
    m1, m2, m3 = (m["id"] for m in k["milestones"])
    fund(c, cl["token"], m1)
    fund(c, cl["token"], m3)
    assert items(c, admin["token"], REFUNDS) == []

    with open_events(srv, cl["token"]) as stream:
        ended = contract_move(c, cl["token"], kid, "end")
        assert [(m["status"], m["escrow"]) for m in ended["milestones"]] == [
            ("refunded", 0), ("refunded", 0), ("refunded", 0)]
        # a row per funded milestone, made with the move (newest first); the pending m2 moved nothing
        first = items(c, admin["token"], REFUNDS)
        assert [(r["milestone_id"], r["amount"]) for r in first] == [(m3, 10000), (m1, 30000)], first
        for r in first:
            refund_row(r, kind="refund", currency="USD", gateway="sandbox", client_id=cl["id"], contract_id=kid,
                       error=None, attempts=0)
            assert r["status"] in ("pending", "succeeded"), r
        # the sandbox refunds at once: succeeded within a job tick
        rows = settle(c, admin["token"], REFUNDS, 2, "succeeded")
        events = stream.quiet_events(quiet=0.5)
    assert [r["id"] for r in rows] == [r["id"] for r in first] and len({r["id"] for r in rows}) == 2
    for r, before in zip(rows, first):
        refund_row(r, **{k: before[k] for k in ("id", "amount", "currency", "milestone_id", "created_at")},
                   status="succeeded", error=None, attempts=0)
        assert re.fullmatch(r"re_sandbox_[0-9a-f]{24}", r["gateway_ref"]), r
    assert rows[0]["gateway_ref"] != rows[1]["gateway_ref"]
    assert page(c, admin["token"], REFUNDS, status="pending")["items"] == []
    assert page(c, admin["token"], REFUNDS, status="failed") == {"items": [], "next_cursor": None}
    assert items(c, admin["token"], REFUNDS, status="succeeded") == rows

    # the client hears of each refund
    got = kinds(events, "refund.")
    assert sorted(got, key=lambda e: e[1]["amount"]) == [
        ("refund.succeeded", {"id": rows[0]["id"], "kind": "refund", "status": "succeeded", "amount": 10000,
                              "currency": "USD", "contract_id": kid, "milestone_id": m3, "batch_id": None,
                              "error": None}),
        ("refund.succeeded", {"id": rows[1]["id"], "kind": "refund", "status": "succeeded", "amount": 30000,
                              "currency": "USD", "contract_id": kid, "milestone_id": m1, "batch_id": None,
                              "error": None})], events
    mails = [m for m in outbox(c, admin["token"]) if m["kind"] == "refund.succeeded"]
    assert sorted(m["to"] for m in mails) == [cl["email"]] * 2, mails

    # the money left escrow at the end; the refunds moved nothing more in the ledger
    assert nonzero(totals(c, admin["token"])) == {}
    assert account(c, admin["token"], f"client_funding:{cl['id']}:USD") == 0
    assert ledger(c, admin["token"])["verify"]["ok"] is True
    verify_ok(srv)


def test_a_dispute_split_and_an_hourly_weeks_rest_are_refunded_with_their_amounts(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(150000, 40000, 20000))
    m1, m2, m3 = (m["id"] for m in k["milestones"])
    for m in (m1, m2, m3):
        fund(c, cl["token"], m)
    d1 = dispute(c, cl["token"], m1)
    d2 = dispute(c, cl["token"], m2)
    d3 = dispute(c, cl["token"], m3)
    resolve(c, admin["token"], d1["id"], 100000, 50000)  # the refund part only
    resolve(c, admin["token"], d2["id"], 40000, 0)  # nothing back: no refund row
    resolve(c, admin["token"], d3["id"], 0, 20000)  # all back
    rows = settle(c, admin["token"], REFUNDS, 2, "succeeded")
    assert [(r["milestone_id"], r["amount"], r["contract_id"]) for r in rows] == [
        (m3, 20000, k["id"]), (m1, 50000, k["id"])], rows

    # an hourly week: 7 of 10 hours approved, the other 3 hours' escrow goes back
    h, hen = hourly_contract(c, admin, cl, rate=10000, cap=10)
    [w1] = h["milestones"]
    fund(c, cl["token"], w1["id"])
    t = submit_timesheet(c, hen["token"], h["id"], monday_of(server_now(c).date()), 7)
    approve_timesheet(c, cl["token"], t["id"])
    rows = settle(c, admin["token"], REFUNDS, 3, "succeeded")
    newest = refund_row(rows[0], milestone_id=w1["id"], contract_id=h["id"], client_id=cl["id"], amount=30000,
                        currency="USD", gateway="sandbox", status="succeeded", error=None, attempts=0)
    assert re.fullmatch(r"re_sandbox_[0-9a-f]{24}", newest["gateway_ref"])
    assert sum(r["amount"] for r in rows) == 100000

    assert totals(c, admin["token"]) == {
        "gateway_clearing": -(100000 + 40000 + 70000), "client_funding": 0, "escrow": 0,
        "payable": 140000 - fee(140000) + 70000 - fee(70000), "revenue": fee(140000) + fee(70000)}
    verify_ok(srv)


def test_the_money_out_events_are_documented(money):
    """refund.succeeded / refund.failed go to the client (failed: and every admin), payout.* to the engineer
    (failed, reversed: and every admin): GET /api/v1/events must document each kind (x-events) and the data
    the server sends must match it."""
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(20000, 10000))
    released(c, cl, en, k, which=[0])
    fund(c, cl["token"], k["milestones"][1]["id"])
    with open_events(srv, cl["token"]) as cs, open_events(srv, en["token"]) as es:
        contract_move(c, cl["token"], k["id"], "end")
        run_payouts(c, admin["token"])
        settle(c, admin["token"], REFUNDS, 1, "succeeded")
        settle(c, admin["token"], PAYOUTS, 1, "succeeded")
        seen = kinds(cs.quiet_events(quiet=0.5), "refund.") + kinds(es.quiet_events(quiet=0.5), "payout.")
    assert [kind for kind, _ in seen] == ["refund.succeeded", "payout.succeeded"], seen
    documented = srv.contract.event_schemas()
    missing = [kind for kind in MONEY_OUT_EVENTS if kind not in documented]
    assert missing == [], f"x-events of GET /api/v1/events does not document {missing}"
    for kind, data in seen:
        srv.contract.check_event(Event(1, kind, data))


# ---- 2. sandbox payouts -----------------------------------------------------------------------------------


def test_a_payout_run_pays_each_engineers_payable_per_currency_once(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    cand_a, a = pair_rank(c, admin, cl)
    cand_a2 = another_candidacy(c, cl, a)
    cand_b, b = pair_rank(c, admin, cl, avoid={a["id"]})
    usd = contract_with(c, cl, cand_a, a, (50000, 7000))
    eur = contract_with(c, cl, cand_a2, a, (30000,), "EUR")
    released(c, cl, a, usd, which=[0])  # A: 45000 USD payable, 7000 funded (pending)
    fund(c, cl["token"], usd["milestones"][1]["id"])
    released(c, cl, a, eur)  # A: 27000 EUR
    released(c, cl, b, contract_with(c, cl, cand_b, b, (100000,)))  # B: 90000 USD
    assert balance(c, a["token"]) == {"currency": "USD", "payable": 45000, "paid_out": 0, "in_transit": 0,
                                      "pending": 7000}
    assert page(c, a["token"], MY_PAYOUTS) == {"items": [], "next_cursor": None}

    # Idempotency-Key is required; the body is empty or {}
    assert_problem(run_payouts(c, admin["token"], key=False, expect=400), 400, "idempotency-key",
                   ["Idempotency-Key"])
    assert_problem(run_payouts(c, admin["token"], json={"dry_run": True}, expect=422), 422, "validation",
                   ["dry_run"])
    assert_problem(run_payouts(c, admin["token"], content=b"now", headers={"Content-Type": "text/plain"},
                               expect=None), 415, "unsupported-media-type")
    assert items(c, admin["token"], PAYOUTS) == []

    with open_events(srv, a["token"]) as stream:
        key = new_key()
        r = run_payouts(c, admin["token"], key=key)
        assert not replayed(r)
        batch = r.json()
        assert set(batch) == {"batch_id", "payouts", "skipped", "more"}
        assert re.fullmatch(f"pob_{ID}", batch["batch_id"])
        assert (batch["skipped"], batch["more"]) == (0, False)
        # one payout per (engineer, currency), largest first, pending, to "sandbox" (no account needed)
        assert [(p["engineer_id"], p["currency"], p["amount"]) for p in batch["payouts"]] == [
            (b["id"], "USD", 90000), (a["id"], "USD", 45000), (a["id"], "EUR", 27000)]
        for p in batch["payouts"]:
            payout_row(p, status="pending", gateway="sandbox", gateway_ref=None, error=None, attempts=0,
                       batch_id=batch["batch_id"], destination="sandbox")
            assert p["created_at"] == p["updated_at"]
        assert len({p["id"] for p in batch["payouts"]}) == 3

        # the replay is the first answer byte for byte; another body with the key is 409
        again = run_payouts(c, admin["token"], key=key)
        assert (again.status_code, again.content, replayed(again)) == (201, r.content, True)
        assert_problem(run_payouts(c, admin["token"], key=key, json={}, expect=409), 409, "idempotency-key-reuse",
                       ["Idempotency-Key"])

        paid = settle(c, admin["token"], PAYOUTS, 3, "succeeded")
        events = stream.quiet_events(quiet=0.5)
    assert sorted(p["id"] for p in paid) == sorted(p["id"] for p in batch["payouts"])
    for p in paid:
        payout_row(p, status="succeeded", error=None, attempts=0, batch_id=batch["batch_id"], gateway="sandbox")
        assert re.fullmatch(r"tr_sandbox_[0-9a-f]{24}", p["gateway_ref"]), p
    by_id = {p["id"]: p for p in paid}

    # the engineers' balances: nothing payable or in transit, the amount paid out
    assert balances(c, a["token"]) == {
        "EUR": {"currency": "EUR", "payable": 0, "paid_out": 27000, "in_transit": 0, "pending": 0},
        "USD": {"currency": "USD", "payable": 0, "paid_out": 45000, "in_transit": 0, "pending": 7000}}
    assert balances(c, b["token"]) == {
        "USD": {"currency": "USD", "payable": 0, "paid_out": 90000, "in_transit": 0, "pending": 0}}
    # each sees their own payouts only (newest first); admins see all
    mine_a = page(c, a["token"], MY_PAYOUTS)
    assert mine_a["next_cursor"] is None
    assert sorted(p["id"] for p in mine_a["items"]) == sorted(p["id"] for p in batch["payouts"][1:])
    assert all(p == by_id[p["id"]] for p in mine_a["items"])
    assert [p["id"] for p in page(c, b["token"], MY_PAYOUTS)["items"]] == [batch["payouts"][0]["id"]]
    assert page(c, a["token"], MY_PAYOUTS, status="pending")["items"] == []
    got = kinds(events, "payout.")
    assert sorted(got, key=lambda e: e[1]["amount"]) == [
        ("payout.succeeded", {"id": p["id"], "kind": "payout", "status": "succeeded", "amount": p["amount"],
                              "currency": p["currency"], "contract_id": None, "milestone_id": None,
                              "batch_id": batch["batch_id"], "error": None})
        for p in sorted(batch["payouts"][1:], key=lambda p: p["amount"])], events

    # a replay is still the first answer, whatever happened since
    late = run_payouts(c, admin["token"], key=key)
    assert (late.status_code, late.content, replayed(late)) == (201, r.content, True)
    # nothing owed: the next run is an empty batch
    empty = run_payouts(c, admin["token"]).json()
    assert re.fullmatch(f"pob_{ID}", empty["batch_id"]) and empty["batch_id"] != batch["batch_id"]
    assert (empty["payouts"], empty["skipped"], empty["more"]) == ([], 0, False)
    assert len(items(c, admin["token"], PAYOUTS)) == 3

    t = totals(c, admin["token"])
    assert (t["payable"], t["paid_out"]) == (0, 135000), t
    assert account(c, admin["token"], f"paid_out:{a['id']}:EUR") == 27000
    assert totals(c, admin["token"], "EUR") == {"gateway_clearing": -30000, "client_funding": 0, "escrow": 0,
                                                "payable": 0, "paid_out": 27000, "revenue": 3000}
    verify_ok(srv)


def test_balances_under_the_payout_min_wait_for_a_later_run(spawn, tmp_path_factory):
    srv = spawn("--login-ip-burst", "1000", "--payout-min", "45000", workdir=seeded_workdir(tmp_path_factory))
    c = srv.client()
    admin, cl = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    k, en = active_contract(c, admin, cl, amounts=(50000, 30000, 20000))
    released(c, cl, en, k, which=[1])  # payable 27000 < 45000
    batch = run_payouts(c, admin["token"]).json()
    assert (batch["payouts"], batch["skipped"], batch["more"]) == ([], 0, False)
    assert balance(c, en["token"])["payable"] == 27000

    released(c, cl, en, k, which=[2])  # 27000 + 18000 = 45000: exactly the minimum is paid
    batch = run_payouts(c, admin["token"]).json()
    assert [(p["engineer_id"], p["amount"], p["currency"]) for p in batch["payouts"]] == [(en["id"], 45000, "USD")]
    settle(c, admin["token"], PAYOUTS, 1, "succeeded")
    assert balance(c, en["token"]) == {"currency": "USD", "payable": 0, "paid_out": 45000, "in_transit": 0,
                                       "pending": 0}
    verify_ok(srv)


def test_the_recurring_run_pays_out_every_payout_interval_by_the_test_clock(spawn, tmp_path_factory):
    srv = spawn("--login-ip-burst", "1000", "--payout-interval", "3600", workdir=seeded_workdir(tmp_path_factory))
    c = srv.client()
    admin, cl = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    k, en = active_contract(c, admin, cl, amounts=(10000, 20000))
    released(c, cl, en, k, which=[0])  # 9000 payable

    # not before the interval is up (a job tick after the move, nothing)
    advance_clock(c, 3000)
    time.sleep(1.2)
    assert items(c, admin["token"], PAYOUTS) == []
    assert balance(c, en["token"])["payable"] == 9000

    advance_clock(c, 700)  # past start + 3600
    [p] = settle(c, admin["token"], PAYOUTS, 1, "succeeded")
    payout_row(p, engineer_id=en["id"], amount=9000, currency="USD", destination="sandbox", gateway="sandbox")
    assert balance(c, en["token"]) == {"currency": "USD", "payable": 0, "paid_out": 9000, "in_transit": 0,
                                       "pending": 0}

    # it rescheduled itself: the next balance goes out one interval later, in a batch of its own
    released(c, cl, en, k, which=[1])  # 18000 payable
    advance_clock(c, 3700)
    rows = settle(c, admin["token"], PAYOUTS, 2, "succeeded")
    assert [(x["amount"], x["engineer_id"]) for x in rows] == [(18000, en["id"]), (9000, en["id"])]
    assert rows[0]["batch_id"] != rows[1]["batch_id"]
    assert balance(c, en["token"])["paid_out"] == 27000
    verify_ok(srv)


# ---- 3. stripe ---------------------------------------------------------------------------------------------


def _funded_then_ended(env, amounts=(150000,)):
    """An active contract whose milestones are funded through the fake, then ended:
    (contract, engineer, [milestone ids])."""
    c, cl = env["c"], env["client"]
    k, en = active_contract(c, env["admin"], cl, amounts=amounts)
    mids = [m["id"] for m in k["milestones"]]
    for mid in mids:
        r = fund(c, cl["token"], mid, payment_method="pm_card_visa")
        assert r.json()["status"] == "funded"
    contract_move(c, cl["token"], k["id"], "end")
    return k, en, mids


def test_a_stripe_refund_is_one_refund_of_the_charges_intent_settled_by_webhook(stripe):
    fake, c, admin, cl = stripe["fake"], stripe["c"], stripe["admin"], stripe["client"]
    fake.refund_status = "pending"
    k, en, [mid] = _funded_then_ended(stripe)
    [charge] = fake.charge_list

    # sent: the refund waits, pending, with Stripe's id
    [row] = wait_for(lambda: [r for r in items(c, admin["token"], REFUNDS) if r["gateway_ref"]], SETTLE_S,
                     "the refund sent to Stripe")
    [sent] = fake.refund_list
    refund_row(row, status="pending", amount=150000, currency="USD", gateway="stripe", gateway_ref=sent["id"],
               error=None, attempts=0, client_id=cl["id"], contract_id=k["id"], milestone_id=mid)
    assert re.fullmatch(r"re_[0-9a-f]{24}", sent["id"])
    assert (sent["payment_intent"], sent["amount"], sent["idempotency_key"]) == (charge["id"], 150000, row["id"])
    assert sent["metadata"] == {"opx_payment_id": row["id"], "opx_milestone_id": mid}
    [req] = [x for x in fake.log if x["path"] == "/v1/refunds"]
    assert req["headers"]["authorization"] == f"Bearer {fake.secret}" and req["key"] == row["id"]
    assert fake.refunds == 1
    # a refund that has not failed is not sent again
    body = assert_problem(retry_refund(c, admin["token"], row["id"], expect=409), 409, "refund-state")
    assert body["state"] == "pending", body

    # Stripe settles it: refund.updated succeeded applies once
    fake.refund_set_status(sent["id"], "succeeded")
    obj = {"id": sent["id"], "object": "refund", "status": "succeeded", "amount": 150000,
           "payment_intent": charge["id"], "metadata": {"opx_payment_id": row["id"], "opx_milestone_id": mid}}
    with open_events(stripe["srv"], cl["token"]) as stream:
        assert webhook(stripe, "refund.updated", obj) == {"received": True, "applied": True}
        events = stream.quiet_events(quiet=0.5)
    [done] = items(c, admin["token"], REFUNDS)
    refund_row(done, id=row["id"], status="succeeded", gateway_ref=sent["id"], error=None, amount=150000)
    assert [e for e, _ in kinds(events, "refund.")] == ["refund.succeeded"]
    assert webhook(stripe, "refund.updated", obj) == {"received": True, "applied": False}
    # an unknown refund, or a status that settles nothing: acknowledged, nothing applied
    assert webhook(stripe, "refund.updated", {**obj, "metadata": {"opx_payment_id": "ref_00000000000000000000"}}) \
        == {"received": True, "applied": False}
    assert webhook(stripe, "refund.updated", {**obj, "status": "pending"}) == {"received": True, "applied": False}
    assert items(c, admin["token"], REFUNDS) == [done]
    assert fake.refunds == 1
    assert nonzero(totals(c, admin["token"])) == {}
    verify_ok(stripe["srv"])

    # the card issuer refuses it after all (charge.refund.updated failed): held for the client, once
    fake.refund_set_status(sent["id"], "failed")
    bad = {**obj, "status": "failed", "failure_reason": "expired_or_canceled_card"}
    assert webhook(stripe, "charge.refund.updated", bad) == {"received": True, "applied": True}
    assert webhook(stripe, "charge.refund.updated", bad) == {"received": True, "applied": False}
    [late] = items(c, admin["token"], REFUNDS)
    refund_row(late, id=row["id"], status="failed", gateway_ref=sent["id"],
               error="refund_failed: expired_or_canceled_card")
    assert account(c, admin["token"], f"client_funding:{cl['id']}:USD") == 150000
    assert nonzero(totals(c, admin["token"])) == {"gateway_clearing": -150000, "client_funding": 150000}
    verify_ok(stripe["srv"])


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_a_pending_refund_without_a_webhook_is_asked_about_every_hour_until_it_settles(stripe, outcome):
    """No webhook comes (none configured, or lost): the refund's job asks Stripe
    (GET /v1/refunds/{id}) an hour later, and every hour while it stays pending."""
    fake, c, admin, cl = stripe["fake"], stripe["c"], stripe["admin"], stripe["client"]
    fake.refund_status = "pending"
    k, en, [mid] = _funded_then_ended(stripe)
    [row] = wait_for(lambda: [r for r in items(c, admin["token"], REFUNDS) if r["gateway_ref"]], SETTLE_S,
                     "the refund sent to Stripe")
    [sent] = fake.refund_list
    reads = lambda: [x for x in fake.log if x["method"] == "GET" and x["path"] == f"/v1/refunds/{sent['id']}"]
    time.sleep(1.5)
    assert reads() == [], "asked before the hour"

    advance_clock(c, 3601)  # still pending at Stripe: asked once, asked again an hour later
    wait_for(lambda: len(reads()) == 1, SETTLE_S, "the first status check")
    time.sleep(1.5)
    refund_row(items(c, admin["token"], REFUNDS)[0], id=row["id"], status="pending", gateway_ref=sent["id"])
    assert len(reads()) == 1 and reads()[0]["headers"]["authorization"] == f"Bearer {fake.secret}"

    fake.refund_set_status(sent["id"], outcome)
    advance_clock(c, 3601)
    wait_for(lambda: items(c, admin["token"], REFUNDS)[0]["status"] == outcome, SETTLE_S, "the refund settled")
    assert len(reads()) == 2 and fake.refunds == 1
    if outcome == "succeeded":
        assert nonzero(totals(c, admin["token"])) == {}
    else:
        assert nonzero(totals(c, admin["token"])) == {"gateway_clearing": -150000, "client_funding": 150000}
    advance_clock(c, 3 * 3601)  # settled: nobody asks again
    time.sleep(1.5)
    assert len(reads()) == 2
    verify_ok(stripe["srv"])


@pytest.mark.parametrize("how", ["status-failed", "http-400"])
def test_a_refused_refund_is_held_for_the_client_and_an_admin_sends_it_again_once(stripe, how):
    fake, srv, c, admin, cl = stripe["fake"], stripe["srv"], stripe["c"], stripe["admin"], stripe["client"]
    k, en = active_contract(c, admin, cl, amounts=(80000,))
    mid = k["milestones"][0]["id"]
    assert fund(c, cl["token"], mid, payment_method="pm_card_visa").json()["status"] == "funded"
    if how == "status-failed":
        fake.refund_status = "failed"
    else:
        fake.fail_next(1, 400)
    funding = f"client_funding:{cl['id']}:USD"

    with open_events(srv, admin["token"]) as admins, open_events(srv, cl["token"]) as clients:
        contract_move(c, cl["token"], k["id"], "end")
        [failed] = settle(c, admin["token"], REFUNDS, 1, "failed")
        admin_events, client_events = admins.quiet_events(quiet=0.5), clients.quiet_events(quiet=0.5)
    refund_row(failed, amount=80000, currency="USD", gateway="stripe", client_id=cl["id"], contract_id=k["id"],
               milestone_id=mid, attempts=0)
    if how == "status-failed":
        assert failed["gateway_ref"] == fake.refund_list[0]["id"], failed
        assert failed["error"] == "refund_failed: the refund did not complete", failed
    else:
        assert failed["gateway_ref"] is None and fake.refunds == 0, failed
        assert failed["error"] == "declined: Injected 400.", failed
    # the money is held for the client; the ledger still verifies
    assert account(c, admin["token"], funding) == 80000
    assert nonzero(totals(c, admin["token"])) == {"gateway_clearing": -80000, "client_funding": 80000}
    verify_ok(srv)
    data = {"id": failed["id"], "kind": "refund", "status": "failed", "amount": 80000, "currency": "USD",
            "contract_id": k["id"], "milestone_id": mid, "batch_id": None, "error": failed["error"]}
    assert kinds(client_events, "refund.") == [("refund.failed", data)]
    assert kinds(admin_events, "refund.") == [("refund.failed", data)]
    assert [m["to"] for m in outbox(c, admin["token"]) if m["kind"] == "refund.failed"] == [cl["email"]]

    # admins only; a key is required
    for who in (cl, en):
        assert_problem(retry_refund(c, who["token"], failed["id"], expect=403), 403, "forbidden")
    assert_problem(retry_refund(c, admin["token"], failed["id"], key=False, expect=400), 400, "idempotency-key",
                   ["Idempotency-Key"])
    assert_problem(retry_refund(c, admin["token"], "ref_00000000000000000000", expect=404), 404, "not-found")

    # sent again: a new row, pending, the money back to clearing; it succeeds
    fake.refund_status = "succeeded"
    key = new_key()
    r = retry_refund(c, admin["token"], failed["id"], key=key)
    again = refund_row(r.json(), status="pending", amount=80000, currency="USD", gateway="stripe", gateway_ref=None,
                       error=None, attempts=0, client_id=cl["id"], contract_id=k["id"], milestone_id=mid)
    assert again["id"] != failed["id"]
    assert account(c, admin["token"], funding) == 0
    replay = retry_refund(c, admin["token"], failed["id"], key=key)
    assert (replay.status_code, replay.content, replayed(replay)) == (202, r.content, True)
    rows = wait_for(lambda: (lambda rs: rs if rs[0]["status"] == "succeeded" else None)(
        items(c, admin["token"], REFUNDS)), SETTLE_S, "the refund sent again to succeed")
    assert [(x["id"], x["status"]) for x in rows] == [(again["id"], "succeeded"), (failed["id"], "failed")]
    ok = [x for x in fake.refund_list if x["status"] == "succeeded"]
    assert len(ok) == 1 and (ok[0]["idempotency_key"], ok[0]["amount"]) == (again["id"], 80000), fake.refund_list
    assert rows[0]["gateway_ref"] == ok[0]["id"]
    assert account(c, admin["token"], funding) == 0
    assert nonzero(totals(c, admin["token"])) == {}
    verify_ok(srv)

    # once only: the old row again, or a refund that did not fail, is 409 refund-state
    body = assert_problem(retry_refund(c, admin["token"], failed["id"], expect=409), 409, "refund-state")
    assert body["state"] == "failed", body
    body = assert_problem(retry_refund(c, admin["token"], again["id"], expect=409), 409, "refund-state")
    assert body["state"] == "succeeded", body
    assert len(items(c, admin["token"], REFUNDS)) == 2 and account(c, admin["token"], funding) == 0


def test_stripe_payouts_need_a_payout_account_and_go_out_as_transfers(stripe):
    fake, srv, c, admin, cl = stripe["fake"], stripe["srv"], stripe["c"], stripe["admin"], stripe["client"]
    k, en = active_contract(c, admin, cl, amounts=(60000,))
    mid = k["milestones"][0]["id"]
    fund(c, cl["token"], mid, payment_method="pm_card_visa")
    submit(c, en["token"], mid)
    approve(c, cl["token"], mid)  # 54000 payable

    # no payout account: skipped, still payable
    batch = run_payouts(c, admin["token"]).json()
    assert (batch["payouts"], batch["skipped"], batch["more"]) == ([], 1, False)
    assert balance(c, en["token"]) == {"currency": "USD", "payable": 54000, "paid_out": 0, "in_transit": 0,
                                       "pending": 0}
    assert fake.transfers == 0

    acct = set_account(c, en["token"], "acct_good1")
    assert acct["stripe_account"] == "acct_good1"
    batch = run_payouts(c, admin["token"]).json()
    assert batch["skipped"] == 0 and not batch["more"]
    [p] = batch["payouts"]
    payout_row(p, status="pending", amount=54000, currency="USD", gateway="stripe", destination="acct_good1",
               engineer_id=en["id"], gateway_ref=None, attempts=0, error=None)
    [paid] = settle(c, admin["token"], PAYOUTS, 1, "succeeded")
    [tr] = fake.transfer_list
    assert (tr["destination"], tr["amount"], tr["currency"], tr["transfer_group"]) == (
        "acct_good1", 54000, "usd", batch["batch_id"])
    assert tr["metadata"] == {"opx_payout_id": p["id"]} and tr["idempotency_key"] == p["id"]
    payout_row(paid, id=p["id"], gateway_ref=tr["id"], error=None)
    assert balance(c, en["token"]) == {"currency": "USD", "payable": 0, "paid_out": 54000, "in_transit": 0,
                                       "pending": 0}
    verify_ok(srv)

    # Stripe reverses the transfer: the payout is reversed, the money payable again (once)
    obj = {"id": tr["id"], "object": "transfer", "amount": 54000, "currency": "usd", "reversed": True,
           "metadata": {"opx_payout_id": p["id"]}}
    with open_events(srv, en["token"]) as stream:
        assert webhook(stripe, "transfer.reversed", obj) == {"received": True, "applied": True}
        events = stream.quiet_events(quiet=0.5)
    [rev] = items(c, admin["token"], PAYOUTS)
    payout_row(rev, id=p["id"], status="reversed", gateway_ref=tr["id"])
    assert rev["error"], rev
    assert [e for e, _ in kinds(events, "payout.")] == ["payout.reversed"]
    assert webhook(stripe, "transfer.reversed", obj) == {"received": True, "applied": False}
    assert balance(c, en["token"]) == {"currency": "USD", "payable": 54000, "paid_out": 0, "in_transit": 0,
                                       "pending": 0}
    t = totals(c, admin["token"])
    assert (t["payable"], t["paid_out"]) == (54000, 0), t
    verify_ok(srv)
    assert page(c, en["token"], MY_PAYOUTS, status="reversed")["items"] == [rev]


def test_a_transfer_to_a_missing_account_fails_and_the_money_is_payable_again(stripe):
    fake, srv, c, admin, cl = stripe["fake"], stripe["srv"], stripe["c"], stripe["admin"], stripe["client"]
    k, en = active_contract(c, admin, cl, amounts=(20000,))
    mid = k["milestones"][0]["id"]
    fund(c, cl["token"], mid, payment_method="pm_card_visa")
    submit(c, en["token"], mid)
    approve(c, cl["token"], mid)  # 18000 payable
    set_account(c, en["token"], "acct_missing")

    with open_events(srv, en["token"]) as stream:
        [p] = run_payouts(c, admin["token"]).json()["payouts"]
        [failed] = settle(c, admin["token"], PAYOUTS, 1, "failed")
        events = stream.quiet_events(quiet=0.5)
    payout_row(failed, id=p["id"], destination="acct_missing", amount=18000, gateway="stripe", attempts=0,
               gateway_ref=None)
    assert failed["error"] == "resource_missing: No such destination: 'acct_missing'", failed
    assert fake.transfers == 0
    assert kinds(events, "payout.") == [("payout.failed", {
        "id": p["id"], "kind": "payout", "status": "failed", "amount": 18000, "currency": "USD",
        "contract_id": None, "milestone_id": None, "batch_id": p["batch_id"], "error": failed["error"]})]
    assert balance(c, en["token"]) == {"currency": "USD", "payable": 18000, "paid_out": 0, "in_transit": 0,
                                       "pending": 0}
    verify_ok(srv)
    # a failed payout cannot be reversed: nothing moves
    obj = {"id": "tr_never", "object": "transfer", "metadata": {"opx_payout_id": p["id"]}}
    assert webhook(stripe, "transfer.reversed", obj) == {"received": True, "applied": False}
    assert items(c, admin["token"], PAYOUTS) == [failed]
    assert balance(c, en["token"])["payable"] == 18000

    # fixed: the next run pays it
    set_account(c, en["token"], "acct_fixed2")
    [p2] = run_payouts(c, admin["token"]).json()["payouts"]
    assert (p2["amount"], p2["destination"]) == (18000, "acct_fixed2") and p2["id"] != p["id"]
    wait_for(lambda: page(c, admin["token"], PAYOUTS, status="succeeded")["items"], SETTLE_S, "the second payout")
    assert [t["destination"] for t in fake.transfer_list] == ["acct_fixed2"]
    assert balance(c, en["token"])["paid_out"] == 18000
    verify_ok(srv)


def test_a_stripe_that_keeps_failing_is_retried_later_and_moves_money_exactly_once(stripe):
    fake, srv, c, admin, cl = stripe["fake"], stripe["srv"], stripe["c"], stripe["admin"], stripe["client"]
    # a refund: three 500s in the adapter, then the job waits
    k, en = active_contract(c, admin, cl, amounts=(25000,))
    fund(c, cl["token"], k["milestones"][0]["id"], payment_method="pm_card_visa")
    fake.fail_next(3, 500)
    contract_move(c, cl["token"], k["id"], "end")
    [row] = wait_for(lambda: [r for r in items(c, admin["token"], REFUNDS) if r["attempts"] >= 1], SETTLE_S,
                     "the refund's first failed try")
    refund_row(row, status="pending", gateway_ref=None, amount=25000)
    assert row["error"] == "stripe: HTTP 500 (after 3 attempts)", row
    assert fake.by_key[row["id"]] == 3 and fake.refunds == 0

    # a payout: three 503s, pending, in transit
    k2, en2 = active_contract(c, admin, cl, amounts=(30000,))
    m2 = k2["milestones"][0]["id"]
    fund(c, cl["token"], m2, payment_method="pm_card_visa")
    submit(c, en2["token"], m2)
    approve(c, cl["token"], m2)
    set_account(c, en2["token"], "acct_slow3")
    fake.fail_next(3, 503)
    [p] = run_payouts(c, admin["token"]).json()["payouts"]
    [po] = wait_for(lambda: [x for x in items(c, admin["token"], PAYOUTS) if x["attempts"] >= 1], SETTLE_S,
                    "the payout's first failed try")
    payout_row(po, id=p["id"], status="pending", gateway_ref=None, amount=27000)
    assert po["error"] == "stripe: HTTP 503 (after 3 attempts)", po
    assert fake.by_key[p["id"]] == 3 and fake.transfers == 0
    assert balance(c, en2["token"]) == {"currency": "USD", "payable": 0, "paid_out": 27000, "in_transit": 27000,
                                        "pending": 0}
    verify_ok(srv)

    # later (past the backoff, at most an hour) both go through, once
    advance_clock(c, 3600)
    [ref] = settle(c, admin["token"], REFUNDS, 1, "succeeded")
    [paid] = settle(c, admin["token"], PAYOUTS, 1, "succeeded")
    assert (fake.refunds, fake.transfers) == (1, 1)
    assert fake.by_key[row["id"]] == 4 and fake.by_key[p["id"]] == 4
    assert ref["gateway_ref"] == fake.refund_list[0]["id"] and paid["gateway_ref"] == fake.transfer_list[0]["id"]
    assert ref["attempts"] == 1 and paid["attempts"] == 1  # the one job run that found Stripe down
    assert ref["error"] is None and paid["error"] is None
    assert balance(c, en2["token"]) == {"currency": "USD", "payable": 0, "paid_out": 27000, "in_transit": 0,
                                        "pending": 0}
    # nothing more happens on another hour
    advance_clock(c, 3600)
    time.sleep(1.2)
    assert (fake.refunds, fake.transfers) == (1, 1)
    verify_ok(srv)


# ---- 4. validation and roles --------------------------------------------------------------------------------


def test_a_payout_account_is_acct_and_letters_or_digits_and_bad_ones_store_nothing(shared):
    c, en = shared["c"], demo_login(shared["c"], "engineer150@demo.opx")
    h = bearer(en["token"])
    assert_problem(c.get(ACCOUNT, headers=h), 404, "not-found")
    for body in ({"stripe_account": "good1"}, {"stripe_account": "acct_"}, {"stripe_account": "acct_" + "a" * 61},
                 {"stripe_account": "acct_" + "a" * 100}, {"stripe_account": "acct_ab-1"},
                 {"stripe_account": "acct_ab c"}, {"stripe_account": "acct_ab\u00e9"}, {"stripe_account": "ACCT_ab1"},
                 {"stripe_account": 12}, {"stripe_account": None}, {"stripe_account": ["acct_a"]}, {}):
        r = c.put(ACCOUNT, json=body, headers=h)
        assert_problem(r, 422, "validation", ["stripe_account"])
    assert_problem(c.put(ACCOUNT, json={"stripe_account": "acct_ok1", "currency": "USD"}, headers=h), 422,
                   "validation", ["currency"])
    assert_problem(c.put(ACCOUNT, content=b"acct_ok1", headers={**h, "Content-Type": "text/plain"}), 415,
                   "unsupported-media-type")
    assert_problem(c.put(ACCOUNT, content=b'{"stripe_account": ', headers={**h, "Content-Type": "application/json"}),
                   400, "malformed-json")
    assert_problem(c.put(ACCOUNT, content=b"[]", headers={**h, "Content-Type": "application/json"}),
                   400, "malformed-json")
    assert_problem(c.put(ACCOUNT, json={"stripe_account": "acct_" + "a" * 2000}, headers=h), 413, "body-too-large")
    assert_problem(c.get(ACCOUNT, headers=h), 404, "not-found")

    longest = "acct_" + "Z9" * 30
    got = set_account(c, en["token"], longest)
    assert set(got) == {"stripe_account", "updated_at"} and got["stripe_account"] == longest
    assert re.fullmatch(TIME, got["updated_at"])
    assert c.get(ACCOUNT, headers=h).json() == got
    assert set_account(c, en["token"], "acct_1")["stripe_account"] == "acct_1"
    assert_problem(c.put(ACCOUNT, json={"stripe_account": "acct_"}, headers=h), 422, "validation", ["stripe_account"])
    assert c.get(ACCOUNT, headers=h).json()["stripe_account"] == "acct_1"


def test_payout_routes_are_the_engineers_and_admin_routes_the_admins(shared):
    c, admin, cl, en = shared["c"], shared["admin"], shared["client"], shared["engineer"]
    rid = "ref_00000000000000000000"
    engineer_only = [("GET", ACCOUNT, None), ("PUT", ACCOUNT, {"stripe_account": "acct_x1"}), ("GET", MY_PAYOUTS, None)]
    admin_only = [("GET", PAYOUTS, None), ("POST", PAYOUTS, None), ("GET", REFUNDS, None),
                  ("POST", f"{REFUNDS}/{rid}/retry", None)]

    def call(method, path, body, token):
        h = {"Idempotency-Key": new_key()}
        if token:
            h.update(bearer(token))
        return c.request(method, path, json=body, headers=h)

    for method, path, body in engineer_only:
        for who in (cl, admin):
            assert_problem(call(method, path, body, who["token"]), 403, "forbidden")
        assert_problem(call(method, path, body, None), 401, "unauthorized")
    for method, path, body in admin_only:
        for who in (cl, en):
            assert_problem(call(method, path, body, who["token"]), 403, "forbidden")
        assert_problem(call(method, path, body, None), 401, "unauthorized")
    # nothing was stored or run
    assert items(c, admin["token"], PAYOUTS) == []
    assert_problem(c.get(ACCOUNT, headers=bearer(en["token"])), 404, "not-found")


@pytest.mark.parametrize("path,who", [(MY_PAYOUTS, "engineer"), (PAYOUTS, "admin"), (REFUNDS, "admin")])
def test_list_queries_are_checked_naming_each_bad_field(shared, path, who):
    c, token = shared["c"], shared[who]["token"]
    for params, fields in [({"status": "bogus"}, ["status"]), ({"status": ""}, ["status"]),
                           ({"limit": "0"}, ["limit"]), ({"limit": "101"}, ["limit"]), ({"limit": "ten"}, ["limit"]),
                           ({"limit": "-1"}, ["limit"]), ({"limit": "5x"}, ["limit"]), ({"before": "x"}, ["before"]),
                           ({"before": "c0"}, ["before"]), ({"before": "c12x"}, ["before"]),
                           ({"before": "12"}, ["before"]),
                           ({"status": "bogus", "limit": "0", "before": "x"}, ["status", "limit", "before"])]:
        assert_problem(page(c, token, path, expect=400, **params), 400, "bad-query", fields)
    bad = "reversed" if path == REFUNDS else "refunded"
    assert_problem(page(c, token, path, expect=400, status=bad), 400, "bad-query", ["status"])
    for ok in ({"limit": "1"}, {"limit": "100"}, {"before": "c1"}, {"status": "pending"}):
        assert page(c, token, path, **ok)["items"] == []


def test_limit_1_pages_walk_every_payout_and_refund_once_newest_first(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    cand_a, a = pair_rank(c, admin, cl)
    cand_b, b = pair_rank(c, admin, cl, avoid={a["id"]})
    ka = contract_with(c, cl, cand_a, a, (10000, 20000, 30000, 40000))
    kb = contract_with(c, cl, cand_b, b, (50000, 60000))
    made = []
    for i in range(4):  # a run after each release: A is paid four times, B twice
        released(c, cl, a, ka, which=[i])
        if i < 2:
            released(c, cl, b, kb, which=[i])
        made += run_payouts(c, admin["token"]).json()["payouts"]
    assert len(made) == 6
    settle(c, admin["token"], PAYOUTS, 6, "succeeded")
    newest_first = [p["id"] for p in reversed(made)]

    for limit in (1, 2, 4, 100):
        got, pages = walk(c, admin["token"], PAYOUTS, limit)
        assert [p["id"] for p in got] == newest_first, limit
        assert pages == max(1, -(-6 // limit)), (limit, pages)
    mine, pages = walk(c, a["token"], MY_PAYOUTS, 1)
    assert [p["id"] for p in mine] == [p["id"] for p in reversed(made) if p["engineer_id"] == a["id"]]
    assert pages == 4 and [p["amount"] for p in mine] == [36000, 27000, 18000, 9000]
    mine_b, _ = walk(c, b["token"], MY_PAYOUTS, 1, status="succeeded")
    assert [p["amount"] for p in mine_b] == [54000, 45000]
    assert walk(c, b["token"], MY_PAYOUTS, 1, status="failed") == ([], 1)

    # refunds: a contract ended with three funded milestones
    k, _ = active_contract(c, admin, cl, amounts=(1000, 2000, 3000, 4000))
    for i in (0, 1, 3):
        fund(c, cl["token"], k["milestones"][i]["id"])
    contract_move(c, cl["token"], k["id"], "end")
    settle(c, admin["token"], REFUNDS, 3, "succeeded")
    got, pages = walk(c, admin["token"], REFUNDS, 1)
    assert pages == 3 and len({r["id"] for r in got}) == 3
    assert sorted(r["amount"] for r in got) == [1000, 2000, 4000]
    assert got == items(c, admin["token"], REFUNDS)
    got, pages = walk(c, admin["token"], REFUNDS, 2, status="succeeded")
    assert pages == 2 and len(got) == 3
    verify_ok(srv)
