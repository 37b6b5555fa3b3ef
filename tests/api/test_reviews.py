"""Reviews: once a contract has ended each party may review the other,
once, within 14 days. They are double-blind: a review shows to its author
at once and to the other party (and admins) only when both have written --
then both are published together -- or when the window closes and a job
publishes whatever was written. An engineer's rating is the average of the
published reviews about them. Bad reviews are 422 naming the field,
reviews out of time or twice 409 wrong-state, and a contract's reviews
are its parties' and the admins' only. Each test runs on a demo population
of its own."""
import json

import pytest

from moneytest import CONTRACTS, conflict, money_env, active_contract, contract_move, fixed_offer, money_pair, offer, review, reviews
from opxtest import (DAY, Event, accept, advance_clock, assert_problem, bearer, create_request, db_rows,
                     demo_login, open_events, seconds_between, sign_in_again, signed_in, wait_for)

WINDOW_S = 14 * DAY


@pytest.fixture
def money(spawn, tmp_path_factory):
    return money_env(spawn, tmp_path_factory)




def ended_contract(c, admin, cl, pair=None, by="client"):
    """A fixed-price contract accepted and then ended (its pending milestone dropped): (contract, engineer)."""
    k, en = active_contract(c, admin, cl, amounts=(10000,), pair=pair)
    k = contract_move(c, (cl if by == "client" else en)["token"], k["id"], "end")
    assert k["status"] == "ended" and k["ended_at"] is not None
    return k, en


def rating(c, token, engineer_id):
    """The engineer's rating as GET /api/v1/engineers/{id} shows it."""
    r = c.get(f"/api/v1/engineers/{engineer_id}", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()["engineer"]["rating"]


def by_role(view):
    return {v["author_role"]: v for v in view["items"]}


def published_events(srv, user_id):
    """The contract ids of the reviews.published events stored for a user, oldest first."""
    return [json.loads(p)["contract_id"] for (p,) in
            db_rows(srv, "SELECT payload FROM events WHERE user_id = ? AND kind = 'reviews.published' ORDER BY id",
                    user_id)]


# ---- the double-blind walk ---------------------------------------------------------------------------------------


def test_reviews_open_at_the_end_and_stay_blind_until_both_parties_wrote(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = active_contract(c, admin, cl, amounts=(10000,))
    kid = k["id"]
    assert rating(c, cl["token"], en["id"]) is None

    # not before the end
    conflict(review(c, cl["token"], kid, expect=409), "contract", "active")
    conflict(review(c, en["token"], kid, expect=409), "contract", "active")
    for who in (cl, en, admin):
        assert reviews(c, who["token"], kid) == {"items": [], "written": 0, "window_closes_at": None}

    ended = contract_move(c, cl["token"], kid, "end")
    closes = reviews(c, en["token"], kid)["window_closes_at"]
    assert seconds_between(ended["ended_at"], closes) == WINDOW_S

    with open_events(srv, cl["token"]) as cl_stream, open_events(srv, en["token"]) as en_stream:
        # the client writes first: they see it, nobody else does
        mine = review(c, cl["token"], kid, 4, "Good work, a little slow to answer.")
        own = mine["items"][0]
        assert mine == {"items": [{"author_id": cl["id"], "author_name": cl["user"]["name"], "author_role": "client",
                                   "subject_id": en["id"], "rating": 4,
                                   "comment": "Good work, a little slow to answer.",
                                   "created_at": own["created_at"], "published_at": None}],
                        "written": 1, "window_closes_at": closes}
        assert 0 <= seconds_between(ended["ended_at"], own["created_at"]) <= 2
        assert reviews(c, cl["token"], kid) == mine
        for who in (en, admin):
            assert reviews(c, who["token"], kid) == {"items": [], "written": 1, "window_closes_at": closes}
        assert rating(c, admin["token"], en["id"]) is None  # unpublished reviews count for nothing
        assert [e for e in cl_stream.quiet_events(quiet=0.3) + en_stream.quiet_events(quiet=0.1)
                if e.event == "reviews.published"] == []

        # the engineer writes: both are published at once, with one published_at
        both = review(c, en["token"], kid, 5, "Clear requirements, paid on time.")
        assert both["written"] == 2 and both["window_closes_at"] == closes
        got = by_role(both)
        assert set(got) == {"client", "engineer"}
        assert got["client"] == {**own, "published_at": got["client"]["published_at"]}
        assert got["engineer"] == {"author_id": en["id"], "author_name": k["engineer_name"], "author_role": "engineer",
                                   "subject_id": cl["id"], "rating": 5, "comment": "Clear requirements, paid on time.",
                                   "created_at": got["engineer"]["created_at"],
                                   "published_at": got["engineer"]["created_at"]}
        assert got["client"]["published_at"] == got["engineer"]["published_at"] is not None
        for who in (cl, en, admin):
            view = reviews(c, who["token"], kid)
            assert (by_role(view), view["written"], view["window_closes_at"]) == (got, 2, closes), who["email"]

        # each party heard of it, once, live
        cl_events = [e for e in cl_stream.quiet_events(quiet=0.5) if isinstance(e, Event)]
        en_events = [e for e in en_stream.quiet_events(quiet=0.1) if isinstance(e, Event)]
    for evs in (cl_events, en_events):
        assert [(e.event, e.data) for e in evs if e.event == "reviews.published"] == [
            ("reviews.published", {"contract_id": kid})]
    # the engineer's rating is what the client said
    assert rating(c, cl["token"], en["id"]) == 4
    assert isinstance(rating(c, admin["token"], en["id"]), (int, float))

    # one review per party
    conflict(review(c, cl["token"], kid, 1, "Changed my mind.", expect=409), "review", "written")
    conflict(review(c, en["token"], kid, expect=409), "review", "written")
    assert db_rows(srv, "SELECT author_id, rating FROM reviews WHERE contract_id = ? ORDER BY rating", kid) == [
        (cl["id"], 4), (en["id"], 5)]


def test_a_contracts_reviews_are_its_parties_and_the_admins_only(money):
    c, admin, cl = money["c"], money["admin"], money["client"]
    k, en = ended_contract(c, admin, cl, by="engineer")
    kid = k["id"]
    review(c, en["token"], kid, 3)
    other_client = signed_in(c, role="client", name="Other Client")
    other_engineer = next(e for e in (demo_login(c, f"engineer{n}@demo.opx") for n in range(1, 40))
                          if e["id"] != en["id"])
    vetter = demo_login(c, "vetter@demo.opx")
    for who in (other_client, other_engineer, vetter):
        assert_problem(reviews(c, who["token"], kid, expect=404), 404, "not-found")
    for who in (other_client, other_engineer):
        assert_problem(review(c, who["token"], kid, expect=404), 404, "not-found")
    for who in (vetter, admin):  # their roles do not write reviews
        assert_problem(review(c, who["token"], kid, expect=403), 403, "forbidden")
    for who in (cl, en, admin):
        assert_problem(reviews(c, who["token"], "ctr_00000000000000000000", expect=404), 404, "not-found")
    assert_problem(review(c, cl["token"], "ctr_00000000000000000000", expect=404), 404, "not-found")
    # nothing of it was written
    assert reviews(c, en["token"], kid)["written"] == 1
    assert reviews(c, cl["token"], kid)["items"] == []


def test_bad_reviews_are_422_naming_the_field_and_store_nothing(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    k, en = ended_contract(c, admin, cl)
    url, h = f"{CONTRACTS}/{k['id']}/review", bearer(cl["token"])
    for body, fields in [({"rating": 0, "comment": "x"}, ["rating"]),
                         ({"rating": 6, "comment": "x"}, ["rating"]),
                         ({"rating": -1, "comment": "x"}, ["rating"]),
                         ({"rating": "5", "comment": "x"}, ["rating"]),
                         ({"rating": None, "comment": "x"}, ["rating"]),
                         ({"rating": 4.5, "comment": "x"}, ["rating"]),
                         ({"rating": True, "comment": "x"}, ["rating"]),
                         ({"comment": "x"}, ["rating"]),
                         ({"rating": 5, "comment": ""}, ["comment"]),
                         ({"rating": 5, "comment": "c" * 2001}, ["comment"]),
                         ({"rating": 5, "comment": None}, ["comment"]),
                         ({"rating": 5, "comment": 5}, ["comment"]),
                         ({"rating": 5}, ["comment"]),
                         ({"rating": 5, "comment": "x", "stars": 5}, ["stars"]),
                         ({"rating": 5, "comment": "x", "published_at": None}, ["published_at"])]:
        assert_problem(c.post(url, json=body, headers=h), 422, "validation", fields)
    assert db_rows(srv, "SELECT count(*) FROM reviews")[0][0] == 0
    assert reviews(c, cl["token"], k["id"])["written"] == 0
    # the bounds themselves are fine
    assert review(c, cl["token"], k["id"], 1, "c" * 2000)["items"][0]["rating"] == 1
    assert review(c, en["token"], k["id"], 5, "x")["written"] == 2


# ---- the window --------------------------------------------------------------------------------------------------


def test_the_window_closes_after_14_days_and_publishes_what_was_written(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    p = money_pair(c, admin, cl)
    en = p["engineer"]
    k, _ = ended_contract(c, admin, cl, pair=p)
    kid = k["id"]
    # a second contract that nobody reviews
    quiet, _ = ended_contract(c, admin, cl)
    mine = review(c, cl["token"], kid, 2, "Missed most deadlines.")
    created = mine["items"][0]["created_at"]
    people = (cl, en, admin)

    # a day before the window closes: still blind
    advance_clock(c, WINDOW_S - DAY)
    for who in people:
        sign_in_again(c, who)  # 14 days is a session's lifetime
    advance_clock(c, 5)
    assert reviews(c, en["token"], kid) == {"items": [], "written": 1, "window_closes_at": mine["window_closes_at"]}
    assert rating(c, admin["token"], en["id"]) is None and published_events(srv, en["id"]) == []

    # the window closes: the job publishes the one review, and both parties hear of it
    advance_clock(c, DAY + 60)
    view = wait_for(lambda: (lambda v: v if v["items"] else None)(reviews(c, en["token"], kid)), 10,
                    "the reviews.publish job")
    [shown] = view["items"]
    assert shown == {**mine["items"][0], "published_at": shown["published_at"]}
    assert seconds_between(created, shown["published_at"]) >= WINDOW_S - 2
    assert seconds_between(mine["window_closes_at"], shown["published_at"]) >= 0
    assert reviews(c, admin["token"], kid) == view == reviews(c, cl["token"], kid)
    assert published_events(srv, cl["id"]) == [kid] and published_events(srv, en["id"]) == [kid]
    assert rating(c, cl["token"], en["id"]) == 2

    # and it is closed: nobody writes any more, on either contract
    conflict(review(c, en["token"], kid, expect=409), "review", "closed")
    conflict(review(c, cl["token"], kid, expect=409), "review", "closed")
    conflict(review(c, cl["token"], quiet["id"], expect=409), "review", "closed")
    assert reviews(c, cl["token"], quiet["id"])["written"] == 0
    assert db_rows(srv, "SELECT count(*) FROM reviews")[0][0] == 1
    # a window with nothing in it publishes nothing
    assert published_events(srv, cl["id"]) == [kid]


# ---- the rating --------------------------------------------------------------------------------------------------


def test_the_engineers_rating_is_the_average_of_the_published_reviews_about_them(money):
    c, admin, cl = money["c"], money["admin"], money["client"]
    p = money_pair(c, admin, cl)
    en = p["engineer"]
    # two more requests of the same client, the same engineer accepting each (before any rating moves the ranking)
    pairs = [p]
    for title in ("Second project", "Third project"):
        req = create_request(c, cl["token"], title=title)
        mine = [x for x in req["candidates"] if x["engineer_id"] == en["id"]]
        assert len(mine) == 1, "the demo matching ranks the same engineer first for the same request"
        accept(c, en["token"], mine[0]["id"])
        pairs.append({"request": req, "candidate": mine[0], "engineer": en})
    kids = []
    for q in pairs:
        k = offer(c, cl["token"], fixed_offer(q["candidate"]["id"], (10000,)))
        contract_move(c, en["token"], k["id"], "accept")
        kids.append(contract_move(c, cl["token"], k["id"], "end")["id"])
    assert rating(c, cl["token"], en["id"]) is None

    # the reviews the engineer writes of the client do not rate the engineer
    review(c, cl["token"], kids[0], 4)
    review(c, en["token"], kids[0], 1)
    assert rating(c, cl["token"], en["id"]) == 4
    # written but not published: not counted
    review(c, cl["token"], kids[1], 5)
    assert rating(c, cl["token"], en["id"]) == 4
    review(c, en["token"], kids[1], 5)
    assert rating(c, cl["token"], en["id"]) == 4.5  # (4 + 5) / 2
    review(c, cl["token"], kids[2], 5)
    review(c, en["token"], kids[2], 2)
    # (4 + 5 + 5) / 3 = 4.666...: two decimals
    for who in (cl, en, admin, demo_login(c, "vetter@demo.opx")):
        assert rating(c, who["token"], en["id"]) == 4.67, who["email"]


# ---- known bugs --------------------------------------------------------------------------------------------------


def test_a_declined_offer_cannot_be_reviewed(money):
    srv, c, admin, cl = money["srv"], money["c"], money["admin"], money["client"]
    p = money_pair(c, admin, cl)
    en = p["engineer"]
    k = offer(c, cl["token"], fixed_offer(p["candidate"]["id"], (10000,)))
    contract_move(c, en["token"], k["id"], "decline")
    r = review(c, cl["token"], k["id"], 1, "Declined my offer.", expect=None)
    body = assert_problem(r, 409, "wrong-state")
    assert body["entity"] == "contract" and body["state"] == "declined", body
    assert db_rows(srv, "SELECT count(*) FROM reviews")[0][0] == 0
    assert reviews(c, cl["token"], k["id"])["window_closes_at"] is None
