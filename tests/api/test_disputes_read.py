"""Reading disputes: GET /api/v1/disputes/{id} for the contract's two
parties and admins (anyone else 404, learning nothing), and the admins'
list GET /api/v1/admin/disputes: open ones first, then newest first, with
status filters and cursor pages; bad queries are 400 naming the parameter."""
import pytest

from moneytest import DISPUTES, active_contract, dispute, fund, money_env, resolve, submit
from opxtest import assert_problem, bearer, demo_login, signed_in

ADMIN_LIST = "/api/v1/admin/disputes"


@pytest.fixture
def money(spawn, tmp_path_factory):
    return money_env(spawn, tmp_path_factory)


def disputed(c, admin, client, title_amounts=(20000,)):
    k, en = active_contract(c, admin, client, amounts=title_amounts)
    m = k["milestones"][0]
    fund(c, client["token"], m["id"])
    submit(c, en["token"], m["id"])
    return k, en, m, dispute(c, client["token"], m["id"], reason="It does not handle cancellation.")


def test_parties_and_admins_read_a_dispute_with_its_context_others_get_404(money):
    c, admin, cl = money["c"], money["admin"], money["client"]
    k, en, m, d = disputed(c, admin, cl)
    for who in (cl, en, admin):
        r = c.get(f"{DISPUTES}/{d['id']}", headers=bearer(who["token"]))
        assert r.status_code == 200, r.text
        v = r.json()
        assert {key: v[key] for key in d} == d  # what POST .../dispute answered, unchanged
        assert v["reason"] == "It does not handle cancellation."
        assert (v["status"], v["amount"], v["currency"], v["release"], v["refund"]) == ("open", 20000, "USD", None, None)
        assert (v["milestone_title"], v["contract_id"], v["request_id"]) == (m["title"], k["id"], k["request_id"])
        assert v["request_title"] == k["request_title"]
        assert (v["client_id"], v["client_name"], v["engineer_id"], v["engineer_name"]) == (
            k["client_id"], k["client_name"], k["engineer_id"], k["engineer_name"])
    # another client, another engineer, a vetter: 404, the same as for no dispute at all
    other = signed_in(c, role="client")["token"]
    for token in (other, demo_login(c, "engineer150@demo.opx")["token"]):
        assert_problem(c.get(f"{DISPUTES}/{d['id']}", headers=bearer(token)), 404, "not-found")
    assert_problem(c.get(f"{DISPUTES}/dsp_00000000000000000000", headers=bearer(admin["token"])), 404, "not-found")
    assert_problem(c.get(f"{DISPUTES}/{d['id']}", headers=bearer(demo_login(c, "vetter@demo.opx")["token"])),
                   403, "forbidden")
    # resolved, it says how it was split
    resolve(c, admin["token"], d["id"], 15000, 5000)
    v = c.get(f"{DISPUTES}/{d['id']}", headers=bearer(en["token"])).json()
    assert (v["status"], v["release"], v["refund"], v["resolved_by"]) == ("resolved", 15000, 5000, admin["id"])


def test_the_admins_list_puts_open_disputes_first_then_newest_and_pages(money):
    c, admin, cl = money["c"], money["admin"], money["client"]
    ds = [disputed(c, admin, cl)[3] for _ in range(4)]
    resolve(c, admin["token"], ds[1]["id"], 20000, 0)
    resolve(c, admin["token"], ds[3]["id"], 0, 20000)
    h = bearer(admin["token"])
    everything = c.get(ADMIN_LIST, headers=h).json()
    assert [x["id"] for x in everything["items"]] == [ds[2]["id"], ds[0]["id"], ds[3]["id"], ds[1]["id"]]
    assert everything["next_cursor"] is None
    assert [x["status"] for x in everything["items"]] == ["open", "open", "resolved", "resolved"]
    assert everything["items"][0]["client_name"] == cl["user"]["name"]
    # pages of one follow the same order, across the open/resolved boundary
    seen, cursor = [], None
    while True:
        page = c.get(ADMIN_LIST, params={"limit": 1, **({"cursor": cursor} if cursor else {})}, headers=h).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [x["id"] for x in everything["items"]]
    assert [x["id"] for x in c.get(ADMIN_LIST, params={"status": "open"}, headers=h).json()["items"]] == [
        ds[2]["id"], ds[0]["id"]]
    assert [x["id"] for x in c.get(ADMIN_LIST, params={"status": "resolved"}, headers=h).json()["items"]] == [
        ds[3]["id"], ds[1]["id"]]


@pytest.mark.parametrize("params,field", [({"status": "closed"}, "status"), ({"limit": "0"}, "limit"),
                                          ({"limit": "101"}, "limit"), ({"cursor": "x12"}, "cursor"),
                                          ({"cursor": "d"}, "cursor")])
def test_bad_list_queries_are_400_naming_the_parameter(money, params, field):
    c, admin = money["c"], money["admin"]
    p = assert_problem(c.get(ADMIN_LIST, params=params, headers=bearer(admin["token"])), 400, "bad-query")
    assert [e["field"] for e in p["errors"]] == [field]


def test_only_admins_list_disputes(money):
    c, cl = money["c"], money["client"]
    assert_problem(c.get(ADMIN_LIST, headers=bearer(cl["token"])), 403, "forbidden")
    assert_problem(c.get(ADMIN_LIST), 401, "unauthorized")
