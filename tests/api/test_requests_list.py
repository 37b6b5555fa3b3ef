"""GET /api/v1/requests (own requests, newest first, cursor pages; admins see
all) and GET /api/v1/me/notifications (invitations and SLA breaches)."""
import pytest

from opxtest import (advance_clock, assert_problem, bearer, create_request, demo_login, demo_server,
                     register, login, sign_in_again, wait_for)


@pytest.fixture
def demo(spawn, tmp_path_factory):
    s = demo_server(spawn, tmp_path_factory)
    c = s.client()
    yield s, c
    c.close()


def test_clients_page_through_their_own_requests_newest_first(demo):
    _, c = demo
    client = demo_login(c, "client@demo.opx")
    ids = [create_request(c, client["token"], title=f"Request {i}")["id"] for i in range(5)]
    other, _ = register(c, role="client")
    other_tok = login(c, other["email"]).json()["token"]
    create_request(c, other_tok, title="Someone else's")

    seen, cursor = [], None
    for _ in range(5):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        r = c.get("/api/v1/requests", params=params, headers=bearer(client["token"]))
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 2
        seen += [it["id"] for it in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids)), "own requests only, newest first, no gaps or repeats"
    item = c.get("/api/v1/requests", headers=bearer(client["token"])).json()["items"][0]
    assert item["status"] == "matching" and item["invited"] >= 1 and item["accepted"] == 0

    admin = demo_login(c, "admin@demo.opx")
    everyone = c.get("/api/v1/requests", params={"limit": 100}, headers=bearer(admin["token"])).json()["items"]
    assert len(everyone) == 6 and "Someone else's" in [it["title"] for it in everyone]


@pytest.mark.parametrize("params,field", [({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"),
                                           ({"limit": "x"}, "limit"), ({"cursor": "nope"}, "cursor"),
                                           ({"cursor": "r"}, "cursor"), ({"cursor": "r-5"}, "cursor")])
def test_bad_paging_is_400_naming_the_parameter(demo, params, field):
    _, c = demo
    client = demo_login(c, "client@demo.opx")
    r = c.get("/api/v1/requests", params=params, headers=bearer(client["token"]))
    assert_problem(r, 400, "bad-query", [field])


def test_engineers_may_not_list_requests(demo):
    _, c = demo
    eng = demo_login(c, "engineer1@demo.opx")
    assert_problem(c.get("/api/v1/requests", headers=bearer(eng["token"])), 403, "forbidden")
    assert_problem(c.get("/api/v1/requests"), 401, "unauthorized")


def test_invited_engineers_and_breaches_reach_the_notifications(demo):
    _, c = demo
    client = demo_login(c, "client@demo.opx")
    req = create_request(c, client["token"])
    admin = demo_login(c, "admin@demo.opx")
    first = req["candidates"][0]
    staff_view = c.get(f"/api/v1/engineers/{first['engineer_id']}", headers=bearer(admin["token"])).json()
    eng = demo_login(c, staff_view["engineer"]["email"])
    notes = c.get("/api/v1/me/notifications", headers=bearer(eng["token"])).json()["items"]
    assert any(n["kind"] == "invitation" and n["payload"]["candidate_id"] == first["id"] for n in notes)

    advance_clock(c, 8 * 3600 + 5)
    client = sign_in_again(c, client)
    admin = sign_in_again(c, admin)

    def breached():
        items = c.get("/api/v1/me/notifications", headers=bearer(admin["token"])).json()["items"]
        return [n for n in items if n["kind"] == "admin.sla_breach" and n["payload"]["request_id"] == req["id"]]
    wait_for(breached, what="the admin's breach notification")
    told = c.get("/api/v1/me/notifications", headers=bearer(client["token"])).json()["items"]
    assert [n for n in told if n["kind"] == "request.sla_breached" and n["payload"]["request_id"] == req["id"]]
    assert_problem(c.get("/api/v1/me/notifications"), 401, "unauthorized")
