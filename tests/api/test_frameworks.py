"""GET /api/v1/frameworks and /frameworks/{id}: the vetted pool's public
figures for the landing and /hire pages, for anyone. Counted from the
database as it is (cross-checked here with SQL), anonymised (no names, ids
or contacts), and following a new vetting at once."""
import json

import pytest

from opxtest import assert_problem, db_rows, demo_login, demo_server, vetted_engineer

FRAMEWORKS = ["fastapi", "sanic", "django-async", "aiohttp", "starlette"]


@pytest.fixture
def demo(spawn, tmp_path_factory):
    s = demo_server(spawn, tmp_path_factory)
    c = s.client()
    yield s, c
    c.close()


def vetted_on(srv, fw):
    return db_rows(srv, "SELECT p.level, p.rate_amount, p.rate_currency FROM engineer_profiles p"
                        " JOIN engineer_skills s ON s.user_id = p.user_id AND s.skill_id = ? AND s.vetted_level IS NOT NULL"
                        " WHERE p.status = 'vetted'", fw)


def test_the_list_counts_the_vetted_engineers_of_each_framework(demo):
    srv, c = demo
    r = c.get("/api/v1/frameworks")
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [f["id"] for f in items] == FRAMEWORKS
    assert [f["name"] for f in items] == ["FastAPI", "Sanic", "Django (async views, ORM)", "aiohttp server", "Starlette"]
    for f in items:
        assert f["vetted_count"] == len(vetted_on(srv, f["id"])), f
    assert sum(f["vetted_count"] for f in items) > 0


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_one_framework_levels_rates_and_anonymised_profiles(demo, fw):
    srv, c = demo
    r = c.get(f"/api/v1/frameworks/{fw}")
    assert r.status_code == 200, r.text
    d = r.json()
    rows = vetted_on(srv, fw)
    assert (d["id"], d["vetted_count"]) == (fw, len(rows))
    assert d["levels"] == {lv: sum(1 for x in rows if x[0] == lv) for lv in ("mid", "senior", "staff")}
    # rates in the pool's most common currency: the lowest, the (lower) median, the highest
    cur = max(sorted({x[2] for x in rows}), key=lambda k: sum(1 for x in rows if x[2] == k))
    rates = sorted(x[1] for x in rows if x[2] == cur)
    assert d["rate"] == {"min": rates[0], "median": rates[(len(rates) - 1) // 2], "max": rates[-1], "currency": cur}
    assert 1 <= len(d["profiles"]) <= 6
    emails = {e for (e,) in db_rows(srv, "SELECT email FROM users")}
    names = {n for (n,) in db_rows(srv, "SELECT name FROM users")}
    for p in d["profiles"]:
        assert set(p) == {"level", "years_experience", "timezone", "headline", "skills"}, p
        text = json.dumps(p)
        assert not any(e in text for e in emails) and not any(n in p["headline"] for n in names)
        assert 1 <= len(p["skills"]) <= 6 and all(1 <= s["level"] <= 5 and s["name"] for s in p["skills"])
        assert any(s["id"] == fw for s in p["skills"]) or len(p["skills"]) == 6
    # the best at the framework first: the top profile holds the pool's highest level at it
    best = db_rows(srv, "SELECT max(s.vetted_level) FROM engineer_profiles p JOIN engineer_skills s"
                        " ON s.user_id = p.user_id AND s.skill_id = ? WHERE p.status = 'vetted'", fw)[0][0]
    top = d["profiles"][0]["skills"]
    assert any(x["id"] == fw and x["level"] == best for x in top) or min(x["level"] for x in top) >= best


@pytest.mark.parametrize("fw", ["asyncpg", "flask", "FASTAPI", "x" * 200])
def test_what_is_not_a_framework_is_404(demo, fw):
    _, c = demo
    assert_problem(c.get(f"/api/v1/frameworks/{fw}"), 404, "not-found")


def test_a_new_vetting_counts_at_once(demo):
    _, c = demo
    before = c.get("/api/v1/frameworks/sanic").json()
    vetter = demo_login(c, "vetter@demo.opx")
    vetted_engineer(c, vetter, level="staff", confirm=[{"id": "sanic", "level": 5}, {"id": "asyncpg", "level": 4}],
                    skills=[{"id": "sanic", "level": 5}, {"id": "asyncpg", "level": 4}])
    after = c.get("/api/v1/frameworks/sanic").json()
    assert after["vetted_count"] == before["vetted_count"] + 1
    assert after["levels"]["staff"] == before["levels"]["staff"] + 1
    listed = {f["id"]: f["vetted_count"] for f in c.get("/api/v1/frameworks").json()["items"]}
    assert listed["sanic"] == after["vetted_count"]
