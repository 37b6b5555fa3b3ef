"""Contracts and their milestones: a client offers a contract to a
candidate who accepted the invitation (fixed-price milestones, or an
hourly contract funded per week), the engineer accepts it (the candidate
is hired, the request filled), the client funds milestones into escrow,
the engineer submits, the client asks for changes or approves (the escrow
goes to the engineer's payable less the 10% fee), and 14 days of silence
after a submission release it automatically. Ending a contract refunds
what is funded and drops what is not. Bad offers are 422 naming the field
and store nothing; moves in the wrong state are 409 wrong-state with the
entity and its state; a contract is its parties' and the admins' only
(anyone else 404, a wrong role 403), and no refused move moves money.
Each test runs on a demo population of its own."""
import re

import pytest

from moneytest import (conflict, money_env, CONTRACTS, ID, MILESTONES, active_contract, approve, balances, contract_move, dispute,
                       fee, fixed_offer, fund, get_contract, hourly_offer, invited_candidate, ledger, ledger_verify,
                       money_pair, new_key, nonzero, offer, request_changes, state, submit, totals)
from mailtest import outbox
from opxtest import (DAY, HOUR, Event, advance_clock, assert_problem, bearer, db_rows, decline, demo_login,
                     days_from_today, get_request, open_events, parse_time, seconds_between,
                     sign_in_again, signed_in, wait_for)

AUTO_RELEASE_S = 14 * DAY


@pytest.fixture
def money(spawn, tmp_path_factory):
    return money_env(spawn, tmp_path_factory)




def server_now(c):
    return parse_time(advance_clock(c, 0)["now"])


def contracts_stored(srv):
    return db_rows(srv, "SELECT count(*) FROM contracts")[0][0], db_rows(srv, "SELECT count(*) FROM milestones")[0][0]


def money_kinds(events):
    return [e.event for e in events if isinstance(e, Event) and e.event.split(".")[0] in ("contract", "milestone")]


# ---- the walk ---------------------------------------------------------------------------------------


def test_the_fixed_price_walk_from_offer_to_release(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    p = money_pair(c, admin, cl)
    req, k, en = p["request"], p["candidate"], p["engineer"]
    a1, a2 = 150005, 49999  # fees: floor(15000.5) = 15000, floor(4999.9) = 4999
    assert balances(c, en["token"]) == {}

    with open_events(srv, en["token"]) as stream:
        # the offer: 201 with exactly the contract the contract describes
        body = fixed_offer(k["id"], (a1, a2))
        before = server_now(c)
        got = offer(c, cl["token"], body)
        kid, ms = got["id"], got["milestones"]
        assert re.fullmatch(f"ctr_{ID}", kid), kid
        assert len(ms) == 2 and all(re.fullmatch(f"mst_{ID}", m["id"]) for m in ms) and ms[0]["id"] != ms[1]["id"]
        assert 0 <= seconds_between(before.strftime("%Y-%m-%dT%H:%M:%SZ"), got["created_at"]) <= 2, got
        created = got["created_at"]

        def milestone(i, **over):
            m = {"id": ms[i]["id"], "contract_id": kid, "position": i + 1, "title": body["milestones"][i]["title"],
                 "amount": body["milestones"][i]["amount"], "currency": "USD", "due": body["milestones"][i]["due"],
                 "week_start": None, "status": "pending", "escrow": 0, "note": None, "links": [],
                 "changes_note": None, "dispute_id": None, "created_at": created, "funded_at": None,
                 "submitted_at": None, "settled_at": None}
            m.update(over)
            return m

        assert got == {
            "id": kid, "request_id": req["id"], "request_title": req["title"], "candidate_id": k["id"],
            "client_id": cl["id"], "client_name": cl["user"]["name"], "engineer_id": en["id"],
            "engineer_name": k["engineer_name"], "type": "fixed", "status": "offered", "currency": "USD",
            "hourly_rate": None, "weekly_cap_hours": None, "fee_bps": 1000, "escrow": 0,
            "milestones": [milestone(0), milestone(1)], "created_at": created, "accepted_at": None, "ended_at": None}
        # both parties and an admin read the same contract
        for who in (cl, en, admin):
            assert get_contract(c, who["token"], kid) == got, who["email"]
        # not active yet: nothing can be funded
        conflict(fund(c, cl["token"], ms[0]["id"], expect=409), "contract", "offered")

        # the engineer accepts: the candidate is hired and the request filled
        acc = contract_move(c, en["token"], kid, "accept")
        assert acc["accepted_at"] is not None and 0 <= seconds_between(created, acc["accepted_at"]) <= 2
        assert acc == {**got, "status": "active", "accepted_at": acc["accepted_at"]}
        r = get_request(c, cl["token"], req["id"])
        assert r["status"] == "filled", r
        assert [x["status"] for x in r["candidates"] if x["id"] == k["id"]] == ["hired"]
        conflict(contract_move(c, en["token"], kid, "accept", expect=409), "contract", "active")
        conflict(contract_move(c, en["token"], kid, "decline", expect=409), "contract", "active")

        # funding both milestones moves their amounts into escrow
        m1, m2 = ms[0]["id"], ms[1]["id"]
        f1 = fund(c, cl["token"], m1)
        assert "idempotent-replayed" not in f1.headers
        assert f1.json() == milestone(0, status="funded", escrow=a1, funded_at=f1.json()["funded_at"])
        assert state(c, cl["token"], kid) == (a1, [("funded", a1), ("pending", 0)])
        assert balances(c, en["token"]) == {"USD": {"currency": "USD", "payable": 0, "paid_out": 0, "in_transit": 0, "pending": a1}}
        fund(c, cl["token"], m2)
        assert state(c, en["token"], kid) == (a1 + a2, [("funded", a1), ("funded", a2)])
        assert nonzero(totals(c, admin["token"])) == {"gateway_clearing": -(a1 + a2), "escrow": a1 + a2}

        # submit with links, changes requested (back to funded, money stays), submit again, approve
        links = ["https://github.com/example/pr/1", "http://ci.example.test/build/7"]
        s1 = submit(c, en["token"], m1, "First cut: the retry path.", links)
        assert (s1["status"], s1["note"], s1["links"], s1["escrow"]) == ("submitted", "First cut: the retry path.",
                                                                        links, a1)
        assert s1["submitted_at"] is not None and s1["settled_at"] is None
        assert state(c, cl["token"], kid) == (a1 + a2, [("submitted", a1), ("funded", a2)])
        wish = "Please add tests for the timeout branch."
        ch = request_changes(c, cl["token"], m1, wish)
        assert (ch["status"], ch["changes_note"], ch["escrow"]) == ("funded", wish, a1)
        assert state(c, cl["token"], kid) == (a1 + a2, [("funded", a1), ("funded", a2)])
        pr2 = ["https://github.com/example/pr/2"]
        s2 = submit(c, en["token"], m1, "Tests added.", pr2)
        assert (s2["status"], s2["note"], s2["links"]) == ("submitted", "Tests added.", pr2)
        ap = approve(c, cl["token"], m1).json()
        assert (ap["status"], ap["escrow"], ap["amount"]) == ("released", 0, a1) and ap["settled_at"] is not None
        assert state(c, cl["token"], kid) == (a2, [("released", 0), ("funded", a2)])
        assert balances(c, en["token"])["USD"] == {"currency": "USD", "payable": a1 - fee(a1), "paid_out": 0, "in_transit": 0,
                                                    "pending": a2}

        submit(c, en["token"], m2)
        approve(c, cl["token"], m2)
        final = get_contract(c, admin["token"], kid)
        assert (final["status"], final["escrow"]) == ("active", 0)
        assert [(m["status"], m["escrow"]) for m in final["milestones"]] == [("released", 0), ("released", 0)]
        payable = a1 - fee(a1) + a2 - fee(a2)
        assert payable == 180005
        assert balances(c, en["token"]) == {"USD": {"currency": "USD", "payable": payable, "paid_out": 0, "in_transit": 0,
                                                    "pending": 0}}

        # the ledger: double entry, every balance re-derived, the fee to revenue
        t = totals(c, admin["token"])
        assert t == {"gateway_clearing": -(a1 + a2), "client_funding": 0, "escrow": 0, "payable": payable,
                     "revenue": fee(a1) + fee(a2)}
        rep = ledger(c, admin["token"])
        accounts = {a["id"]: a for a in rep["accounts"]}
        assert accounts[f"payable:{en['id']}:USD"] == {"id": f"payable:{en['id']}:USD", "kind": "payable",
                                                       "owner": en["id"], "currency": "USD", "balance": payable}
        assert accounts["revenue:USD"]["balance"] == 19999 and accounts["revenue:USD"]["owner"] is None
        assert accounts[f"escrow:{kid}"]["balance"] == 0
        assert [abs(a["balance"]) for a in rep["accounts"]] == sorted((abs(a["balance"]) for a in rep["accounts"]),
                                                                      reverse=True)
        # `opx ledger verify` reads the live database (read-only) and agrees
        rc, out = ledger_verify(srv)
        assert rc == 0, out
        assert out.endswith("OK: 0 violations\n") and re.search(r"USD payable\s+180005\n", out), out

        # the engineer heard of every step, live, in order
        got_events = stream.quiet_events(quiet=0.5)
    assert money_kinds(got_events) == ["contract.offered", "contract.accepted", "milestone.funded", "milestone.funded",
                                       "milestone.submitted", "milestone.changes_requested", "milestone.submitted",
                                       "milestone.released", "milestone.submitted", "milestone.released"]
    assert all(e.data["contract_id"] == kid for e in got_events if e.event.startswith(("contract.", "milestone.")))
    # and mail went to the other party of each step
    mails = {(m["kind"], m["to"]) for m in outbox(c, admin["token"])}
    assert {("contract.offered", en["email"]), ("contract.accepted", cl["email"]),
            ("milestone.funded", en["email"]), ("milestone.submitted", cl["email"]),
            ("milestone.released", en["email"])} <= mails, mails


# ---- offers -------------------------------------------------------------------------------------------


def _bad_offers(cid):
    fixed = fixed_offer(cid, (10000, 20000))
    m0 = fixed["milestones"][0]

    def with_milestone(i=0, **over):
        b = fixed_offer(cid, (10000, 20000))
        b["milestones"][i] = {k: v for k, v in {**b["milestones"][i], **over}.items() if v is not None}
        return b

    hourly = hourly_offer(cid)
    return [
        ("no candidate", {k: v for k, v in fixed.items() if k != "candidate_id"}, ["candidate_id"]),
        ("empty candidate", {**fixed, "candidate_id": ""}, ["candidate_id"]),
        ("long candidate", {**fixed, "candidate_id": "c" * 32}, ["candidate_id"]),
        ("number candidate", {**fixed, "candidate_id": 7}, ["candidate_id"]),
        ("no type", {k: v for k, v in fixed.items() if k != "type"}, ["type"]),
        ("bad type", {**fixed, "type": "retainer"}, ["type"]),
        ("no currency", {k: v for k, v in fixed.items() if k != "currency"}, ["currency"]),
        ("lower currency", {**fixed, "currency": "usd"}, ["currency"]),
        ("other currency", {**fixed, "currency": "JPY"}, ["currency"]),
        ("unknown field", {**fixed, "budget": 5}, ["budget"]),
        ("fixed without milestones", {k: v for k, v in fixed.items() if k != "milestones"}, ["milestones"]),
        ("no milestones", {**fixed, "milestones": []}, ["milestones"]),
        ("21 milestones", {**fixed, "milestones": [m0] * 21}, ["milestones"]),
        ("milestone not an object", {**fixed, "milestones": ["design"]}, ["milestones[0]"]),
        ("empty title", with_milestone(title=""), ["milestones[0].title"]),
        ("long title", with_milestone(1, title="t" * 201), ["milestones[1].title"]),
        ("no title", with_milestone(title=None), ["milestones[0].title"]),
        ("amount 99", with_milestone(amount=99), ["milestones[0].amount"]),
        ("amount too large", with_milestone(amount=100000001), ["milestones[0].amount"]),
        ("amount as text", with_milestone(amount="10000"), ["milestones[0].amount"]),
        ("amount fractional", with_milestone(amount=100.5), ["milestones[0].amount"]),
        ("no amount", with_milestone(amount=None), ["milestones[0].amount"]),
        ("due yesterday", with_milestone(1, due=days_from_today(-1)), ["milestones[1].due"]),
        ("due not a date", with_milestone(due="2030-02-30"), ["milestones[0].due"]),
        ("due words", with_milestone(due="next week"), ["milestones[0].due"]),
        ("no due", with_milestone(due=None), ["milestones[0].due"]),
        ("milestone extra", with_milestone(note="x"), ["milestones[0].note"]),
        ("hourly_rate on fixed", {**fixed, "hourly_rate": 9000}, ["hourly_rate"]),
        ("weekly_cap_hours on fixed", {**fixed, "weekly_cap_hours": 10}, ["weekly_cap_hours"]),
        ("start_date on fixed", {**fixed, "start_date": days_from_today(3)}, ["start_date"]),
        ("milestones on hourly", {**hourly, "milestones": fixed["milestones"]}, ["milestones"]),
        ("hourly without rate", {k: v for k, v in hourly.items() if k != "hourly_rate"}, ["hourly_rate"]),
        ("hourly without cap", {k: v for k, v in hourly.items() if k != "weekly_cap_hours"}, ["weekly_cap_hours"]),
        ("hourly without both", {k: v for k, v in hourly.items() if k not in ("hourly_rate", "weekly_cap_hours")},
         ["hourly_rate", "weekly_cap_hours"]),
        ("rate 499", {**hourly, "hourly_rate": 499}, ["hourly_rate"]),
        ("rate too high", {**hourly, "hourly_rate": 100001}, ["hourly_rate"]),
        ("cap 0", {**hourly, "weekly_cap_hours": 0}, ["weekly_cap_hours"]),
        ("cap 61", {**hourly, "weekly_cap_hours": 61}, ["weekly_cap_hours"]),
        ("start yesterday", {**hourly, "start_date": days_from_today(-1)}, ["start_date"]),
        ("start not a date", {**hourly, "start_date": "2030-13-01"}, ["start_date"]),
    ]


def test_every_bad_offer_field_is_422_naming_it_and_stores_nothing(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    p = money_pair(c, admin, cl)
    h = bearer(cl["token"])
    for name, body, fields in _bad_offers(p["candidate"]["id"]):
        r = c.post(CONTRACTS, json=body, headers=h)
        assert r.status_code == 422, (name, r.text)
        assert_problem(r, 422, "validation", fields)
    assert_problem(c.post(CONTRACTS, content=b'{"candidate_id": ', headers={**h, "Content-Type": "application/json"}),
                   400, "malformed-json")
    assert_problem(c.post(CONTRACTS, content=b"candidate", headers={**h, "Content-Type": "text/plain"}),
                   415, "unsupported-media-type")
    assert contracts_stored(srv) == (0, 0)
    assert get_request(c, cl["token"], p["request"]["id"])["status"] == "matching"
    # and the candidate can still be offered a contract
    assert offer(c, cl["token"], fixed_offer(p["candidate"]["id"]))["status"] == "offered"


def test_a_fixed_offer_with_null_milestones_is_refused(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    p = money_pair(c, admin, cl)
    body = {"candidate_id": p["candidate"]["id"], "type": "fixed", "currency": "USD", "milestones": None}
    r = c.post(CONTRACTS, json=body, headers=bearer(cl["token"]))
    assert_problem(r, 422, "validation", ["milestones"])
    assert contracts_stored(srv) == (0, 0)


@pytest.mark.parametrize("field", ["hourly_rate", "weekly_cap_hours"])
def test_an_hourly_offer_with_a_null_rate_or_cap_is_422(money, field):
    c, admin, cl = money["c"], money["admin"], money["client"]
    p = money_pair(c, admin, cl)
    body = {**hourly_offer(p["candidate"]["id"]), field: None}
    r = c.post(CONTRACTS, json=body, headers=bearer(cl["token"]))
    assert_problem(r, 422, "validation", [field])


def test_who_may_be_offered_a_contract(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    p = money_pair(c, admin, cl)
    k, en = p["candidate"], p["engineer"]
    h = bearer(cl["token"])

    # only invited, or declined: 409 naming the candidate and its status
    _, invited, invitee = invited_candidate(c, admin, cl)
    conflict(offer(c, cl["token"], fixed_offer(invited["id"]), expect=409), "candidate", "invited")
    decline(c, invitee["token"], invited["id"], reason="Booked.")
    conflict(offer(c, cl["token"], fixed_offer(invited["id"]), expect=409), "candidate", "declined")
    # unknown, or another client's candidate (who accepted): 404, as if it did not exist
    assert_problem(c.post(CONTRACTS, json=fixed_offer("cnd_00000000000000000000"), headers=h), 404, "not-found")
    other = signed_in(c, role="client", name="Other Client")
    theirs = money_pair(c, admin, other)
    assert_problem(c.post(CONTRACTS, json=fixed_offer(theirs["candidate"]["id"]), headers=h), 404, "not-found")
    # the client role only
    assert_problem(c.post(CONTRACTS, json=fixed_offer(k["id"]), headers=bearer(en["token"])), 403, "forbidden")
    assert_problem(c.post(CONTRACTS, json=fixed_offer(k["id"]), headers=bearer(admin["token"])), 403, "forbidden")
    assert contracts_stored(srv) == (0, 0)

    # one open contract per candidate: a second offer is 409 naming the contract
    first = offer(c, cl["token"], fixed_offer(k["id"]))
    conflict(offer(c, cl["token"], fixed_offer(k["id"], (5000,)), expect=409), "contract", "offered")
    # another engineer cannot answer it; the engineer declines; the candidate may be offered again
    stranger = next(e for e in (demo_login(c, f"engineer{n}@demo.opx") for n in range(1, 40)) if e["id"] != en["id"])
    assert_problem(c.post(f"{CONTRACTS}/{first['id']}/accept", headers=bearer(stranger["token"])), 404, "not-found")
    assert_problem(c.post(f"{CONTRACTS}/{first['id']}/accept", headers=bearer(cl["token"])), 403, "forbidden")
    dec = contract_move(c, en["token"], first["id"], "decline")
    assert dec["status"] == "declined" and dec["ended_at"] is not None and dec["accepted_at"] is None
    conflict(contract_move(c, en["token"], first["id"], "accept", expect=409), "contract", "declined")
    conflict(contract_move(c, cl["token"], first["id"], "end", expect=409), "contract", "declined")
    assert get_request(c, cl["token"], p["request"]["id"])["status"] == "matching"
    second = offer(c, cl["token"], fixed_offer(k["id"], (5000,)))
    assert second["id"] != first["id"] and [m["amount"] for m in second["milestones"]] == [5000]
    # a body on accept must be empty or {}
    assert_problem(c.post(f"{CONTRACTS}/{second['id']}/accept", json={"now": True}, headers=bearer(en["token"])),
                   422, "validation", ["now"])
    contract_move(c, en["token"], second["id"], "accept", json={})
    # hired now: no further offer
    conflict(offer(c, cl["token"], fixed_offer(k["id"]), expect=409), "candidate", "hired")
    assert contracts_stored(srv) == (2, 3)


# ---- who may see and move what ----------------------------------------------------------------------------


def test_outsiders_get_404_wrong_roles_403_and_refused_moves_move_nothing(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(30000, 20000, 10000))
    kid = k["id"]
    m1, m2, m3 = (m["id"] for m in k["milestones"])
    fund(c, cl["token"], m1)
    fund(c, cl["token"], m2)
    submit(c, en["token"], m1)  # m1 submitted, m2 funded, m3 pending
    before = (get_contract(c, admin["token"], kid), totals(c, admin["token"]), balances(c, en["token"]))
    assert before[1]["escrow"] == 50000

    other_client = signed_in(c, role="client", name="Other Client")
    other_engineer = next(e for e in (demo_login(c, f"engineer{n}@demo.opx") for n in range(1, 40))
                          if e["id"] != en["id"])
    vetter = demo_login(c, "vetter@demo.opx")

    # reading: the parties and admins only
    for who in (other_client, other_engineer, vetter):
        assert_problem(c.get(f"{CONTRACTS}/{kid}", headers=bearer(who["token"])), 404, "not-found")
    for who in (cl, en):
        assert_problem(c.get(f"{CONTRACTS}/ctr_00000000000000000000", headers=bearer(who["token"])), 404, "not-found")

    # someone else's milestones: 404, as if they did not exist
    oc = other_client["token"]
    assert_problem(approve(c, oc, m1, expect=404), 404, "not-found")
    assert_problem(fund(c, oc, m3, expect=404), 404, "not-found")
    assert_problem(request_changes(c, oc, m1, expect=404), 404, "not-found")
    assert_problem(dispute(c, oc, m2, expect=404), 404, "not-found")
    assert_problem(c.post(f"{CONTRACTS}/{kid}/end", headers=bearer(oc)), 404, "not-found")
    assert_problem(submit(c, other_engineer["token"], m2, expect=404), 404, "not-found")
    assert_problem(dispute(c, other_engineer["token"], m2, expect=404), 404, "not-found")
    assert_problem(c.post(f"{CONTRACTS}/{kid}/end", headers=bearer(other_engineer["token"])), 404, "not-found")
    assert_problem(fund(c, cl["token"], "mst_00000000000000000000", expect=404), 404, "not-found")
    assert_problem(approve(c, cl["token"], "mst_00000000000000000000", expect=404), 404, "not-found")

    # the wrong party or role: 403
    assert_problem(approve(c, en["token"], m1, expect=403), 403, "forbidden")
    assert_problem(fund(c, en["token"], m3, expect=403), 403, "forbidden")
    assert_problem(request_changes(c, en["token"], m1, expect=403), 403, "forbidden")
    assert_problem(submit(c, cl["token"], m2, expect=403), 403, "forbidden")
    assert_problem(dispute(c, vetter["token"], m2, expect=403), 403, "forbidden")
    assert_problem(dispute(c, admin["token"], m2, expect=403), 403, "forbidden")
    assert_problem(c.post(f"{CONTRACTS}/{kid}/end", headers=bearer(vetter["token"])), 403, "forbidden")
    assert_problem(c.get("/api/v1/me/balance", headers=bearer(cl["token"])), 403, "forbidden")
    assert_problem(c.get("/api/v1/admin/ledger", headers=bearer(cl["token"])), 403, "forbidden")
    assert_problem(c.get("/api/v1/admin/ledger", headers=bearer(en["token"])), 403, "forbidden")

    # the wrong state: 409 naming the milestone and its status
    conflict(fund(c, cl["token"], m2, expect=409), "milestone", "funded")  # funding twice, another key
    conflict(fund(c, cl["token"], m1, expect=409), "milestone", "submitted")
    conflict(approve(c, cl["token"], m2, expect=409), "milestone", "funded")  # funded, not submitted
    conflict(approve(c, cl["token"], m3, expect=409), "milestone", "pending")
    conflict(submit(c, en["token"], m3, expect=409), "milestone", "pending")
    conflict(submit(c, en["token"], m1, expect=409), "milestone", "submitted")
    conflict(request_changes(c, cl["token"], m2, expect=409), "milestone", "funded")
    conflict(dispute(c, cl["token"], m3, expect=409), "milestone", "pending")
    conflict(contract_move(c, en["token"], kid, "accept", expect=409), "contract", "active")
    conflict(contract_move(c, cl["token"], kid, "end", expect=409), "milestone", "submitted")

    # bad bodies: 422 naming the field
    h = bearer(en["token"])
    for body, fields in [({}, ["note"]), ({"note": ""}, ["note"]), ({"note": "n" * 5001}, ["note"]),
                         ({"note": "x", "links": ["ftp://example.test/a"]}, ["links[0]"]),
                         ({"note": "x", "links": ["https://ok.test", "https://bad example.test"]}, ["links[1]"]),
                         ({"note": "x", "links": ["https://e.test/" + "a" * 186]}, ["links[0]"]),
                         ({"note": "x", "links": ["https://e.test/"] * 6}, ["links"]),
                         ({"note": "x", "links": "https://e.test/"}, ["links"]),
                         ({"note": "x", "also": 1}, ["also"])]:
        assert_problem(c.post(f"{MILESTONES}/{m2}/submit", json=body, headers=h), 422, "validation", fields)
    hc = {**bearer(cl["token"]), "Idempotency-Key": new_key()}
    for body, fields in [({}, ["payment_method"]), ({"payment_method": ""}, ["payment_method"]),
                         ({"payment_method": "t" * 256}, ["payment_method"]),
                         ({"payment_method": 4242}, ["payment_method"])]:
        assert_problem(c.post(f"{MILESTONES}/{m3}/fund", json=body, headers=hc), 422, "validation", fields)
    assert_problem(c.post(f"{MILESTONES}/{m1}/approve", json={"ok": True}, headers=hc), 422, "validation", ["ok"])
    assert_problem(c.post(f"{MILESTONES}/{m1}/request-changes", json={"note": "n" * 2001}, headers=bearer(cl["token"])),
                   422, "validation", ["note"])
    assert_problem(c.post(f"{MILESTONES}/{m2}/dispute", json={"reason": ""}, headers=bearer(cl["token"])),
                   422, "validation", ["reason"])

    # nothing of it moved anything
    assert (get_contract(c, admin["token"], kid), totals(c, admin["token"]), balances(c, en["token"])) == before
    assert ledger_verify(srv)[0] == 0
    # and the admin reads it
    assert get_contract(c, admin["token"], kid) == get_contract(c, cl["token"], kid)


def test_a_link_without_a_host_is_refused(money):
    c, admin, cl = money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(7000,))
    mid = k["milestones"][0]["id"]
    fund(c, cl["token"], mid)
    for link in ("https://", "http://"):
        r = c.post(f"{MILESTONES}/{mid}/submit", json={"note": "Done.", "links": ["https://example.test/ok", link]},
                   headers=bearer(en["token"]))
        assert_problem(r, 422, "validation", ["links[1]"])
    assert state(c, cl["token"], k["id"]) == (7000, [("funded", 7000)])


# ---- ending ------------------------------------------------------------------------------------------------


def test_ending_refunds_funded_milestones_drops_pending_ones_and_waits_for_submitted_ones(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    amounts = (40000, 30000, 20000, 10000)
    k, en = active_contract(c, admin, cl, amounts=amounts)
    kid = k["id"]
    m1, m2, m3, m4 = (m["id"] for m in k["milestones"])
    for m in (m1, m2, m4):
        fund(c, cl["token"], m)
    submit(c, en["token"], m1)
    approve(c, cl["token"], m1)  # m1 released
    submit(c, en["token"], m4)  # m4 submitted, m2 funded, m3 pending
    before = (get_contract(c, admin["token"], kid), totals(c, admin["token"]))
    assert before[1]["escrow"] == 40000

    # a submitted milestone waits for the client's answer: 409 and nothing changes
    conflict(contract_move(c, cl["token"], kid, "end", expect=409), "milestone", "submitted")
    conflict(contract_move(c, en["token"], kid, "end", expect=409), "milestone", "submitted")
    assert (get_contract(c, admin["token"], kid), totals(c, admin["token"])) == before

    request_changes(c, cl["token"], m4, "Not needed after all.")
    ended = contract_move(c, en["token"], kid, "end", json={})
    assert (ended["status"], ended["escrow"]) == ("ended", 0) and ended["ended_at"] is not None
    assert [(m["status"], m["escrow"]) for m in ended["milestones"]] == [
        ("released", 0), ("refunded", 0), ("refunded", 0), ("refunded", 0)]
    assert all(m["settled_at"] is not None for m in ended["milestones"])
    assert get_contract(c, cl["token"], kid) == ended
    # the funded money went back through client funding to the gateway; the released part stayed
    assert totals(c, admin["token"]) == {"gateway_clearing": -40000, "client_funding": 0, "escrow": 0,
                                         "payable": 40000 - fee(40000), "revenue": fee(40000)}
    assert balances(c, en["token"])["USD"] == {"currency": "USD", "payable": 36000, "paid_out": 0, "in_transit": 0, "pending": 0}
    refunds = db_rows(srv, "SELECT milestone_id FROM ledger_txns WHERE kind = 'refund' ORDER BY seq")
    assert sorted(r[0] for r in refunds) == sorted([m2, m4])  # the pending m3 moved no money

    # ended is final
    conflict(contract_move(c, cl["token"], kid, "end", expect=409), "contract", "ended")
    conflict(fund(c, cl["token"], m3, expect=409), "contract", "ended")
    conflict(submit(c, en["token"], m2, expect=409), "contract", "ended")
    rc, out = ledger_verify(srv)
    assert rc == 0, out


# ---- auto-release -------------------------------------------------------------------------------------------


def test_fourteen_silent_days_release_a_submission_unless_changes_were_requested(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(100000, 60000))
    kid = k["id"]
    m1, m2 = (m["id"] for m in k["milestones"])
    fund(c, cl["token"], m1)
    fund(c, cl["token"], m2)
    submit(c, en["token"], m1)
    submit(c, en["token"], m2)
    dispute(c, en["token"], m2, reason="The client stopped answering.")  # a dispute stops the clock too
    request_changes(c, cl["token"], m1, "One more pass, please.")  # cancels m1's release

    advance_clock(c, AUTO_RELEASE_S + HOUR)
    people = (cl, en, admin)
    for who in people:
        sign_in_again(c, who)  # 14 days is a session's lifetime
    advance_clock(c, 5)  # a second pass of the jobs
    assert state(c, cl["token"], kid) == (160000, [("funded", 100000), ("disputed", 60000)])
    assert balances(c, en["token"])["USD"]["payable"] == 0

    # submitted again: 14 days later it is released by "system", ledger and all
    again = submit(c, en["token"], m1, "Second pass done.")
    submitted_at = again["submitted_at"]
    advance_clock(c, AUTO_RELEASE_S - HOUR)
    for who in people:
        sign_in_again(c, who)
    assert state(c, cl["token"], kid)[1][0] == ("submitted", 100000)  # not yet
    advance_clock(c, HOUR + 60)
    m = wait_for(lambda: next((x for x in get_contract(c, cl["token"], kid)["milestones"]
                               if x["id"] == m1 and x["status"] == "released"), None), 10, "the auto-release")
    assert m["escrow"] == 0 and seconds_between(submitted_at, m["settled_at"]) >= AUTO_RELEASE_S
    assert balances(c, en["token"])["USD"] == {"currency": "USD", "payable": 90000, "paid_out": 0, "in_transit": 0, "pending": 60000}
    released_by = db_rows(srv, "SELECT actor_id, detail FROM audit_log WHERE entity = 'milestone' AND entity_id = ?"
                               " AND detail LIKE '%\"to\":\"released\"%'", m1)
    assert released_by == [("system", '{"from":"submitted","to":"released"}')], released_by
    txns = db_rows(srv, "SELECT kind, memo FROM ledger_txns WHERE milestone_id = ? ORDER BY seq", m1)
    assert [t[0] for t in txns] == ["fund", "release"] and txns[1][1] == "auto-release after 14 days", txns
    # once released, the client's approval is too late
    conflict(approve(c, cl["token"], m1, expect=409), "milestone", "released")
    assert nonzero(totals(c, admin["token"])) == {"gateway_clearing": -160000, "escrow": 60000, "payable": 90000,
                                                  "revenue": 10000}



# ---- hourly ---------------------------------------------------------------------------------------------------


def monday_of(iso):
    import datetime
    d = datetime.date.fromisoformat(iso)
    return (d - datetime.timedelta(days=d.weekday())).isoformat()


def test_an_hourly_contract_is_funded_one_capped_week_at_a_time(money):
    c, admin, cl = money["c"], money["admin"], money["client"]
    p = money_pair(c, admin, cl)
    k, en = p["candidate"], p["engineer"]

    # starting on a given day: the week holding it
    start = days_from_today(9)
    h1 = offer(c, cl["token"], hourly_offer(k["id"], rate=9050, cap=25, currency="EUR", start_date=start))
    week = monday_of(start)
    assert (h1["type"], h1["hourly_rate"], h1["weekly_cap_hours"], h1["currency"], h1["escrow"]) == \
        ("hourly", 9050, 25, "EUR", 0)
    [m] = h1["milestones"]
    assert {x: m[x] for x in ("position", "title", "amount", "currency", "due", "week_start", "status", "escrow")} == \
        {"position": 1, "title": f"Week of {week}", "amount": 9050 * 25, "currency": "EUR", "due": None,
         "week_start": week, "status": "pending", "escrow": 0}
    contract_move(c, en["token"], h1["id"], "decline")

    # without a start date: this week (UTC, by the server's clock)
    h2 = offer(c, cl["token"], hourly_offer(k["id"], rate=500, cap=1))
    this_week = monday_of(server_now(c).date().isoformat())
    assert [(x["title"], x["week_start"], x["amount"]) for x in h2["milestones"]] == \
        [(f"Week of {this_week}", this_week, 500)]
    contract_move(c, en["token"], h2["id"], "decline")

    # the largest week, funded like any milestone
    h3 = offer(c, cl["token"], hourly_offer(k["id"], rate=100000, cap=60, start_date=days_from_today(0)))
    contract_move(c, en["token"], h3["id"], "accept")
    mid = h3["milestones"][0]["id"]
    f = fund(c, cl["token"], mid).json()
    assert (f["status"], f["escrow"], f["amount"]) == ("funded", 6000000, 6000000)
    assert state(c, en["token"], h3["id"]) == (6000000, [("funded", 6000000)])
    assert balances(c, en["token"])["USD"]["pending"] == 6000000
    assert nonzero(totals(c, admin["token"])) == {"gateway_clearing": -6000000, "escrow": 6000000}
    assert get_request(c, cl["token"], p["request"]["id"])["status"] == "filled"
