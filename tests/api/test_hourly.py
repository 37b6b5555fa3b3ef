"""Hourly contracts, week by week: the client funds a week (hourly_rate *
weekly_cap_hours into escrow), the engineer sends the week's timesheet
(at most the cap), and the client's approval -- or 5 days of silence --
releases hours * rate less the 10% fee, refunds the rest of the week's
escrow and opens the next week, once. Bad timesheets are 422 naming the
field, weeks that cannot take one 409 wrong-state with the entity in the
way; an hourly week never moves through the plain milestone routes; the
approval follows the money POSTs' idempotency rules; and no refused move
moves money. Each test runs on a demo population of its own."""
import datetime
import re

import pytest

from moneytest import (conflict, money_env, replayed, CONTRACTS, ID, TIMESHEETS, active_contract, approve, approve_timesheet, balances,
                       contract_move, dispute, fund, get_contract, hourly_contract, hourly_offer, ledger_verify,
                       money_pair, monday_of, new_key, nonzero, offer, request_changes, resolve, server_now, state,
                       submit, submit_timesheet, totals)
from mailtest import outbox
from opxtest import (DAY, HOUR, Event, advance_clock, assert_problem, bearer, db_rows, demo_login,
                     open_events, seconds_between, signed_in, wait_for)

AUTO_APPROVE_S = 5 * DAY


@pytest.fixture
def money(spawn, tmp_path_factory):
    return money_env(spawn, tmp_path_factory)






def this_week(c):
    """The Monday of the server's current week."""
    return monday_of(server_now(c).date())


def day(monday, days):
    """YYYY-MM-DD, days after (or before) monday."""
    return (datetime.date.fromisoformat(monday) + datetime.timedelta(days=days)).isoformat()


def midnight(iso_day):
    return datetime.datetime.fromisoformat(iso_day).replace(tzinfo=datetime.timezone.utc)


def txn_moves(srv, kind, mid):
    """The ledger transactions of one kind on a milestone, each as {account kind: net amount} (zero nets left
    out), with their memos."""
    out = []
    for txn_id, memo in db_rows(srv, "SELECT id, memo FROM ledger_txns WHERE kind = ? AND milestone_id = ?"
                                     " ORDER BY seq", kind, mid):
        net = {}
        for account, amount in db_rows(srv, "SELECT account_id, amount FROM ledger_entries WHERE txn_id = ?", txn_id):
            net[account.split(":")[0]] = net.get(account.split(":")[0], 0) + amount
        out.append(({k: v for k, v in net.items() if v}, memo))
    return out


def timesheet_kinds(events):
    return [(e.event, e.data["kind"], e.data["status"]) for e in events
            if isinstance(e, Event) and e.event.startswith("timesheet.")]


# ---- the walk ------------------------------------------------------------------------------------------------


def test_the_hourly_walk_a_week_funded_its_hours_approved_the_rest_refunded_the_next_week_opened(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    rate, cap = 10000, 10  # a week: 100000 in escrow
    p = money_pair(c, admin, cl)
    en = p["engineer"]
    with open_events(srv, cl["token"]) as cl_stream, open_events(srv, en["token"]) as en_stream:
        k, _ = hourly_contract(c, admin, cl, rate=rate, cap=cap, pair=p)
        kid = k["id"]
        week = this_week(c)
        [m1] = k["milestones"]
        assert (m1["week_start"], m1["title"], m1["amount"]) == (week, f"Week of {week}", 100000)
        fund(c, cl["token"], m1["id"])
        assert state(c, en["token"], kid) == (100000, [("funded", 100000)])

        # 7 of the 10 hours: 201 with exactly the timesheet
        note = "Retry path and its tests; 7 hours."
        before = server_now(c)
        t = submit_timesheet(c, en["token"], kid, week, 7, note)
        assert re.fullmatch(f"tms_{ID}", t["id"]), t
        assert 0 <= seconds_between(before.strftime("%Y-%m-%dT%H:%M:%SZ"), t["submitted_at"]) <= 2, t
        assert t == {"id": t["id"], "contract_id": kid, "milestone_id": m1["id"], "week_start": week, "hours": 7,
                     "note": note, "status": "submitted", "amount": 7 * rate, "submitted_at": t["submitted_at"],
                     "approved_at": None}
        # the week's milestone is submitted with the timesheet's note; the money waits in escrow
        m = get_contract(c, cl["token"], kid)["milestones"][0]
        assert (m["status"], m["escrow"], m["note"], m["submitted_at"]) == ("submitted", 100000, note,
                                                                            t["submitted_at"])
        assert balances(c, en["token"])["USD"] == {"currency": "USD", "payable": 0, "paid_out": 0, "in_transit": 0, "pending": 100000}

        # the client approves: 70000 released (63000 to the engineer, 7000 fee), 30000 back to the client
        key = new_key()
        r = approve_timesheet(c, cl["token"], t["id"], key=key)
        assert not replayed(r)
        ok = r.json()
        assert ok == {**t, "status": "approved", "approved_at": ok["approved_at"]}
        assert ok["approved_at"] is not None and 0 <= seconds_between(t["submitted_at"], ok["approved_at"]) <= 2
        assert balances(c, en["token"])["USD"] == {"currency": "USD", "payable": 63000, "paid_out": 0, "in_transit": 0, "pending": 0}
        after = totals(c, admin["token"])
        assert after == {"gateway_clearing": -70000, "client_funding": 0, "escrow": 0, "payable": 63000,
                         "revenue": 7000}
        assert txn_moves(srv, "timesheet", m1["id"]) == [
            ({"escrow": -100000, "payable": 63000, "revenue": 7000, "gateway_clearing": 30000},
             f"7 hours, week of {week}")]

        # the week is released; the next one opened, pending, for funding
        k2 = get_contract(c, cl["token"], kid)
        assert k2["escrow"] == 0 and len(k2["milestones"]) == 2
        w1, w2 = k2["milestones"]
        assert (w1["status"], w1["escrow"], w1["settled_at"]) == ("released", 0, ok["approved_at"])
        nxt = monday_of(week, 1)
        assert re.fullmatch(f"mst_{ID}", w2["id"]) and w2["id"] != w1["id"]
        assert w2 == {"id": w2["id"], "contract_id": kid, "position": 2, "title": f"Week of {nxt}", "amount": 100000,
                      "currency": "USD", "due": None, "week_start": nxt, "status": "pending", "escrow": 0,
                      "note": None, "links": [], "changes_note": None, "dispute_id": None,
                      "created_at": ok["approved_at"], "funded_at": None, "submitted_at": None, "settled_at": None}

        # a replay is the answer byte for byte and moves nothing; the key is bound to its route and body
        again = approve_timesheet(c, cl["token"], t["id"], key=key)
        assert (again.status_code, again.content, replayed(again)) == (200, r.content, True)
        assert again.headers["content-type"] == r.headers["content-type"]
        assert_problem(approve_timesheet(c, cl["token"], t["id"], key=key, json={}, expect=409), 409,
                       "idempotency-key-reuse", ["Idempotency-Key"])
        assert_problem(approve(c, cl["token"], w2["id"], key=key, expect=409), 409, "idempotency-key-reuse",
                       ["Idempotency-Key"])
        # approved is final; the week takes no second timesheet
        conflict(approve_timesheet(c, cl["token"], t["id"], expect=409), "timesheet", "approved")
        conflict(submit_timesheet(c, en["token"], kid, week, 1, expect=409), "milestone", "released")
        assert totals(c, admin["token"]) == after
        assert get_contract(c, admin["token"], kid) == k2

        # the next week is funded while it is still ahead, but its hours wait for it to begin
        f2 = fund(c, cl["token"], w2["id"]).json()
        assert (f2["status"], f2["escrow"]) == ("funded", 100000)
        assert_problem(submit_timesheet(c, en["token"], kid, nxt, 10, expect=422), 422, "validation", ["week_start"])

        # five days on (the first week's automatic approval would be due) and into the next week: still two weeks
        now = server_now(c)
        to_next = int((midnight(nxt) - now).total_seconds())
        advance_clock(c, max(AUTO_APPROVE_S, to_next) + HOUR)
        advance_clock(c, 5)  # a second pass of the jobs
        assert state(c, cl["token"], kid) == (100000, [("released", 0), ("funded", 100000)])
        assert db_rows(srv, "SELECT count(*) FROM milestones WHERE contract_id = ? AND week_start = ?", kid, nxt) \
            == [(1,)]

        # the full week: all of it to the engineer, nothing back; the week after opens
        t2 = submit_timesheet(c, en["token"], kid, nxt, cap, "The whole week.")
        assert (t2["milestone_id"], t2["amount"], t2["hours"]) == (w2["id"], 100000, 10)
        assert approve_timesheet(c, cl["token"], t2["id"]).json()["status"] == "approved"
        assert txn_moves(srv, "timesheet", w2["id"]) == [
            ({"escrow": -100000, "payable": 90000, "revenue": 10000}, f"10 hours, week of {nxt}")]
        assert totals(c, admin["token"]) == {"gateway_clearing": -170000, "client_funding": 0, "escrow": 0,
                                             "payable": 153000, "revenue": 17000}
        assert balances(c, en["token"])["USD"] == {"currency": "USD", "payable": 153000, "paid_out": 0, "in_transit": 0,
                                                   "pending": 0}
        k3 = get_contract(c, en["token"], kid)
        assert [(m["position"], m["week_start"], m["status"]) for m in k3["milestones"]] == [
            (1, week, "released"), (2, nxt, "released"), (3, monday_of(week, 2), "pending")]
        rc, out = ledger_verify(srv)
        assert rc == 0 and out.endswith("OK: 0 violations\n"), out

        # both parties heard of each timesheet, live
        cl_events, en_events = cl_stream.quiet_events(quiet=0.5), en_stream.quiet_events(quiet=0.3)
    expected = [("timesheet.submitted", "timesheet.submitted", "active"),
                ("timesheet.approved", "timesheet.approved", "active")] * 2
    assert timesheet_kinds(cl_events) == expected and timesheet_kinds(en_events) == expected
    assert all(e.data["contract_id"] == kid and e.data["request_id"] == p["request"]["id"]
               for e in cl_events + en_events if e.event.startswith("timesheet."))
    # and mail went to the other party: the client hears of timesheets, the engineer of approvals
    mails = [(m["kind"], m["to"]) for m in outbox(c, admin["token"]) if m["kind"].startswith("timesheet.")]
    assert sorted(mails) == sorted([("timesheet.submitted", cl["email"])] * 2
                                   + [("timesheet.approved", en["email"])] * 2)


# ---- refused timesheets ----------------------------------------------------------------------------------------


def test_bad_timesheets_are_422_weeks_that_cannot_take_one_409_and_nothing_changes(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = hourly_contract(c, admin, cl, rate=9000, cap=20)  # a week: 180000
    kid, mid = k["id"], k["milestones"][0]["id"]
    week = this_week(c)
    url, h = f"{CONTRACTS}/{kid}/timesheets", bearer(en["token"])

    # the week is not funded yet
    conflict(submit_timesheet(c, en["token"], kid, week, 5, expect=409), "milestone", "pending")
    fund(c, cl["token"], mid)
    before = (get_contract(c, admin["token"], kid), totals(c, admin["token"]))

    def body(**over):
        b = {"week_start": week, "hours": 5, "note": "Five hours."}
        b.update(over)
        return {x: v for x, v in b.items() if v is not None}

    for b, fields in [
            (body(hours=21), ["hours"]),  # one above the contract's cap
            (body(hours=60), ["hours"]),
            (body(hours=61), ["hours"]),
            (body(hours=-1), ["hours"]),
            (body(hours="5"), ["hours"]),
            (body(hours=7.5), ["hours"]),
            (body(hours=None), ["hours"]),
            (body(week_start=day(week, 1)), ["week_start"]),  # not a Monday
            (body(week_start=day(week, -1)), ["week_start"]),
            (body(week_start=monday_of(week, 1)), ["week_start"]),  # a Monday in the future
            (body(week_start="not a day!"), ["week_start"]),
            (body(week_start=week.replace("-", "/")), ["week_start"]),
            (body(week_start=""), ["week_start"]),
            (body(week_start=20260105), ["week_start"]),
            (body(week_start=None), ["week_start"]),
            (body(note=""), ["note"]),
            (body(note="n" * 2001), ["note"]),
            (body(note=None), ["note"]),
            (body(note=5), ["note"]),
            (body(minutes=30), ["minutes"])]:
        assert_problem(c.post(url, json=b, headers=h), 422, "validation", fields)
    # a Monday in the past the contract has no week for: 409 naming the week
    for earlier in (monday_of(week, -1), monday_of(week, -10)):
        conflict(submit_timesheet(c, en["token"], kid, earlier, 5, expect=409), "week", "")
    assert (get_contract(c, admin["token"], kid), totals(c, admin["token"])) == before
    assert db_rows(srv, "SELECT count(*) FROM timesheets")[0][0] == 0

    # the cap itself is fine; a second timesheet for the week is not, whatever its hours
    t = submit_timesheet(c, en["token"], kid, week, 20, "The whole week.")
    assert (t["hours"], t["amount"]) == (20, 180000)
    after = (get_contract(c, admin["token"], kid), totals(c, admin["token"]))
    for hours in (20, 1, 0):
        conflict(submit_timesheet(c, en["token"], kid, week, hours, expect=409), "milestone", "submitted")
    assert (get_contract(c, admin["token"], kid), totals(c, admin["token"])) == after
    assert db_rows(srv, "SELECT id, hours FROM timesheets") == [(t["id"], 20)]

    # timesheets are for active hourly contracts: a fixed-price one names its type, an offer its status
    fixed, fixed_en = active_contract(c, admin, cl, amounts=(10000,))
    conflict(submit_timesheet(c, fixed_en["token"], fixed["id"], week, 1, expect=409), "contract", "fixed")
    p = money_pair(c, admin, cl)
    offered = offer(c, cl["token"], hourly_offer(p["candidate"]["id"]))
    conflict(submit_timesheet(c, p["engineer"]["token"], offered["id"], week, 1, expect=409), "contract", "offered")
    contract_move(c, p["engineer"]["token"], offered["id"], "decline")
    conflict(submit_timesheet(c, p["engineer"]["token"], offered["id"], week, 1, expect=409), "contract", "declined")
    assert db_rows(srv, "SELECT count(*) FROM timesheets")[0][0] == 1
    assert ledger_verify(srv)[0] == 0


def test_zero_hours_release_nothing_and_refund_the_whole_week(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = hourly_contract(c, admin, cl, rate=500, cap=1)  # the smallest week: 500
    kid, mid = k["id"], k["milestones"][0]["id"]
    fund(c, cl["token"], mid)
    t = submit_timesheet(c, en["token"], kid, this_week(c), 0, "No work this week.")
    assert (t["hours"], t["amount"]) == (0, 0)
    assert approve_timesheet(c, cl["token"], t["id"]).json()["status"] == "approved"
    assert txn_moves(srv, "timesheet", mid) == [({"escrow": -500, "gateway_clearing": 500},
                                                  f"0 hours, week of {t['week_start']}")]
    assert nonzero(totals(c, admin["token"])) == {}
    assert balances(c, en["token"]) == {}  # nothing earned, nothing pending
    assert [m["status"] for m in get_contract(c, cl["token"], kid)["milestones"]] == ["released", "pending"]
    assert ledger_verify(srv)[0] == 0


# ---- weeks do not move as plain milestones ----------------------------------------------------------------------


def test_an_hourly_week_never_moves_through_the_milestone_routes_but_may_be_disputed(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = hourly_contract(c, admin, cl, rate=9000, cap=20)
    kid, mid = k["id"], k["milestones"][0]["id"]
    week = this_week(c)
    fund(c, cl["token"], mid)
    conflict(submit(c, en["token"], mid, expect=409), "milestone", "funded")
    assert state(c, cl["token"], kid) == (180000, [("funded", 180000)])

    t = submit_timesheet(c, en["token"], kid, week, 5)
    before = (get_contract(c, admin["token"], kid), totals(c, admin["token"]))
    key = new_key()
    conflict(approve(c, cl["token"], mid, key=key, expect=409), "milestone", "submitted")
    conflict(request_changes(c, cl["token"], mid, expect=409), "milestone", "submitted")
    conflict(submit(c, en["token"], mid, expect=409), "milestone", "submitted")
    assert (get_contract(c, admin["token"], kid), totals(c, admin["token"])) == before

    # a dispute holds the week like any milestone: the timesheet cannot be approved, not even by the clock
    d = dispute(c, cl["token"], mid, reason="These hours were not worked.")
    conflict(approve_timesheet(c, cl["token"], t["id"], key=key, expect=409), "timesheet", "disputed")
    advance_clock(c, AUTO_APPROVE_S + HOUR)
    advance_clock(c, 5)
    assert state(c, cl["token"], kid) == (180000, [("disputed", 180000)])
    assert balances(c, en["token"])["USD"]["payable"] == 0
    # and an admin settles it as any other; the contract goes on with the next week
    resolve(c, admin["token"], d["id"], 45000, 135000)
    assert state(c, cl["token"], kid) == (0, [("resolved", 0), ("pending", 0)])
    assert balances(c, en["token"])["USD"] == {"currency": "USD", "payable": 40500, "paid_out": 0, "in_transit": 0, "pending": 0}
    assert nonzero(totals(c, admin["token"])) == {"gateway_clearing": -45000, "payable": 40500, "revenue": 4500}
    conflict(approve_timesheet(c, cl["token"], t["id"], expect=409), "timesheet", "resolved")
    assert db_rows(srv, "SELECT count(*) FROM ledger_txns WHERE kind = 'timesheet'")[0][0] == 0
    assert ledger_verify(srv)[0] == 0


# ---- five silent days ------------------------------------------------------------------------------------------


def test_five_silent_days_approve_a_timesheet_as_system(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = hourly_contract(c, admin, cl, rate=9000, cap=20)
    kid, mid = k["id"], k["milestones"][0]["id"]
    week = this_week(c)
    fund(c, cl["token"], mid)
    with open_events(srv, en["token"]) as stream:
        t = submit_timesheet(c, en["token"], kid, week, 3)
        advance_clock(c, AUTO_APPROVE_S - HOUR)
        advance_clock(c, 5)
        assert state(c, cl["token"], kid) == (180000, [("submitted", 180000)])  # not yet
        advance_clock(c, HOUR + 60)
        w = wait_for(lambda: next((x for x in get_contract(c, cl["token"], kid)["milestones"]
                                   if x["id"] == mid and x["status"] == "released"), None), 10, "the auto-approval")
        assert w["escrow"] == 0 and seconds_between(t["submitted_at"], w["settled_at"]) >= AUTO_APPROVE_S
        events = stream.quiet_events(quiet=0.5)
    assert timesheet_kinds(events) == [("timesheet.submitted", "timesheet.submitted", "active"),
                                       ("timesheet.approved", "timesheet.approved", "active")]
    # 27000 released: 24300 to the engineer, 2700 fee; 153000 back to the client
    assert balances(c, en["token"])["USD"] == {"currency": "USD", "payable": 24300, "paid_out": 0, "in_transit": 0, "pending": 0}
    assert totals(c, admin["token"]) == {"gateway_clearing": -27000, "client_funding": 0, "escrow": 0,
                                         "payable": 24300, "revenue": 2700}
    assert txn_moves(srv, "timesheet", mid) == [
        ({"escrow": -180000, "payable": 24300, "revenue": 2700, "gateway_clearing": 153000},
         f"3 hours, week of {week} (auto-approved after 5 days)")]
    approved_by = db_rows(srv, "SELECT actor_id FROM audit_log WHERE action = 'timesheet.approved' AND entity_id = ?",
                          t["id"])
    assert approved_by == [("system",)], approved_by
    # the next week opened; the client's approval comes too late
    assert [(m["week_start"], m["status"]) for m in get_contract(c, cl["token"], kid)["milestones"]] == [
        (week, "released"), (monday_of(week, 1), "pending")]
    conflict(approve_timesheet(c, cl["token"], t["id"], expect=409), "timesheet", "approved")
    assert ledger_verify(srv)[0] == 0


# ---- who may do what -----------------------------------------------------------------------------------------------


def test_only_the_engineer_submits_only_the_client_approves_and_outsiders_get_404(money):
    c, admin, cl = money["c"], money["admin"], money["client"]
    k, en = hourly_contract(c, admin, cl)
    kid, mid = k["id"], k["milestones"][0]["id"]
    week = this_week(c)
    fund(c, cl["token"], mid)
    other_client = signed_in(c, role="client", name="Other Client")
    other_engineer = next(e for e in (demo_login(c, f"engineer{n}@demo.opx") for n in range(1, 40))
                          if e["id"] != en["id"])
    vetter = demo_login(c, "vetter@demo.opx")
    before = (get_contract(c, admin["token"], kid), totals(c, admin["token"]))

    # submitting: the engineer's role only (403), the contract's engineer only (404)
    for who in (cl, admin, vetter, other_client):
        assert_problem(submit_timesheet(c, who["token"], kid, week, 5, expect=403), 403, "forbidden")
    assert_problem(submit_timesheet(c, other_engineer["token"], kid, week, 5, expect=404), 404, "not-found")
    assert_problem(submit_timesheet(c, en["token"], "ctr_00000000000000000000", week, 5, expect=404), 404,
                   "not-found")
    assert (get_contract(c, admin["token"], kid), totals(c, admin["token"])) == before

    t = submit_timesheet(c, en["token"], kid, week, 5)
    before = (get_contract(c, admin["token"], kid), totals(c, admin["token"]))
    # approving: the client's role only (403), the contract's client only (404), with a key (400)
    for who in (en, admin, vetter, other_engineer):
        assert_problem(approve_timesheet(c, who["token"], t["id"], expect=403), 403, "forbidden")
    key = new_key()
    assert_problem(approve_timesheet(c, other_client["token"], t["id"], key=key, expect=404), 404, "not-found")
    assert_problem(approve_timesheet(c, cl["token"], "tms_00000000000000000000", expect=404), 404, "not-found")
    url = f"{TIMESHEETS}/{t['id']}/approve"
    assert_problem(c.post(url, headers=bearer(cl["token"])), 400, "idempotency-key", ["Idempotency-Key"])
    for bad in ("", "two words", "k" * 256):
        assert_problem(c.post(url, headers={**bearer(cl["token"]), "Idempotency-Key": bad}), 400, "idempotency-key",
                       ["Idempotency-Key"])
    assert_problem(c.post(url, json={"ok": True}, headers={**bearer(cl["token"]), "Idempotency-Key": new_key()}),
                   422, "validation", ["ok"])
    assert (get_contract(c, admin["token"], kid), totals(c, admin["token"])) == before

    # keys are per user: the same key is the client's own, new, request
    r = approve_timesheet(c, cl["token"], t["id"], key=key, json={})
    assert (r.json()["status"], replayed(r)) == ("approved", False)
    assert balances(c, en["token"])["USD"]["payable"] == 45000
