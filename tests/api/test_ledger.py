"""Money: the escrow, disputes and the double-entry ledger. An admin
resolves a dispute by splitting the escrow (release + refund = escrow, the
fee on the released part only); the money POSTs (fund, approve, resolve)
follow Stripe's idempotency semantics -- a replay is the first answer byte
for byte and moves nothing, a reused key is 409, a running one 409 in use,
keys are per user, a declined card is a final 402 -- so that concurrent and
repeated requests move money exactly once. The ledger's entries are
append-only and `opx ledger verify` re-derives every balance from them:
a balance edited behind the server's back is caught. Each test runs on a
demo population of its own."""
import re
import threading
import time

import pytest

from moneytest import (conflict, money_env, replayed, MILESTONES, account, active_contract, approve, balances, contract_move, dispute, fee,
                       fixed_offer, fund, get_contract, ledger, ledger_verify, money_pair, new_key, nonzero, offer,
                       request_changes, resolve, state, submit, totals)
from opxtest import (DbError, Event, accept, advance_clock, assert_problem, bearer, create_request, db_rows, db_tamper,
                     demo_login, demo_server, open_events, seeded_workdir, signed_in, stop_checked, wait_for)


@pytest.fixture
def money(spawn, tmp_path_factory):
    return money_env(spawn, tmp_path_factory)






def fund_txns(srv, mid):
    return db_rows(srv, "SELECT count(*) FROM ledger_txns WHERE kind = 'fund' AND milestone_id = ?", mid)[0][0]


def payments(srv, mid):
    """The statuses of the milestone's gateway payments, sorted."""
    return sorted(r[0] for r in db_rows(srv, "SELECT status FROM payments WHERE milestone_id = ?", mid))


# ---- disputes ---------------------------------------------------------------------------------------------


def test_a_dispute_is_resolved_by_a_split_with_the_fee_on_the_released_part_only(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(150000, 50000))
    kid = k["id"]
    m1, m2 = (m["id"] for m in k["milestones"])
    fund(c, cl["token"], m1)
    fund(c, cl["token"], m2)
    submit(c, en["token"], m1)

    with open_events(srv, admin["token"]) as admins:
        d = dispute(c, cl["token"], m1, reason="The retry path is missing.")
        opened = [e for e in admins.quiet_events() if isinstance(e, Event)]
    assert re.fullmatch(r"dsp_[0-9a-z]{20}", d["id"])
    assert d == {"id": d["id"], "milestone_id": m1, "contract_id": kid, "status": "open", "opened_by": cl["id"],
                 "reason": "The retry path is missing.", "amount": 150000, "currency": "USD", "release": None,
                 "refund": None, "resolved_by": None, "created_at": d["created_at"], "resolved_at": None}
    assert [(e.event, e.data) for e in opened] == [
        ("admin.dispute_opened", {"dispute_id": d["id"], "milestone_id": m1, "contract_id": kid})]
    m = get_contract(c, en["token"], kid)["milestones"][0]
    assert (m["status"], m["dispute_id"], m["escrow"]) == ("disputed", d["id"], 150000)
    assert balances(c, en["token"])["USD"]["pending"] == 200000

    # while disputed nothing else moves it, and the contract cannot end
    conflict(approve(c, cl["token"], m1, expect=409), "milestone", "disputed")
    conflict(submit(c, en["token"], m1, expect=409), "milestone", "disputed")
    conflict(request_changes(c, cl["token"], m1, expect=409), "milestone", "disputed")
    conflict(dispute(c, en["token"], m1, expect=409), "milestone", "disputed")
    conflict(contract_move(c, cl["token"], kid, "end", expect=409), "milestone", "disputed")

    before = (totals(c, admin["token"]), get_contract(c, admin["token"], kid))
    url = f"/api/v1/disputes/{d['id']}/resolve"
    # admins only; an unknown dispute is 404
    for who in (cl, en):
        assert_problem(resolve(c, who["token"], d["id"], 100000, 50000, expect=403), 403, "forbidden")
    assert_problem(resolve(c, admin["token"], "dsp_00000000000000000000", 100000, 50000, expect=404), 404, "not-found")
    # a split that is not the escrow: 422 naming both, nothing moves, and the key is freed
    key = new_key()
    assert_problem(resolve(c, admin["token"], d["id"], 100000, 40000, key=key, expect=422), 422, "validation",
                   ["release", "refund"])
    assert_problem(resolve(c, admin["token"], d["id"], 150000, 1, key=new_key(), expect=422), 422, "validation",
                   ["release", "refund"])
    ha = {**bearer(admin["token"]), "Idempotency-Key": new_key()}
    for body, fields in [({"release": 0, "refund": 0}, ["release"]), ({"release": -1, "refund": 150001}, ["release"]),
                         ({"release": 150000}, ["refund"]), ({"release": "150000", "refund": 0}, ["release"]),
                         ({"release": 150000, "refund": 0, "note": "x"}, ["note"])]:
        assert_problem(c.post(url, json=body, headers=ha), 422, "validation", fields)
    assert (totals(c, admin["token"]), get_contract(c, admin["token"], kid)) == before

    # the right split, with the key the wrong one used
    r = resolve(c, admin["token"], d["id"], 100000, 50000, key=key)
    res = r.json()
    assert not replayed(r)
    assert res == {**d, "status": "resolved", "release": 100000, "refund": 50000, "resolved_by": admin["id"],
                   "resolved_at": res["resolved_at"]} and res["resolved_at"] is not None
    again = resolve(c, admin["token"], d["id"], 100000, 50000, key=key)
    assert (again.status_code, again.content, replayed(again)) == (200, r.content, True)
    conflict(resolve(c, admin["token"], d["id"], 100000, 50000, expect=409), "dispute", "resolved")
    m = get_contract(c, cl["token"], kid)["milestones"][0]
    assert (m["status"], m["escrow"], m["dispute_id"]) == ("resolved", 0, d["id"]) and m["settled_at"] is not None
    # the fee is on the released 100000 only; the refund went back to the card
    assert balances(c, en["token"])["USD"] == {"currency": "USD", "payable": 90000, "paid_out": 0, "in_transit": 0, "pending": 50000}
    assert totals(c, admin["token"]) == {"gateway_clearing": -150000, "client_funding": 0, "escrow": 50000,
                                         "payable": 90000, "revenue": 10000}

    # the engineer ends the contract: the funded second milestone is refunded
    ended = contract_move(c, en["token"], kid, "end")
    assert [(x["status"], x["escrow"]) for x in ended["milestones"]] == [("resolved", 0), ("refunded", 0)]
    assert totals(c, admin["token"]) == {"gateway_clearing": -100000, "client_funding": 0, "escrow": 0,
                                         "payable": 90000, "revenue": 10000}
    assert balances(c, en["token"])["USD"] == {"currency": "USD", "payable": 90000, "paid_out": 0, "in_transit": 0, "pending": 0}
    rc, out = ledger_verify(srv)
    assert rc == 0 and out.endswith("OK: 0 violations\n"), out


def test_splits_round_the_fee_down_and_a_full_refund_pays_no_fee(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(99999, 20000, 30000))
    m1, m2, m3 = (m["id"] for m in k["milestones"])
    for m in (m1, m2, m3):
        fund(c, cl["token"], m)
    submit(c, en["token"], m2)
    d1 = dispute(c, en["token"], m1)  # funded, not submitted: the engineer may dispute too
    d2 = dispute(c, cl["token"], m2)
    d3 = dispute(c, cl["token"], m3)
    assert (d1["opened_by"], d1["amount"]) == (en["id"], 99999)

    resolve(c, admin["token"], d1["id"], 33333, 66666)  # fee floor(3333.3) = 3333
    assert balances(c, en["token"])["USD"]["payable"] == 30000
    resolve(c, admin["token"], d2["id"], 0, 20000)  # all back to the client: no fee
    assert balances(c, en["token"])["USD"]["payable"] == 30000
    assert account(c, admin["token"], "revenue:USD") == 3333
    resolve(c, admin["token"], d3["id"], 30000, 0)
    assert balances(c, en["token"])["USD"] == {"currency": "USD", "payable": 57000, "paid_out": 0, "in_transit": 0, "pending": 0}
    assert totals(c, admin["token"]) == {"gateway_clearing": -63333, "client_funding": 0, "escrow": 0,
                                         "payable": 57000, "revenue": 6333}
    assert state(c, cl["token"], k["id"]) == (0, [("resolved", 0)] * 3)
    assert ledger_verify(srv)[0] == 0


# ---- idempotency ------------------------------------------------------------------------------------------------


def test_a_replay_is_the_first_answer_byte_for_byte_and_moves_nothing(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(10000, 20000, 30000))
    m1, m2, m3 = (m["id"] for m in k["milestones"])
    key = new_key()
    first = fund(c, cl["token"], m1, key=key)
    assert not replayed(first)
    after = totals(c, admin["token"])
    assert after["escrow"] == 10000

    again = fund(c, cl["token"], m1, key=key)
    assert (again.status_code, again.content, replayed(again)) == (200, first.content, True)
    assert again.headers["content-type"] == first.headers["content-type"]
    assert totals(c, admin["token"]) == after and fund_txns(srv, m1) == 1 and payments(srv, m1) == ["succeeded"]

    # the same key with another body (even other whitespace), milestone or route: 409, nothing moves
    h = {**bearer(cl["token"]), "Idempotency-Key": key, "Content-Type": "application/json"}
    pretty = b'{\n  "payment_method": "tok_visa"\n}'
    assert pretty != first.request.content
    for url, content in [(f"{MILESTONES}/{m1}/fund", pretty),
                         (f"{MILESTONES}/{m1}/fund", b'{"payment_method":"tok_slow"}'),
                         (f"{MILESTONES}/{m2}/fund", first.request.content),
                         (f"{MILESTONES}/{m1}/approve", b"{}")]:
        assert_problem(c.post(url, content=content, headers=h), 409, "idempotency-key-reuse", ["Idempotency-Key"])
    assert_problem(c.post(f"{MILESTONES}/{m1}/approve", headers=h), 409, "idempotency-key-reuse", ["Idempotency-Key"])
    assert state(c, cl["token"], k["id"]) == (10000, [("funded", 10000), ("pending", 0), ("pending", 0)])
    assert totals(c, admin["token"]) == after

    # approve replays the same way; an empty body and {} are different bodies
    submit(c, en["token"], m1)
    akey = new_key()
    a1 = approve(c, cl["token"], m1, key=akey)
    paid = balances(c, en["token"])["USD"]["payable"]
    assert paid == 9000 and not replayed(a1)
    a2 = approve(c, cl["token"], m1, key=akey)
    assert (a2.status_code, a2.content, replayed(a2)) == (200, a1.content, True)
    assert_problem(approve(c, cl["token"], m1, key=akey, json={}, expect=409), 409, "idempotency-key-reuse",
                   ["Idempotency-Key"])
    assert balances(c, en["token"])["USD"]["payable"] == paid
    # a replay is the answer as it was, whatever happened since
    late = fund(c, cl["token"], m1, key=key)
    assert (late.content, late.json()["status"], replayed(late)) == (first.content, "funded", True)

    # an answer that was not final frees its key: it may be used again, for anything
    free = new_key()
    conflict(approve(c, cl["token"], m2, key=free, expect=409), "milestone", "pending")
    assert_problem(approve(c, cl["token"], "mst_00000000000000000000", key=free, expect=404),
                   404, "not-found")
    assert fund(c, cl["token"], m2, key=free).json()["status"] == "funded"
    assert_problem(approve(c, cl["token"], m2, key=free, expect=409), 409, "idempotency-key-reuse",
                   ["Idempotency-Key"])
    assert totals(c, admin["token"]) == {"gateway_clearing": -30000, "client_funding": 0, "escrow": 20000,
                                         "payable": 9000, "revenue": 1000}
    assert ledger_verify(srv)[0] == 0


def test_a_declined_card_is_a_final_402_and_a_new_key_funds(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(25000,))
    mid = k["milestones"][0]["id"]
    key = new_key()
    r = fund(c, cl["token"], mid, key=key, payment_method="tok_chargeDeclined", expect=402)
    body = assert_problem(r, 402, "payment-declined")
    assert (body["title"], body["milestone_id"]) == ("Payment Required", mid) and body["detail"], body
    assert not replayed(r)
    again = fund(c, cl["token"], mid, key=key, payment_method="tok_chargeDeclined", expect=402)
    assert (again.content, replayed(again)) == (r.content, True)
    assert_problem(fund(c, cl["token"], mid, key=key, expect=409), 409, "idempotency-key-reuse", ["Idempotency-Key"])
    # any token the sandbox does not know is declined as well
    assert_problem(fund(c, cl["token"], mid, payment_method="tok_mastercard", expect=402), 402, "payment-declined")
    assert state(c, cl["token"], k["id"]) == (0, [("pending", 0)])
    assert nonzero(totals(c, admin["token"])) == {} and fund_txns(srv, mid) == 0
    assert balances(c, en["token"]) == {}

    ok = fund(c, cl["token"], mid, key=new_key())
    assert (ok.json()["status"], ok.json()["escrow"]) == ("funded", 25000)
    assert payments(srv, mid) == ["failed", "failed", "succeeded"]
    # the declined answer stays what it was
    assert fund(c, cl["token"], mid, key=key, payment_method="tok_chargeDeclined", expect=402).content == r.content
    assert nonzero(totals(c, admin["token"])) == {"gateway_clearing": -25000, "escrow": 25000}


def _in_threads(n, fn):
    """Runs fn(i) in n threads released together; returns their results (or raises the first error)."""
    barrier, out, errors = threading.Barrier(n), [None] * n, []

    def run(i):
        try:
            barrier.wait(5)
            out[i] = fn(i)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a request thread hung"
    if errors:
        raise errors[0]
    return out


def test_concurrent_requests_with_one_key_move_money_once(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    amounts = (11000, 12000, 13000, 14000, 15000)
    k, en = active_contract(c, admin, cl, amounts=amounts)
    clients = [srv.client() for _ in range(6)]
    for m in k["milestones"]:
        key = new_key()
        rs = _in_threads(6, lambda i: fund(clients[i], cl["token"], m["id"], key=key, expect=None))
        fresh = [r for r in rs if r.status_code == 200 and not replayed(r)]
        assert len(fresh) == 1, [(r.status_code, r.headers.get("idempotent-replayed"), r.text[:80]) for r in rs]
        for r in rs:
            if r.status_code == 409:
                assert_problem(r, 409, "idempotency-key-in-use")
                assert r.headers["retry-after"] == "1"
            else:
                assert (r.status_code, r.content) == (200, fresh[0].content), r.text
        assert fund_txns(srv, m["id"]) == 1 and payments(srv, m["id"]) == ["succeeded"]
    assert totals(c, admin["token"])["escrow"] == sum(amounts)

    # and approving concurrently with different keys releases once
    mid = k["milestones"][0]["id"]
    submit(c, en["token"], mid)
    rs = _in_threads(6, lambda i: approve(clients[i], cl["token"], mid, expect=None))
    assert sorted(r.status_code for r in rs) == [200] + [409] * 5, [r.text[:120] for r in rs]
    for r in rs:
        if r.status_code == 409:
            conflict(r, "milestone", "released")
    assert balances(c, en["token"])["USD"]["payable"] == 11000 - fee(11000)
    assert totals(c, admin["token"])["revenue"] == fee(11000)
    assert ledger_verify(srv)[0] == 0


def test_keys_are_per_user(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    ka, _ = active_contract(c, admin, cl, amounts=(10000,))
    other = signed_in(c, role="client", name="Other Client")
    kb, _ = active_contract(c, admin, other, amounts=(20000,))
    ma, mb = ka["milestones"][0]["id"], kb["milestones"][0]["id"]
    key = "order-42"

    a = fund(c, cl["token"], ma, key=key)
    assert not replayed(a)
    # the other client with the same key and the same body on the first client's milestone: not a replay of
    # the first client's answer but a 404, like any other request for someone else's milestone
    r = fund(c, other["token"], ma, key=key, expect=404)
    assert_problem(r, 404, "not-found")
    assert not replayed(r)
    # the same key, independently, on their own milestone
    b = fund(c, other["token"], mb, key=key)
    assert not replayed(b) and (b.json()["id"], b.json()["status"]) == (mb, "funded")
    # each replay is its owner's
    assert fund(c, cl["token"], ma, key=key).content == a.content
    assert fund(c, other["token"], mb, key=key).content == b.content
    assert (fund_txns(srv, ma), fund_txns(srv, mb)) == (1, 1)
    assert nonzero(totals(c, admin["token"])) == {"gateway_clearing": -30000, "escrow": 30000}


def test_a_missing_or_malformed_key_is_400_naming_it_and_moves_nothing(money):
    c, admin, cl = money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(10000, 20000))
    m1, m2 = (m["id"] for m in k["milestones"])
    fund(c, cl["token"], m2)
    submit(c, en["token"], m2)
    d = dispute(c, en["token"], m2)
    before = (totals(c, admin["token"]), get_contract(c, admin["token"], k["id"]))
    calls = [(cl, f"{MILESTONES}/{m1}/fund", {"payment_method": "tok_visa"}),
             (cl, f"{MILESTONES}/{m2}/approve", None),
             (admin, f"/api/v1/disputes/{d['id']}/resolve", {"release": 20000, "refund": 0})]
    for who, url, body in calls:
        kw = {"json": body} if body is not None else {}
        r = c.post(url, headers=bearer(who["token"]), **kw)
        assert_problem(r, 400, "idempotency-key", ["Idempotency-Key"])
        for bad in ("", "two words", "k" * 256, "caf\u00e9".encode(), "tab\there"):
            r = c.post(url, headers={**bearer(who["token"]), "Idempotency-Key": bad}, **kw)
            assert_problem(r, 400, "idempotency-key", ["Idempotency-Key"])
    assert (totals(c, admin["token"]), get_contract(c, admin["token"], k["id"])) == before
    # the longest key and any visible ASCII are fine
    assert fund(c, cl["token"], m1, key="k" * 255).status_code == 200
    resolve(c, admin["token"], d["id"], 20000, 0, key="!#$%&'*+-.^_`|~:/?@[]{}\"\\,;<=>()")
    assert state(c, cl["token"], k["id"]) == (10000, [("funded", 10000), ("resolved", 0)])


def test_a_slow_charge_holds_its_key_and_charges_once(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(70000,))
    mid = k["milestones"][0]["id"]
    key, slow_client = new_key(), srv.client()
    result = {}
    started = time.monotonic()
    t = threading.Thread(target=lambda: result.setdefault(
        "r", fund(slow_client, cl["token"], mid, key=key, payment_method="tok_slow", expect=None)))
    t.start()
    try:
        # the charge is in flight once its payment row is pending
        wait_for(lambda: payments(srv, mid) == ["pending"], 2.5, "the slow charge to start")
        same = fund(c, cl["token"], mid, key=key, payment_method="tok_slow", expect=None)
        if same.status_code == 409:
            assert_problem(same, 409, "idempotency-key-in-use")
            assert same.headers["retry-after"] == "1"
        else:  # only if the 3 s charge finished meanwhile
            assert (same.status_code, replayed(same)) == (200, True), same.text
        # another key for the same milestone while the charge runs: 409, and nothing is charged
        other = new_key()
        conflict(fund(c, cl["token"], mid, key=other, expect=409), "milestone", "pending")
    finally:
        t.join(15)
    r = result["r"]
    assert r.status_code == 200 and not replayed(r), r.text
    assert time.monotonic() - started >= 2.5  # it really was the slow token
    assert (r.json()["status"], r.json()["escrow"]) == ("funded", 70000)
    assert fund(c, cl["token"], mid, key=key, payment_method="tok_slow").content == r.content
    # the other key was freed by its 409: it runs again, and finds the milestone funded
    conflict(fund(c, cl["token"], mid, key=other, expect=409), "milestone", "funded")
    assert payments(srv, mid) == ["succeeded"] and fund_txns(srv, mid) == 1
    assert nonzero(totals(c, admin["token"])) == {"gateway_clearing": -70000, "escrow": 70000}


def test_a_charge_in_flight_when_the_contract_ends_is_not_lost(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(70000, 1000))
    mid = k["milestones"][0]["id"]
    slow_client, result = srv.client(), {}

    def slow():
        try:
            result["r"] = fund(slow_client, cl["token"], mid, key=new_key(), payment_method="tok_slow", expect=None)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            result["error"] = e

    t = threading.Thread(target=slow)
    t.start()
    try:
        wait_for(lambda: payments(srv, mid) == ["pending"], 2.5, "the slow charge to start")
        end = c.post(f"/api/v1/contracts/{k['id']}/end", headers=bearer(cl["token"]))
    finally:
        t.join(15)
    if "error" in result:
        raise result["error"]
    r = result["r"]
    if end.status_code == 200:  # the contract ended while the card was being charged
        conflict(r, "contract", "ended")
    else:  # or the end is refused while the charge is in flight
        conflict(end, "milestone", "pending")
        assert r.status_code == 200, r.text
    # either way the charge the gateway made is accounted for
    assert "pending" not in payments(srv, mid), payments(srv, mid)
    assert ledger_verify(srv)[0] == 0


def test_keys_are_kept_48_hours_then_forgotten(spawn, tmp_path_factory):
    """The rule is "kept at least 24 h": a replay a day later still gets the first answer;
    after 48 h the hourly job forgets the key, and the same key is a new request, not a
    replay. For funding, the charge it names is still on record (its gateway key comes from
    the client's key), so the new request finds it settled and moves nothing."""
    env = money_env(spawn, tmp_path_factory)
    srv, c, admin, cl = env["srv"], env["c"], env["admin"], env["client"]
    k, _ = active_contract(c, admin, cl, amounts=(10000,))
    mid = k["milestones"][0]["id"]
    key = new_key()
    first = fund(c, cl["token"], mid, key=key)
    advance_clock(c, 25 * 3600)
    again = fund(c, cl["token"], mid, key=key)
    assert (again.status_code, again.content, replayed(again)) == (200, first.content, True)
    keys = "SELECT count(*) FROM idempotency_keys WHERE key = ?"
    assert db_rows(srv, keys, key)[0][0] == 1
    advance_clock(c, 24 * 3600)  # 49 h after the first use; the pruning job is due
    deadline = time.monotonic() + 10
    while db_rows(srv, keys, key)[0][0] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert db_rows(srv, keys, key)[0][0] == 0, "the key outlived 48 h"
    late = fund(c, cl["token"], mid, key=key)
    assert not replayed(late) and late.json()["status"] == "funded"
    other = fund(c, cl["token"], mid, expect=409)  # a new key for the funded milestone: refused
    conflict(other, "milestone", "funded")
    assert fund_txns(srv, mid) == 1 and payments(srv, mid) == ["succeeded"]
    assert ledger_verify(srv)[0] == 0


# ---- balances and the ledger's view ------------------------------------------------------------------------------


def test_balances_and_totals_are_per_currency(money):
    c, admin, cl = money["c"], money["admin"], money["client"]
    p = money_pair(c, admin, cl)
    en = p["engineer"]
    # a second request of the same client, made while the engineer is still free (an engineer with an
    # active contract is busy: matching leaves them out), the same engineer accepting: a contract in EUR
    req2 = create_request(c, cl["token"], title="Second project")
    mine = [x for x in req2["candidates"] if x["engineer_id"] == en["id"]]
    assert len(mine) == 1, "the demo matching ranks the same engineer first for the same request"
    usd, _ = active_contract(c, admin, cl, amounts=(40000, 5000), pair=p)
    accept(c, en["token"], mine[0]["id"])
    eur = offer(c, cl["token"], fixed_offer(mine[0]["id"], (30000,), currency="EUR"))
    contract_move(c, en["token"], eur["id"], "accept")

    for m in usd["milestones"] + eur["milestones"]:
        fund(c, cl["token"], m["id"])
    for m in (usd["milestones"][0], eur["milestones"][0]):
        submit(c, en["token"], m["id"])
        approve(c, cl["token"], m["id"])
    assert balances(c, en["token"]) == {
        "EUR": {"currency": "EUR", "payable": 27000, "paid_out": 0, "in_transit": 0, "pending": 0},
        "USD": {"currency": "USD", "payable": 36000, "paid_out": 0, "in_transit": 0, "pending": 5000}}
    assert totals(c, admin["token"], "USD") == {"gateway_clearing": -45000, "client_funding": 0, "escrow": 5000,
                                                "payable": 36000, "revenue": 4000}
    assert totals(c, admin["token"], "EUR") == {"gateway_clearing": -30000, "client_funding": 0, "escrow": 0,
                                                "payable": 27000, "revenue": 3000}
    rep = ledger(c, admin["token"])
    assert [(t["currency"], t["kind"]) for t in rep["totals"]] == sorted((t["currency"], t["kind"])
                                                                        for t in rep["totals"])
    accounts = {a["id"]: a for a in rep["accounts"]}
    assert accounts[f"escrow:{eur['id']}"] == {"id": f"escrow:{eur['id']}", "kind": "escrow", "owner": eur["id"],
                                               "currency": "EUR", "balance": 0}
    assert accounts[f"client_funding:{cl['id']}:EUR"]["owner"] == cl["id"]
    assert accounts["gateway_clearing:USD"] == {"id": "gateway_clearing:USD", "kind": "gateway_clearing",
                                                "owner": None, "currency": "USD", "balance": -45000}
    # an engineer with no money has no rows
    assert balances(c, demo_login(c, "engineer150@demo.opx")["token"]) == {}


def test_the_fee_is_the_servers_fee_bps_fixed_on_the_contract(spawn, tmp_path_factory):
    srv = spawn("--login-ip-burst", "1000", "--fee-bps", "250", workdir=seeded_workdir(tmp_path_factory))
    c = srv.client()
    # what a client reads before offering (GET /terms, anyone) is what the contract then carries
    t = c.get("/api/v1/terms")
    assert t.status_code == 200, t.text
    assert t.json() == {"fee_bps": 250, "currencies": ["USD", "EUR", "GBP", "CAD", "AUD", "CHF", "SEK", "NOK",
                                                      "DKK", "PLN", "NZD", "SGD"],
                        "match_sla_seconds": 8 * 3600, "invitation_ttl_seconds": 24 * 3600,
                        "milestone_auto_release_seconds": 14 * 86400, "timesheet_auto_release_seconds": 5 * 86400}
    admin, cl = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    k, en = active_contract(c, admin, cl, amounts=(10001,))
    assert k["fee_bps"] == 250
    mid = k["milestones"][0]["id"]
    fund(c, cl["token"], mid)
    submit(c, en["token"], mid)
    approve(c, cl["token"], mid)
    assert fee(10001, 250) == 250
    assert balances(c, en["token"])["USD"]["payable"] == 9751
    assert nonzero(totals(c, admin["token"])) == {"gateway_clearing": -10001, "payable": 9751, "revenue": 250}


# ---- tampering -------------------------------------------------------------------------------------------------


def test_verify_catches_a_balance_edited_behind_the_servers_back(money, spawn, tmp_path_factory):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(20000, 10000))
    m1, m2 = (m["id"] for m in k["milestones"])
    fund(c, cl["token"], m1)
    fund(c, cl["token"], m2)
    submit(c, en["token"], m1)
    approve(c, cl["token"], m1)
    stop_checked(srv)
    rc, out = ledger_verify(srv)
    assert rc == 0 and out.endswith("OK: 0 violations\n"), out

    payable = f"payable:{en['id']}:USD"
    entries = db_rows(srv, "SELECT count(*), sum(amount) FROM ledger_entries")
    # the entries and transactions are append-only
    for sql in ("UPDATE ledger_entries SET amount = amount + 1",
                "DELETE FROM ledger_entries WHERE account_id = 'revenue:USD'",
                "UPDATE ledger_txns SET memo = 'edited'", "DELETE FROM ledger_txns"):
        with pytest.raises(DbError, match="append-only"):
            db_tamper(srv, sql)
    assert db_rows(srv, "SELECT count(*), sum(amount) FROM ledger_entries") == entries
    # the balances beside them are not: edit one
    assert re.fullmatch(r"payable:[0-9a-z_]+:USD", payable), payable  # safe to write into the SQL
    assert db_tamper(srv, f"UPDATE ledger_accounts SET balance = balance + 500 WHERE id = '{payable}'") == 1
    rc, out = ledger_verify(srv)
    assert rc == 1, out
    assert f"VIOLATION stored balance differs from its entries: {payable} stored 18500, entries 18000" in out, out
    assert out.endswith("FAILED: 1 violation\n"), out

    # the server, started again on that database, reports it to admins
    again = demo_server(spawn, tmp_path_factory, workdir=srv.dir)
    c2 = again.client()
    rep = ledger(c2, demo_login(c2, "admin@demo.opx")["token"], ok=False)
    assert (rep["verify"]["ok"], rep["verify"]["violations"]) == (False, 1)
    assert payable in rep["verify"]["report"] and rep["verify"]["report"].endswith("FAILED: 1 violation\n")
    stop_checked(again)

    # a database that cannot be read: 2
    garbage = srv.dir / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    assert ledger_verify(str(garbage))[0] == 2
    missing = srv.dir / "missing.db"
    assert ledger_verify(str(missing))[0] == 2 and not missing.exists()
