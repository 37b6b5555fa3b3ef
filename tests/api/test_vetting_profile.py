"""Vetting, part 1: the skills catalog, an engineer's own profile
(PUT/GET /api/v1/me/profile: every field rule, nothing stored on a 422) and
who sees what of an engineer (GET /api/v1/engineers/{id})."""
import copy

import pytest

from opxtest import (assert_problem, bearer, crash_safe_cases, create_staff, get_audit, get_profile, new_engineer,
                     put_profile, signed_in, valid_profile)

PROFILE = "/api/v1/me/profile"

# PRODUCT.md section 1, in its order
CATALOG = [
    ("frameworks", ["fastapi", "sanic", "django-async", "aiohttp", "starlette"]),
    ("database-drivers", ["asyncpg", "aiosqlite", "motor", "sqlalchemy-async", "redis-asyncio"]),
    ("http-clients", ["httpx", "aiohttp-client"]),
    ("concurrency", ["event-loop", "gather-wait", "timeouts", "cancellation", "task-exceptions",
                     "async-context-managers", "background-tasks"]),
    ("testing", ["pytest-asyncio", "asyncmock", "timeout-cancellation-tests", "concurrency-tests"]),
    ("production", ["distributed-tracing", "rate-limiting", "backpressure", "circuit-breakers",
                    "graceful-shutdown", "memory-leaks", "resource-safety"]),
]
ALL_SKILLS = [s for _, g in CATALOG for s in g]


@pytest.fixture(scope="module")
def people(server, client):
    return {
        "vetter": create_staff(server, client, "vetter"),
        "admin": create_staff(server, client, "admin"),
        "client": signed_in(client, role="client", name="Test Client"),
    }


@pytest.fixture(scope="module")
def stored(client):
    """An engineer whose valid profile is stored; the 422 cases must leave it as it is."""
    e = new_engineer(client, profile=valid_profile(available=False))
    e["before"] = get_profile(client, e["token"])
    return e


# ---- the catalog ---------------------------------------------------------------


def test_skills_catalog_is_the_product_catalog(client):
    r = client.get("/api/v1/skills")  # anyone: no credentials
    assert r.status_code == 200
    groups = r.json()["groups"]
    assert [(g["id"], [s["id"] for s in g["skills"]]) for g in groups] == CATALOG
    assert len(ALL_SKILLS) == len(set(ALL_SKILLS)) == 30
    assert all(g["name"] and all(s["name"] for s in g["skills"]) for g in groups)


def test_skills_catalog_is_the_same_for_a_signed_in_caller(client):
    e = signed_in(client, role="engineer")
    assert client.get("/api/v1/skills", headers=bearer(e["token"])).json() == client.get("/api/v1/skills").json()


# ---- one's own profile ---------------------------------------------------------


def test_a_new_engineer_is_registered_with_an_empty_profile(client):
    e = new_engineer(client, profile=False, name="Fresh Engineer")
    p = get_profile(client, e["token"])
    assert p["id"] == e["id"] and p["name"] == "Fresh Engineer" and p["email"] == e["email"]
    for k in ("headline", "bio", "timezone", "hours_per_week", "years_experience", "hourly_rate"):
        assert p.get(k) is None, (k, p)
    assert not p["skills"] and not p["links"]
    assert p["vetting"] == {"status": "registered", "level": None, "reapply_after": None}
    assert p["rating"] is None


def test_before_any_put_the_engineer_sees_hourly_rate_as_null(client):
    """hourly_rate is shown to the engineer themself; absent means "hidden from
    you", so before the first PUT it is there, and null, like the other fields."""
    e = new_engineer(client, profile=False)
    p = get_profile(client, e["token"])
    assert "hourly_rate" in p and p["hourly_rate"] is None, p


def test_first_put_completes_the_profile_and_is_audited_once(client, people):
    e = new_engineer(client, profile=False)
    body = valid_profile(links=["https://example.test/a"], available=False)
    r = put_profile(client, e["token"], body)
    p = r.json()["engineer"]
    assert p["vetting"] == {"status": "profile_complete", "level": None, "reapply_after": None}
    for k in ("headline", "bio", "hourly_rate", "timezone", "hours_per_week", "years_experience", "links",
              "available"):
        assert p[k] == body[k], k
    # the order of skills is not part of the contract
    assert sorted((s["id"], s["self_level"], s["vetted_level"]) for s in p["skills"]) == \
        sorted((s["id"], s["level"], None) for s in body["skills"])
    assert p["email"] == e["email"]
    assert get_profile(client, e["token"]) == p
    # a second PUT replaces the profile but is no transition
    body2 = valid_profile(headline="Changed", skills=[{"id": "httpx", "level": 2}])
    p2 = put_profile(client, e["token"], body2).json()["engineer"]
    assert p2["headline"] == "Changed" and p2["available"] is True  # omitted: default true
    assert [s["id"] for s in p2["skills"]] == ["httpx"]
    assert p2["links"] == body2["links"]
    assert p2["vetting"]["status"] == "profile_complete"
    audit = get_audit(client, people["vetter"]["token"], e["id"])
    assert [(a["from"], a["to"], a["actor_id"]) for a in audit] == [("registered", "profile_complete", e["id"])]
    assert audit[0]["action"] == "vetting.transition"


def test_links_are_optional(client):
    e = new_engineer(client, profile=False)
    body = valid_profile()
    del body["links"]
    p = put_profile(client, e["token"], body).json()["engineer"]
    assert p["links"] == [] and p["vetting"]["status"] == "profile_complete"


def test_boundary_values_are_accepted(client):
    e = new_engineer(client, profile=False)
    body = valid_profile(
        headline="\U0001F40D" * 120,  # 120 characters, 480 bytes
        bio="\u00e9" * 5000,  # 5000 characters, 10000 bytes
        hourly_rate={"amount": 500, "currency": "SGD"},
        timezone="America/Argentina/Buenos_Aires",
        hours_per_week=60, years_experience=0,
        links=["https://e.test/" + "x" * 185] + [f"http://e{i}.test" for i in range(4)],
        skills=[{"id": s, "level": 1 + i % 5} for i, s in enumerate(ALL_SKILLS)])
    assert len(body["links"][0]) == 200
    p = put_profile(client, e["token"], body).json()["engineer"]
    assert p["bio"] == body["bio"] and p["headline"] == body["headline"]
    assert len(p["skills"]) == 30 and p["hourly_rate"] == body["hourly_rate"]
    body = valid_profile(hourly_rate={"amount": 100000, "currency": "EUR"}, hours_per_week=1, years_experience=50,
                         links=[], timezone="UTC")
    p = put_profile(client, e["token"], body).json()["engineer"]
    assert (p["hourly_rate"], p["hours_per_week"], p["years_experience"], p["links"]) == \
        (body["hourly_rate"], 1, 50, [])


def test_every_listed_currency_is_accepted(client):
    e = new_engineer(client)
    for currency in ("USD", "EUR", "GBP", "CAD", "AUD", "CHF", "SEK", "NOK", "DKK", "PLN", "NZD", "SGD"):
        body = valid_profile(hourly_rate={"amount": 1234, "currency": currency})
        assert put_profile(client, e["token"], body).json()["engineer"]["hourly_rate"] == body["hourly_rate"]


def _set(path, value):
    """A change to the valid body: path "a.b" or "skills.1.id"; value DELETE removes it."""
    def change(body):
        keys = path.split(".")
        obj = body
        for k in keys[:-1]:
            obj = obj[int(k)] if isinstance(obj, list) else obj[k]
        last = int(keys[-1]) if isinstance(obj, list) else keys[-1]
        if value is DELETE:
            del obj[last]
        else:
            obj[last] = value
        return body
    return change


DELETE = object()
SKILLS3 = [{"id": "fastapi", "level": 4}, {"id": "asyncpg", "level": 3}, {"id": "cancellation", "level": 5}]

# (case id, change, fields the 422 must name)
INVALID = [
    ("amount-0", _set("hourly_rate.amount", 0), ["hourly_rate.amount"]),
    ("amount-negative", _set("hourly_rate.amount", -900), ["hourly_rate.amount"]),
    ("amount-499", _set("hourly_rate.amount", 499), ["hourly_rate.amount"]),
    ("amount-100001", _set("hourly_rate.amount", 100001), ["hourly_rate.amount"]),
    ("amount-huge", _set("hourly_rate.amount", 10 ** 12), ["hourly_rate.amount"]),
    ("amount-float", _set("hourly_rate.amount", 1000.5), ["hourly_rate.amount"]),
    ("amount-string", _set("hourly_rate.amount", "1000"), ["hourly_rate.amount"]),
    ("amount-missing", _set("hourly_rate.amount", DELETE), ["hourly_rate.amount"]),
    ("currency-unknown", _set("hourly_rate.currency", "XYZ"), ["hourly_rate.currency"]),
    ("currency-not-listed", _set("hourly_rate.currency", "JPY"), ["hourly_rate.currency"]),
    ("currency-empty", _set("hourly_rate.currency", ""), ["hourly_rate.currency"]),
    ("currency-missing", _set("hourly_rate.currency", DELETE), ["hourly_rate.currency"]),
    ("hourly-rate-extra", _set("hourly_rate.cents", 1), ["hourly_rate.cents"]),
    ("hourly-rate-number", _set("hourly_rate", 9000), ["hourly_rate"]),
    ("timezone-mars", _set("timezone", "Mars/Olympus"), ["timezone"]),
    ("timezone-empty", _set("timezone", ""), ["timezone"]),
    ("timezone-traversal", _set("timezone", "../../../../etc/passwd"), ["timezone"]),
    ("timezone-absolute", _set("timezone", "/usr/share/zoneinfo/UTC"), ["timezone"]),
    ("timezone-number", _set("timezone", 1), ["timezone"]),
    ("skill-unknown", _set("skills.1.id", "cobol"), ["skills[1].id"]),
    ("skill-level-0", _set("skills.0.level", 0), ["skills[0].level"]),
    ("skill-level-6", _set("skills.2.level", 6), ["skills[2].level"]),
    ("skill-level-string", _set("skills.0.level", "3"), ["skills[0].level"]),
    ("skill-level-missing", _set("skills.0.level", DELETE), ["skills[0].level"]),
    ("skill-extra-field", _set("skills.0.years", 3), ["skills[0].years"]),
    ("skills-empty", _set("skills", []), ["skills"]),
    ("skills-missing", _set("skills", DELETE), ["skills"]),
    ("bio-5001-chars", _set("bio", "\u00e9" * 5001), ["bio"]),
    ("bio-5001-emoji", _set("bio", "\U0001F600" * 5001), ["bio"]),
    ("bio-empty", _set("bio", ""), ["bio"]),
    ("headline-empty", _set("headline", ""), ["headline"]),
    ("headline-121-chars", _set("headline", "\u00e9" * 121), ["headline"]),
    ("headline-null", _set("headline", None), ["headline"]),
    ("link-ftp", _set("links", ["https://ok.test", "ftp://files.example.test"]), ["links[1]"]),
    ("link-javascript", _set("links", ["javascript:alert(1)"]), ["links[0]"]),
    ("link-no-scheme", _set("links", ["example.test/me"]), ["links[0]"]),
    ("link-201-chars", _set("links", ["https://e.test/" + "x" * 186]), ["links[0]"]),
    ("links-6", _set("links", [f"https://e{i}.test" for i in range(6)]), ["links"]),
    ("hours-0", _set("hours_per_week", 0), ["hours_per_week"]),
    ("hours-61", _set("hours_per_week", 61), ["hours_per_week"]),
    ("years-minus-1", _set("years_experience", -1), ["years_experience"]),
    ("years-51", _set("years_experience", 51), ["years_experience"]),
    ("years-float", _set("years_experience", 2.5), ["years_experience"]),
    ("available-string", _set("available", "yes"), ["available"]),
    ("unknown-field", _set("salary", 1), ["salary"]),
    ("vetting-is-not-the-engineers", _set("vetting", {"status": "vetted", "level": "staff"}), ["vetting"]),
    ("email-is-not-set-here", _set("email", "other@example.test"), ["email"]),
    ("several-at-once", lambda b: _set("timezone", "Mars/Olympus")(_set("hours_per_week", 0)(b)),
     ["hours_per_week", "timezone"]),
]


def _expect_422(r, fields):
    p = assert_problem(r, 422, "validation")
    assert sorted(e["field"] for e in p["errors"]) == sorted(fields), p
    return p


@pytest.mark.parametrize("change,fields", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_profile_is_422_and_stores_nothing(client, stored, change, fields):
    body = change(copy.deepcopy(valid_profile(headline="Another headline")))
    r = client.put(PROFILE, json=body, headers=bearer(stored["token"]))
    _expect_422(r, fields)
    assert get_profile(client, stored["token"]) == stored["before"]


def test_unknown_skill_message_names_the_id(client, stored):
    body = valid_profile(skills=SKILLS3[:2] + [{"id": "cobol-async", "level": 2}])
    p = _expect_422(client.put(PROFILE, json=body, headers=bearer(stored["token"])), ["skills[2].id"])
    assert "cobol-async" in p["errors"][0]["message"], p
    assert get_profile(client, stored["token"]) == stored["before"]


def test_duplicate_skill_ids_are_422(client, stored):
    body = valid_profile(skills=SKILLS3 + [{"id": "asyncpg", "level": 1}])
    p = assert_problem(client.put(PROFILE, json=body, headers=bearer(stored["token"])), 422, "validation")
    fields = [e["field"] for e in p["errors"]]
    assert len(fields) == 1 and fields[0] in ("skills", "skills[3].id", "skills[3]"), p
    assert get_profile(client, stored["token"]) == stored["before"]


def test_invalid_first_profile_leaves_the_engineer_registered(client, people):
    e = new_engineer(client, profile=False)
    before = get_profile(client, e["token"])
    _expect_422(client.put(PROFILE, json=valid_profile(timezone="Mars/Olympus"), headers=bearer(e["token"])),
                ["timezone"])
    assert get_profile(client, e["token"]) == before
    assert before["vetting"]["status"] == "registered"
    assert get_audit(client, people["vetter"]["token"], e["id"]) == []


@pytest.mark.parametrize("raw,ctype,status", [
    (b'{"headline": "x",', "application/json", 400),
    (b'[]', "application/json", 400),
    (b'{"headline": "a", "headline": "b"}', "application/json", 400),
    (b'headline=x', "application/x-www-form-urlencoded", 415),
])
def test_profile_body_framing(client, stored, raw, ctype, status):
    r = client.put(PROFILE, content=raw, headers={**bearer(stored["token"]), "Content-Type": ctype})
    assert r.status_code == status, r.text
    assert get_profile(client, stored["token"]) == stored["before"]


def test_cookie_put_needs_the_csrf_token(client):
    e = new_engineer(client, profile=False)
    ck = {"Cookie": f"opx_session={e['token']}"}
    assert_problem(client.put(PROFILE, json=valid_profile(), headers=ck), 403, "csrf")
    assert get_profile(client, e["token"])["vetting"]["status"] == "registered"
    csrf = client.get("/api/v1/me", headers=ck).json()["csrf_token"]
    r = client.put(PROFILE, json=valid_profile(), headers={**ck, "X-CSRF-Token": csrf})
    assert r.status_code == 200 and r.json()["engineer"]["vetting"]["status"] == "profile_complete"


# ---- who sees what ---------------------------------------------------------------


def test_visibility_of_email_and_hourly_rate(client, people):
    e = new_engineer(client, name="Visible Engineer")
    other = new_engineer(client, profile=False)
    url = f"/api/v1/engineers/{e['id']}"
    seen = {}
    for who, token in [("self", e["token"]), ("engineer", other["token"]), ("client", people["client"]["token"]),
                       ("vetter", people["vetter"]["token"]), ("admin", people["admin"]["token"])]:
        r = client.get(url, headers=bearer(token))
        assert r.status_code == 200, (who, r.text)
        seen[who] = r.json()["engineer"]
    rate = e["profile"]["hourly_rate"]
    assert "email" not in seen["engineer"] and "hourly_rate" not in seen["engineer"], seen["engineer"]
    assert "email" not in seen["client"] and seen["client"]["hourly_rate"] == rate, seen["client"]
    for who in ("self", "vetter", "admin"):
        assert seen[who]["email"] == e["email"] and seen[who]["hourly_rate"] == rate, (who, seen[who])
    # everything else is the same for everyone
    strip = lambda p: {k: v for k, v in p.items() if k not in ("email", "hourly_rate")}  # noqa: E731
    assert all(strip(p) == strip(seen["self"]) for p in seen.values())
    p = seen["client"]
    assert (p["id"], p["name"], p["headline"], p["timezone"]) == \
        (e["id"], "Visible Engineer", e["profile"]["headline"], e["profile"]["timezone"])
    assert get_profile(client, e["token"]) == seen["self"]


def test_engineer_lookup_404s(client, people):
    tok = people["client"]["token"]
    eng = new_engineer(client, profile=False)
    for uid in (people["client"]["user"]["id"], people["vetter"]["user"]["id"], people["admin"]["user"]["id"],
                "usr_" + "0" * 20, "nope"):
        assert_problem(client.get(f"/api/v1/engineers/{uid}", headers=bearer(tok)), 404, "not-found")
    # a registered engineer (no profile yet) exists
    r = client.get(f"/api/v1/engineers/{eng['id']}", headers=bearer(tok))
    assert r.status_code == 200 and r.json()["engineer"]["vetting"]["status"] == "registered"


# Wrong types inside arrays and objects must be a 422, never a crash. They run
# on servers of their own, so that a crash fails here and nowhere else.
TYPE_CONFUSION = [
    ("link-number", {"links": [42]}, ["links[0]"]),
    ("link-null", {"links": ["https://ok.test", None]}, ["links[1]"]),
    ("links-string", {"links": "https://e.test"}, ["links"]),
    ("skill-number", {"skills": [42]}, ["skills[0]"]),
    ("skill-string", {"skills": [{"id": "fastapi", "level": 3}, "asyncpg"]}, ["skills[1]"]),
    ("skill-id-number", {"skills": [{"id": 5, "level": 2}]}, ["skills[0].id"]),
    ("skill-id-null", {"skills": [{"id": None, "level": 2}]}, ["skills[0].id"]),
    ("skills-object", {"skills": {"id": "fastapi", "level": 2}}, ["skills"]),
    ("hourly-rate-array", {"hourly_rate": [9000, "USD"]}, ["hourly_rate"]),
    ("timezone-object", {"timezone": {"name": "UTC"}}, ["timezone"]),
]


def test_wrong_types_deep_in_the_profile_are_422_not_a_crash(spawn):
    def start():
        srv = spawn("--login-ip-burst", "1000")
        c = srv.client()
        return {"srv": srv, "c": c, "e": new_engineer(c, profile=False)}

    def check(env, case):
        _, over, fields = case
        c, tok = env["c"], env["e"]["token"]
        _expect_422(c.put(PROFILE, json=valid_profile(**over), headers=bearer(tok)), fields)
        assert get_profile(c, tok)["vetting"]["status"] == "registered"

    failures = crash_safe_cases(start, TYPE_CONFUSION, check)
    assert not failures, "\n".join(failures)
