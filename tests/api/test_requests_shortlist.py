"""The instant shortlist on a population built by hand (a server of its own,
so nobody else's engineers take part): the exact order, every part of every
score derived from the documented weights (src/rules/matching.h), the
explain, determinism; then each hard filter, each shown to be the reason by
a request that lifts it (the positive control)."""
import datetime
import zoneinfo
from concurrent.futures import ThreadPoolExecutor

import pytest

from opxtest import (INVITE_TTL_S, SLA_S, Server, bearer, create_request, create_staff, decline, get_request,
                     request_body, seconds_between, signed_in, stop_checked, utc_today, vetted_engineer)

# ---- the documented score, as a reference -----------------------------------------------
# Points are kept in hundredths and rounded half up, part by part (matching.h).


def _half_up(num, den):
    return (2 * num + den) // (2 * den)


def skill_points(weight, levels, n):
    """weight * sum(level/5) / n; none asked: full points."""
    return weight * 100 if n == 0 else _half_up(weight * 100 * sum(levels), 5 * n)


def rate_points(rate, budget):
    return _half_up(500 * (budget - rate), budget)


def overlap_minutes(client_tz, engineer_tz, date):
    """Two 09:00-17:00 days, with the zones' real UTC offsets at 12:00 UTC of
    the start date (DST included); the days repeat, so it wraps around."""
    noon = datetime.datetime.combine(date, datetime.time(12), tzinfo=datetime.timezone.utc)
    off = lambda z: int(noon.astimezone(zoneinfo.ZoneInfo(z)).utcoffset().total_seconds() // 60)  # noqa: E731
    d = (off(client_tz) - off(engineer_tz)) % 1440
    return max(0, 480 - min(d, 1440 - d))


def overlap_hours(minutes):
    return ((minutes * 10 + 30) // 60) / 10


def overlap_points(minutes):
    return _half_up(1000 * minutes, 480)


RATING_PRIOR, RESPONSIVENESS = 700, 250  # not rated yet (3.50 -> 7.00); responsiveness 50 -> 2.50

# ---- the population ------------------------------------------------------------------------
# The request of the ranking tests: client in UTC (no DST anywhere below), must-haves asyncpg and
# cancellation (20.00 points each at level 5), nice httpx, framework fastapi (10.00 at level 5),
# senior, at most 100.00 USD an hour, 20 h a week, 2 h overlap.
RANK_REQUEST = dict(timezone="UTC", must_have=["asyncpg", "cancellation"], nice_to_have=["httpx"],
                    frameworks=["fastapi"], seniority="senior", engagement="hourly",
                    budget={"amount": 10000, "currency": "USD"}, hours_per_week=20, min_overlap_hours=2)

# name: (zone, rate, {skill: (self level, vetted level or None)})
RANKED = {
    # 40 + 10 + 10 + 10 + 1.00 (80 of 100) + 10 (8 h) + 7 + 2.5 = 90.50
    "A": ("UTC", 8000, {"asyncpg": (5, 5), "cancellation": (5, 5), "httpx": (5, 5), "fastapi": (5, 5)}),
    # 36 (5+4: the vetter corrected cancellation 5 -> 4) + 6 + 8 + 10 + 2.00 + 8.75 (7 h) + 9.5 = 80.25
    "B": ("Africa/Lagos", 6000, {"asyncpg": (5, 5), "cancellation": (5, 4), "httpx": (3, 3), "fastapi": (4, 4)}),
    # 32 + 0 (no httpx) + 10 + 10 + 0.50 + 5.00 (4 h) + 9.5 = 67.00
    "C": ("Asia/Dubai", 9000, {"asyncpg": (4, 4), "cancellation": (4, 4), "fastapi": (5, 5)}),
    # 12 (cancellation claimed, never confirmed: it does not count) + 4 + 0 + 10 + 0 + 3.75 (3 h) + 9.5 = 39.25
    "D": ("America/Bogota", 10000, {"asyncpg": (3, 3), "cancellation": (4, None), "httpx": (2, 2)}),
    # E1 and E2 are the same: 28 + 8 + 6 + 10 + 1.50 + 3.13 (2.5 h) + 9.5 = 66.13, so their ids order them
    "E1": ("Asia/Kolkata", 7000, {"asyncpg": (4, 4), "cancellation": (3, 3), "httpx": (4, 4), "fastapi": (3, 3)}),
    "E2": ("Asia/Kolkata", 7000, {"asyncpg": (4, 4), "cancellation": (3, 3), "httpx": (4, 4), "fastapi": (3, 3)}),
}
EXPECTED = {  # parts in hundredths: must, nice, frameworks, seniority, rate, overlap, rating, responsiveness
    "A": (4000, 1000, 1000, 1000, 100, 1000, 700, 250),
    "B": (3600, 600, 800, 1000, 200, 875, 700, 250),
    "C": (3200, 0, 1000, 1000, 50, 500, 700, 250),
    "D": (1200, 400, 0, 1000, 0, 375, 700, 250),
    "E1": (2800, 800, 600, 1000, 150, 313, 700, 250),
    "E2": (2800, 800, 600, 1000, 150, 313, 700, 250),
}
EXPECTED_SCORE = {"A": 90.50, "B": 80.25, "C": 67.00, "D": 39.25, "E1": 66.13, "E2": 66.13}

BEST = {"asyncpg": (5, 5), "cancellation": (5, 5), "httpx": (5, 5), "fastapi": (5, 5)}
# Each would rank FIRST (92.00: all levels 5, 50.00 USD, UTC, 40 h) but for the one filter it fails.
FILTERED = {
    "profile_only": dict(stage="profile"),
    "assessment_only": dict(stage="assessment"),
    "rejected": dict(stage="rejected"),
    "unavailable": dict(available=False),
    "over_budget": dict(rate=10001),
    "eur": dict(currency="EUR"),
    "few_hours": dict(hours=19),
    "auckland": dict(tz="Pacific/Auckland"),
    "staff": dict(level="staff"),
    "mid": dict(level="mid"),
}
# Zone tests, in a currency of their own (CAD) so no other request sees them.
ZONED = {"g_akl": "Pacific/Auckland", "g_ny": "America/New_York"}


def _profile(tz, rate, skills, currency="USD", hours=30, available=True):
    return dict(timezone=tz, hourly_rate={"amount": rate, "currency": currency}, hours_per_week=hours,
                available=available, skills=[{"id": s, "level": lv[0]} for s, lv in skills.items()])


def _confirm(skills):
    return [{"id": s, "level": lv[1]} for s, lv in skills.items() if lv[1] is not None]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, contract):
    """A server of its own with exactly the engineers above."""
    srv = Server(tmp_path_factory.mktemp("lab"), ["--login-ip-burst", "1000"], contract=contract).start()
    try:
        c = srv.client()
        vetter = create_staff(srv, c, "vetter")
        jobs = {}
        for name, (tz, rate, skills) in RANKED.items():
            jobs[name] = dict(name=f"Ranked {name}", confirm=_confirm(skills), **_profile(tz, rate, skills))
        for name, f in FILTERED.items():
            stage = f.get("stage")
            jobs[name] = dict(name=f"Filtered {name}", confirm=_confirm(BEST), level=f.get("level", "senior"),
                              assessment=stage != "profile",
                              decision=None if stage == "assessment" else "rejected" if stage == "rejected"
                              else "vetted",
                              **_profile(f.get("tz", "UTC"), f.get("rate", 5000), BEST, f.get("currency", "USD"),
                                         f.get("hours", 40), f.get("available", True)))
        for name, tz in ZONED.items():
            jobs[name] = dict(name=f"Zoned {name}", confirm=_confirm(BEST),
                              **_profile(tz, 5000, BEST, currency="CAD", hours=40))
        with ThreadPoolExecutor(4) as pool:
            futures = {n: pool.submit(vetted_engineer, c, vetter, **kw) for n, kw in jobs.items()}
            people = {n: f.result() for n, f in futures.items()}
        client = signed_in(c, role="client", name="Lab Client")
        yield {"srv": srv, "c": c, "people": people, "ids": {n: p["id"] for n, p in people.items()},
               "client": client, "vetter": vetter}
    finally:
        stop_checked(srv)


def names(lab, request):
    by_id = {v: k for k, v in lab["ids"].items()}
    return [by_id.get(k["engineer_id"], k["engineer_id"]) for k in request["candidates"]]


def post(lab, **over):
    return create_request(lab["c"], lab["client"]["token"], **over)


def expected_order(lab):
    e1, e2 = sorted(["E1", "E2"], key=lambda n: lab["ids"][n])
    return ["A", "B", "C", e1, e2]


# ---- ranking and explanations ----------------------------------------------------------------


def test_the_reference_reproduces_the_documented_parts():
    """The hand-derived table above agrees with the documented formulas."""
    date = utc_today() + datetime.timedelta(days=7)
    n_must = len(RANK_REQUEST["must_have"])
    for name, (tz, rate, skills) in RANKED.items():
        vetted = {s: lv[1] or 0 for s, lv in skills.items()}
        ov = overlap_minutes("UTC", tz, date)
        parts = (skill_points(40, [vetted.get(s, 0) for s in RANK_REQUEST["must_have"]], n_must),
                 skill_points(10, [vetted.get("httpx", 0)], 1), skill_points(10, [vetted.get("fastapi", 0)], 1),
                 1000, rate_points(rate, 10000), overlap_points(ov), RATING_PRIOR, RESPONSIVENESS)
        assert parts == EXPECTED[name], name
        assert sum(parts) / 100 == EXPECTED_SCORE[name], name


def test_shortlist_order_scores_and_explanations(lab):
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    r = post(lab, **RANK_REQUEST)
    assert names(lab, r) == expected_order(lab)  # the top 5 of 6 that pass; D is 6th
    assert (r["status"], r["relaxed"], r["matched_at"], r["breached_at"]) == ("matching", [], None, None)
    assert r["client_id"] == lab["client"]["user"]["id"]
    assert seconds_between(r["created_at"], r["sla_deadline"]) == SLA_S
    assert SLA_S - 60 <= r["sla_seconds_left"] <= SLA_S
    assert abs((datetime.datetime.strptime(r["created_at"], "%Y-%m-%dT%H:%M:%SZ")
                .replace(tzinfo=datetime.timezone.utc) - before).total_seconds()) < 60
    for k, v in request_body(**RANK_REQUEST).items():
        if k not in ("title", "description"):
            assert r[k] == v, k
    assert (r["title"], r["description"]) == (request_body()["title"], request_body()["description"])
    for rank, (name, k) in enumerate(zip(names(lab, r), r["candidates"]), 1):
        p = EXPECTED[name]
        x = k["explain"]
        assert (k["rank"], k["status"], k["request_id"], k["responded_at"]) == (rank, "invited", r["id"], None)
        assert k["engineer_name"] == f"Ranked {name}"
        assert k["score"] == EXPECTED_SCORE[name], name
        got = [x[part]["points"] for part in ("must_have", "nice_to_have", "frameworks", "seniority", "rate",
                                               "overlap", "rating", "responsiveness")]
        assert [round(g * 100) for g in got] == list(p), name
        assert round(sum(got), 2) == k["score"]
        assert [x[part]["max"] for part in ("must_have", "nice_to_have", "frameworks", "seniority", "rate",
                                            "overlap", "rating", "responsiveness")] == [40, 10, 10, 10, 5, 10, 10, 5]
        assert k["invited_at"] == r["created_at"]
        assert seconds_between(k["invited_at"], k["expires_at"]) == INVITE_TTL_S
        tz, rate, skills = RANKED[name]
        vetted = {s: lv[1] for s, lv in skills.items() if lv[1]}
        # must-haves at the VETTED level (B: 4, not the self-assessed 5)
        assert x["must_have"]["matched"] == [{"skill": s, "vetted_level": vetted[s]}
                                             for s in ("asyncpg", "cancellation") if s in vetted]
        assert x["seniority"] == {"points": 10.0, "max": 10, "wanted": "senior", "has": "senior"}
        assert x["rate"]["rate"] == {"amount": rate, "currency": "USD"}
        assert x["rate"]["budget"] == {"amount": 10000, "currency": "USD"}
        assert (x["overlap"]["hours"], x["overlap"]["required_hours"], x["overlap"]["ignored"]) == \
            (overlap_hours(overlap_minutes("UTC", tz, utc_today() + datetime.timedelta(days=7))), 2, False)
        assert x["rating"] == {"points": 7.0, "max": 10, "rating": None}
        assert x["responsiveness"] == {"points": 2.5, "max": 5, "value": 50}
        assert x["nice_to_have"]["dropped"] is False

    by = dict(zip(names(lab, r), r["candidates"]))
    assert by["A"]["explain"]["overlap"]["hours"] == 8.0
    assert by["B"]["explain"]["must_have"]["matched"][1] == {"skill": "cancellation", "vetted_level": 4}
    assert by["B"]["explain"]["overlap"]["hours"] == 7.0
    assert by["C"]["explain"]["nice_to_have"] == {"points": 0.0, "max": 10, "matched": [], "missing": ["httpx"],
                                                   "dropped": False}
    assert by["C"]["explain"]["frameworks"] == {"points": 10.0, "max": 10, "missing": [],
                                                 "matched": [{"skill": "fastapi", "vetted_level": 5}]}
    e = by[expected_order(lab)[3]]["explain"]
    assert (e["overlap"]["hours"], e["overlap"]["points"], e["rate"]["points"]) == (2.5, 3.13, 1.5)
    assert all(k["explain"]["must_have"]["missing"] == [] for k in r["candidates"])


def test_the_same_request_gives_the_same_list_and_a_get_shows_it(lab):
    a, b = post(lab, **RANK_REQUEST), post(lab, **RANK_REQUEST)
    key = lambda req: [(k["engineer_id"], k["score"], k["rank"], k["explain"]) for k in req["candidates"]]  # noqa
    assert a["id"] != b["id"]
    assert key(a) == key(b)
    got = get_request(lab["c"], lab["client"]["token"], a["id"])
    assert got == {**a, "sla_seconds_left": got["sla_seconds_left"]}


def test_a_decline_brings_in_the_sixth_with_its_missing_skills(lab):
    r = post(lab, **RANK_REQUEST)
    last = r["candidates"][4]
    who = names(lab, r)[4]
    d = decline(lab["c"], lab["people"][who]["token"], last["id"], reason="Booked until spring.")
    assert d["replacement"]["engineer_id"] == lab["ids"]["D"]
    assert d["replacement"]["score"] == EXPECTED_SCORE["D"]
    got = get_request(lab["c"], lab["client"]["token"], r["id"])
    assert names(lab, got) == expected_order(lab) + ["D"]
    k = got["candidates"][5]
    assert (k["id"], k["rank"], k["status"], k["score"]) == (d["replacement"]["id"], 6, "invited", 39.25)
    x = k["explain"]
    assert x["must_have"] == {"points": 12.0, "max": 40, "matched": [{"skill": "asyncpg", "vetted_level": 3}],
                              "missing": [{"skill": "cancellation", "vetted_level": 0, "min_level": 1}]}
    assert x["nice_to_have"]["matched"] == [{"skill": "httpx", "vetted_level": 2}]
    assert x["frameworks"] == {"points": 0.0, "max": 10, "matched": [], "missing": ["fastapi"]}
    assert (x["rate"]["points"], x["overlap"]["hours"], x["overlap"]["points"]) == (0.0, 3.0, 3.75)


# ---- hard filters ------------------------------------------------------------------------------

NEVER = ("profile_only", "assessment_only", "rejected", "unavailable")


def test_a_wide_open_request_still_leaves_out_the_unvetted_and_unavailable(lab):
    """Budget 1000.00/h, 1 h a week, no overlap: everyone vetted, available and
    senior in USD passes. The four below would score 94.25 (the top) if they
    were let in."""
    r = post(lab, **{**RANK_REQUEST, "budget": {"amount": 100000, "currency": "USD"}, "hours_per_week": 1,
                     "min_overlap_hours": 0})
    # few_hours 94.25, A 94.10, over_budget 94.00, auckland 84.25 (0 h overlap), B 82.95
    assert names(lab, r) == ["few_hours", "A", "over_budget", "auckland", "B"]
    assert [k["score"] for k in r["candidates"]] == [94.25, 94.10, 94.00, 84.25, 82.95]
    assert r["candidates"][3]["explain"]["overlap"] == {"points": 0.0, "max": 10, "hours": 0.0,
                                                        "required_hours": 0, "ignored": False}


@pytest.mark.parametrize("who,lift,rank", [
    ("over_budget", {"budget": {"amount": 10001, "currency": "USD"}}, 2),
    ("few_hours", {"hours_per_week": 19}, 1),
    ("auckland", {"min_overlap_hours": 0}, 2),
], ids=["over-budget", "too-few-hours", "no-overlap"])
def test_each_filter_excludes_and_lifting_it_admits(lab, who, lift, rank):
    base = post(lab, **RANK_REQUEST)
    assert names(lab, base) == expected_order(lab)
    assert not set(names(lab, base)) & (set(FILTERED) | set(ZONED))
    lifted = post(lab, **{**RANK_REQUEST, **lift})
    assert names(lab, lifted)[rank - 1] == who, names(lab, lifted)
    assert not set(names(lab, lifted)) & set(NEVER)


def test_only_the_budgets_currency_passes_the_rate_filter(lab):
    r = post(lab, **{**RANK_REQUEST, "budget": {"amount": 10000, "currency": "EUR"}})
    assert names(lab, r) == ["eur"]  # no conversion: a USD engineer never passes a EUR budget
    assert r["candidates"][0]["explain"]["rate"] == {"points": 2.5, "max": 5,
                                                     "rate": {"amount": 5000, "currency": "EUR"},
                                                     "budget": {"amount": 10000, "currency": "EUR"}}
    assert post(lab, **{**RANK_REQUEST, "budget": {"amount": 10000, "currency": "GBP"}})["candidates"] == []


@pytest.mark.parametrize("level", ["staff", "mid"])
def test_seniority_is_exact(lab, level):
    r = post(lab, **{**RANK_REQUEST, "seniority": level})
    assert names(lab, r) == [level]
    assert r["candidates"][0]["explain"]["seniority"] == {"points": 10.0, "max": 10, "wanted": level, "has": level}


def test_fixed_price_ceiling_is_the_total_over_the_hours(lab):
    """20 h a week for 10 weeks: 200 hours, so 2,000,199 cents buys at most
    10000 an hour (rounded down) and 2,000,200 buys 10001."""
    fixed = {**RANK_REQUEST, "engagement": "fixed", "estimated_weeks": 10}
    low = post(lab, **{**fixed, "budget": {"amount": 2000199, "currency": "USD"}})
    assert names(lab, low) == expected_order(lab)
    assert all(k["explain"]["rate"]["budget"] == {"amount": 10000, "currency": "USD"} for k in low["candidates"])
    assert low["budget"] == {"amount": 2000199, "currency": "USD"} and low["estimated_weeks"] == 10
    high = post(lab, **{**fixed, "budget": {"amount": 2000200, "currency": "USD"}})
    assert names(lab, high)[1] == "over_budget"
    assert all(k["explain"]["rate"]["budget"]["amount"] == 10001 for k in high["candidates"])


def _next_year(month, day):
    return datetime.date(utc_today().year + 1, month, day)


@pytest.mark.parametrize("client_tz,min_overlap,date,who,hours,passes", [
    # NZDT +13 vs PST -8: 21 h apart, i.e. 3 h the other way round: Auckland's morning is LA's afternoon
    ("America/Los_Angeles", 4, (1, 15), "g_akl", 5.0, True),
    # NZST +12 vs PDT -7: 19 h apart -> 5 h -> 3 h overlap
    ("America/Los_Angeles", 4, (7, 15), "g_akl", 3.0, False),
    # US summer time starts before Europe's: on 20 March New York is 5 h behind Berlin, on 1 March 6 h
    ("Europe/Berlin", 3, (3, 20), "g_ny", 3.0, True),
    ("Europe/Berlin", 3, (3, 1), "g_ny", 2.0, False),
], ids=["akl-la-january", "akl-la-july", "ny-berlin-dst-gap", "ny-berlin-winter"])
def test_overlap_uses_the_real_offsets_on_the_start_date(lab, client_tz, min_overlap, date, who, hours, passes):
    start = _next_year(*date)
    assert overlap_hours(overlap_minutes(client_tz, ZONED[who], start)) == hours  # the reference agrees
    over = {**RANK_REQUEST, "timezone": client_tz, "min_overlap_hours": min_overlap, "start_date": start.isoformat(),
            "budget": {"amount": 10000, "currency": "CAD"}}
    r = post(lab, **over)
    assert (who in names(lab, r)) is passes, names(lab, r)
    r0 = post(lab, **{**over, "min_overlap_hours": 0})  # the control: scored with the same hours
    k = r0["candidates"][names(lab, r0).index(who)]
    assert (k["explain"]["overlap"]["hours"], k["explain"]["overlap"]["required_hours"]) == (hours, 0)
    assert k["explain"]["overlap"]["points"] == overlap_points(round(hours * 60)) / 100


def test_nobody_filtered_was_ever_invited(lab):
    """Runs last in this module: across every request above, the unvetted,
    rejected and unavailable engineers never got an invitation."""
    for who in NEVER:
        r = lab["c"].get("/api/v1/me/invitations", headers=bearer(lab["people"][who]["token"]))
        assert r.status_code == 200 and r.json()["items"] == [], (who, r.text)
