"""Contracts read in bulk: GET /api/v1/contracts (own as client or engineer,
all for admins; ?request_id, ?status, cursor), a contract's receipts (GET
.../payments: every charge and refund) and its timesheets. Outsiders get
404; bad filters are 400 naming the parameter."""
import pytest

from moneytest import (CONTRACTS, active_contract, approve_timesheet, contract_move, fixed_offer, fund,
                       hourly_contract, money_env, money_pair, monday_of, offer, server_now, submit_timesheet)
from opxtest import assert_problem, bearer, create_staff, signed_in


def listing(c, token, expect=200, **params):
    r = c.get(CONTRACTS, params=params, headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json()


def test_lists_filters_cursor_and_receipts(spawn, tmp_path_factory):
    e = money_env(spawn, tmp_path_factory)
    c, admin, client = e["c"], e["admin"], e["client"]
    k1, eng1 = active_contract(c, admin, client, amounts=(150000, 50000))
    p2 = money_pair(c, admin, client)
    k2 = offer(c, client["token"], fixed_offer(p2["candidate"]["id"], (30000,)))  # offered, not answered
    other = signed_in(c, role="client")

    mine = listing(c, client["token"])
    ids = [k["id"] for k in mine["items"]]
    assert ids[:2] == [k2["id"], k1["id"]]  # newest first
    row = mine["items"][1]
    assert (row["status"], row["type"], row["total"], row["milestone_count"], row["escrow"]) == \
        ("active", "fixed", 200000, 2, 0)
    # each milestone as the contract has it, with what a list needs to say what waits on whom
    keep = ("id", "position", "title", "amount", "due", "week_start", "status", "changes_note")
    assert row["milestones"] == [{f: m[f] for f in keep} for m in k1["milestones"]]
    assert [m["status"] for m in row["milestones"]] == ["pending", "pending"]
    assert row["engineer_id"] == eng1["id"] and row["client_id"] == client["id"]
    assert row["request_id"] == k1["request_id"] and row["hourly_rate"] is None
    assert [k["id"] for k in listing(c, eng1["token"])["items"]] == [k1["id"]]
    assert listing(c, other["token"]) == {"items": [], "next_cursor": None}
    assert k1["id"] in [k["id"] for k in listing(c, admin["token"], limit=100)["items"]]

    # filters
    assert [k["id"] for k in listing(c, client["token"], status="offered")["items"]] == [k2["id"]]
    assert [k["id"] for k in listing(c, client["token"], request_id=k1["request_id"])["items"]] == [k1["id"]]
    assert listing(c, client["token"], status="ended")["items"] == []
    # the cursor walks every page once
    first = listing(c, client["token"], limit=1)
    assert [k["id"] for k in first["items"]] == [k2["id"]] and first["next_cursor"]
    second = listing(c, client["token"], limit=1, cursor=first["next_cursor"])
    assert [k["id"] for k in second["items"]] == [k1["id"]]
    for params, field in (({"status": "open"}, "status"), ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"),
                          ({"cursor": "x1"}, "cursor"), ({"cursor": "k0"}, "cursor"),
                          ({"request_id": "r" * 40}, "request_id")):
        assert_problem(c.get(CONTRACTS, params=params, headers=bearer(client["token"])), 400, "bad-query", [field])

    # receipts: a declined charge, a success, then a refund when the contract ends
    m1, m2 = k1["milestones"][0]["id"], k1["milestones"][1]["id"]
    pay = f"{CONTRACTS}/{k1['id']}/payments"
    assert c.get(pay, headers=bearer(client["token"])).json() == {
        "contract_id": k1["id"], "currency": "USD", "items": [], "charged": 0, "refunded": 0}
    fund(c, client["token"], m1, payment_method="tok_chargeDeclined", expect=402)
    fund(c, client["token"], m1)
    fund(c, client["token"], m2)
    contract_move(c, client["token"], k1["id"], "end")
    for who in (client, eng1, admin):
        r = c.get(pay, headers=bearer(who["token"]))
        assert r.status_code == 200, r.text
        j = r.json()
        kinds = [(i["kind"], i["milestone_id"], i["amount"], i["status"]) for i in j["items"]]
        assert kinds[:3] == [("charge", m1, 150000, "failed"), ("charge", m1, 150000, "succeeded"),
                             ("charge", m2, 50000, "succeeded")], kinds
        assert sorted(k[1] for k in kinds[3:] if k[0] == "refund") == sorted([m1, m2])
        assert j["charged"] == 200000
        assert j["items"][0]["error"] and j["items"][1]["error"] is None
        # each refund names the charge it returns; charges name none
        paid = {i["milestone_id"]: i["id"] for i in j["items"] if i["kind"] == "charge" and i["status"] == "succeeded"}
        assert all(i["refund_of"] == paid[i["milestone_id"]] for i in j["items"] if i["kind"] == "refund")
        assert all(i["refund_of"] is None for i in j["items"] if i["kind"] == "charge")
    assert_problem(c.get(pay, headers=bearer(other["token"])), 404, "not-found")
    assert_problem(c.get(f"{CONTRACTS}/ctr_00000000000000000000/payments", headers=bearer(admin["token"])),
                   404, "not-found")
    assert_problem(c.get(f"{CONTRACTS}/{k1['id']}/timesheets", headers=bearer(other["token"])), 404, "not-found")
    assert c.get(f"{CONTRACTS}/{k1['id']}/timesheets", headers=bearer(eng1["token"])).json() == {
        "contract_id": k1["id"], "items": []}
    assert [k["status"] for k in listing(c, client["token"], request_id=k1["request_id"])["items"]] == ["ended"]


def test_timesheets_of_an_hourly_contract(spawn, tmp_path_factory):
    e = money_env(spawn, tmp_path_factory)
    c, admin, client = e["c"], e["admin"], e["client"]
    k, eng = hourly_contract(c, admin, client, rate=10000, cap=10)
    week = k["milestones"][0]
    fund(c, client["token"], week["id"])
    t = submit_timesheet(c, eng["token"], k["id"], week["week_start"] or monday_of(server_now(c).date()), 6)
    approve_timesheet(c, client["token"], t["id"])
    r = c.get(f"{CONTRACTS}/{k['id']}/timesheets", headers=bearer(client["token"]))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["id"], i["hours"], i["amount"], i["status"]) for i in items] == [(t["id"], 6, 60000, "approved")]
    row = listing(c, eng["token"])["items"][0]
    assert (row["type"], row["hourly_rate"], row["weekly_cap_hours"]) == ("hourly", 10000, 10)


def test_roles(server, client):
    fresh = signed_in(client, role="client")
    assert_problem(client.get(CONTRACTS), 401, "unauthorized")
    assert listing(client, fresh["token"])["items"] == []
    vetter = create_staff(server, client, "vetter")
    for path in (CONTRACTS, f"{CONTRACTS}/ctr_00000000000000000000/payments",
                 f"{CONTRACTS}/ctr_00000000000000000000/timesheets"):
        assert_problem(client.get(path, headers=bearer(vetter["token"])), 403, "forbidden")
