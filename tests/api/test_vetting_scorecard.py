"""Vetting, part 3: the vetters' queue and the interview scorecard: every
field rule (422, and no state change), the state it needs (409), whom it
may name (404/403), confirmed skill levels and what the engineer may still
change of them."""
import copy
from concurrent.futures import ThreadPoolExecutor

import pytest

from opxtest import (advance_clock, assert_problem, bearer, crash_safe_cases, create_staff, get_audit, get_profile,
                     new_engineer, passed_engineer, scorecard_body, seconds_between, signed_in, transitions,
                     valid_profile)


def card_url(eid):
    return f"/api/v1/engineers/{eid}/scorecard"


def queue(client, token):
    r = client.get("/api/v1/vetting/queue", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()["items"]


@pytest.fixture(scope="module")
def people(server, client):
    return {
        "vetter": create_staff(server, client, "vetter"),
        "admin": create_staff(server, client, "admin"),
        "client": signed_in(client, role="client"),
    }


@pytest.fixture(scope="module")
def waiting(client, people):
    """A passed engineer that the 422 cases must leave in the queue, unchanged."""
    e, a, res = passed_engineer(client)
    e["audit"] = get_audit(client, people["vetter"]["token"], e["id"])
    e["profile_before"] = get_profile(client, e["token"])
    return e


# ---- the queue -----------------------------------------------------------------


def test_a_passed_engineer_is_in_the_queue(client, people):
    e, a, res = passed_engineer(client, right=17, name="Queued Engineer")
    items = queue(client, people["vetter"]["token"])
    assert items == queue(client, people["admin"]["token"])
    mine = [i for i in items if i["engineer"]["id"] == e["id"]]
    assert len(mine) == 1, items
    it = mine[0]
    p = e["profile"]
    assert it["engineer"] == {"id": e["id"], "name": "Queued Engineer", "email": e["email"],
                              "headline": p["headline"], "timezone": p["timezone"],
                              "hours_per_week": p["hours_per_week"], "years_experience": p["years_experience"],
                              "hourly_rate": p["hourly_rate"]}
    assert it["assessment"] == {"score": 17, "total": 20}
    assert sorted((s["id"], s["self_level"]) for s in it["skills"]) == \
        sorted((s["id"], s["level"]) for s in p["skills"])
    audit = get_audit(client, people["vetter"]["token"], e["id"])
    assert it["waiting_since"] == transitions(audit)[-1]["at"]
    waits = [i["waiting_since"] for i in items]
    assert waits == sorted(waits), "oldest first"
    # engineers not (yet) past the assessment are not queued
    fresh = new_engineer(client)
    assert fresh["id"] not in {i["engineer"]["id"] for i in queue(client, people["vetter"]["token"])}


def test_the_queue_is_oldest_first(spawn):
    srv = spawn("--login-ip-burst", "1000")
    c = srv.client()
    vetter = create_staff(srv, c, "vetter")
    first, _, _ = passed_engineer(c)
    advance_clock(c, 120)
    second, _, _ = passed_engineer(c)
    advance_clock(c, 120)
    third, _, _ = passed_engineer(c)
    items = queue(c, vetter["token"])
    assert [i["engineer"]["id"] for i in items] == [first["id"], second["id"], third["id"]]
    assert 120 <= seconds_between(items[0]["waiting_since"], items[1]["waiting_since"]) <= 125
    # scoring one takes it out, the rest keep their order
    r = c.post(card_url(second["id"]), json=scorecard_body(), headers=bearer(vetter["token"]))
    assert r.status_code == 201, r.text
    assert [i["engineer"]["id"] for i in queue(c, vetter["token"])] == [first["id"], third["id"]]


# ---- the scorecard: field rules ---------------------------------------------------


def _with(path, value):
    def change(b):
        keys = path.split(".")
        obj = b
        for k in keys[:-1]:
            obj = obj[int(k)] if isinstance(obj, list) else obj[k]
        last = int(keys[-1]) if isinstance(obj, list) else keys[-1]
        if value is DELETE:
            del obj[last]
        else:
            obj[last] = value
        return b
    return change


DELETE = object()

INVALID = [
    ("score-0", _with("scores.concepts", 0), ["scores.concepts"]),
    ("score-6", _with("scores.senior", 6), ["scores.senior"]),
    ("score-missing", _with("scores.testing", DELETE), ["scores.testing"]),
    ("score-string", _with("scores.must_have", "4"), ["scores.must_have"]),
    ("score-float", _with("scores.production", 3.5), ["scores.production"]),
    ("score-unknown-area", _with("scores.charisma", 5), ["scores.charisma"]),
    ("scores-missing", _with("scores", DELETE), ["scores"]),
    ("level-principal", _with("level", "principal"), ["level"]),
    ("level-with-rejected", lambda b: _with("decision", "rejected")(_with("level", "mid")(b)), ["level"]),
    ("level-missing-with-vetted", _with("level", DELETE), ["level"]),
    ("level-null-with-vetted", _with("level", None), ["level"]),
    ("decision-unknown", _with("decision", "maybe"), ["decision"]),
    ("decision-missing", _with("decision", DELETE), ["decision"]),
    ("notes-empty", _with("notes", ""), ["notes"]),
    ("notes-5001-chars", _with("notes", "\u00fc" * 5001), ["notes"]),
    ("notes-missing", _with("notes", DELETE), ["notes"]),
    ("skill-unknown-id", _with("skills", [{"id": "cobol", "level": 3}]), ["skills[0].id"]),
    ("skill-not-in-profile", _with("skills", [{"id": "fastapi", "level": 4}, {"id": "httpx", "level": 3}]),
     ["skills[1].id"]),
    ("skill-level-0", _with("skills", [{"id": "fastapi", "level": 0}]), ["skills[0].level"]),
    ("skill-level-6", _with("skills", [{"id": "asyncpg", "level": 6}]), ["skills[0].level"]),
    ("unknown-field", _with("bonus", 1), ["bonus"]),
]


@pytest.mark.parametrize("change,fields", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_scorecard_is_422_and_changes_nothing(client, people, waiting, change, fields):
    body = change(copy.deepcopy(scorecard_body()))
    r = client.post(card_url(waiting["id"]), json=body, headers=bearer(people["vetter"]["token"]))
    p = assert_problem(r, 422, "validation")
    assert sorted(e["field"] for e in p["errors"]) == sorted(fields), p
    assert get_profile(client, waiting["token"]) == waiting["profile_before"]
    assert get_audit(client, people["vetter"]["token"], waiting["id"]) == waiting["audit"]
    assert waiting["id"] in {i["engineer"]["id"] for i in queue(client, people["vetter"]["token"])}


def test_notes_of_5000_multibyte_characters_are_accepted(client, people):
    e, _, _ = passed_engineer(client)
    notes = "\U0001F40D" * 5000
    r = client.post(card_url(e["id"]), json=scorecard_body(notes=notes), headers=bearer(people["admin"]["token"]))
    assert r.status_code == 201, r.text
    assert r.json()["scorecard"]["notes"] == notes


# ---- state, target, caller -------------------------------------------------------


@pytest.mark.parametrize("state", ["registered", "profile_complete", "vetted", "rejected"])
def test_scorecard_outside_assessment_passed_is_409_with_the_status(client, people, state):
    tok = people["vetter"]["token"]
    if state == "registered":
        e = new_engineer(client, profile=False)
    elif state == "profile_complete":
        e = new_engineer(client)
    else:
        e, _, _ = passed_engineer(client)
        level = "mid" if state == "vetted" else None
        r = client.post(card_url(e["id"]), json=scorecard_body(state, level), headers=bearer(tok))
        assert r.status_code == 201, r.text
    before = (get_profile(client, e["token"]), get_audit(client, tok, e["id"]))
    r = client.post(card_url(e["id"]), json=scorecard_body(), headers=bearer(tok))
    p = assert_problem(r, 409, "wrong-state")
    assert p["state"] == state, p
    assert (get_profile(client, e["token"]), get_audit(client, tok, e["id"])) == before


def test_concurrent_scorecards_decide_once(client, people):
    e, _, _ = passed_engineer(client)
    calls = [(people["vetter"]["token"], scorecard_body("vetted", "senior")),
             (people["admin"]["token"], scorecard_body("rejected", None)),
             (people["vetter"]["token"], scorecard_body("vetted", "mid")),
             (people["admin"]["token"], scorecard_body("vetted", "staff"))]
    with ThreadPoolExecutor(4) as pool:
        rs = list(pool.map(lambda c: client.post(card_url(e["id"]), json=c[1], headers=bearer(c[0])), calls))
    assert sorted(r.status_code for r in rs) == [201, 409, 409, 409], [r.text for r in rs]
    won = next(r.json() for r in rs if r.status_code == 201)
    assert get_profile(client, e["token"])["vetting"] == won["engineer"]["vetting"]
    assert len(transitions(get_audit(client, people["vetter"]["token"], e["id"]))) == 4


def test_scorecard_for_no_engineer_is_404(client, people):
    tok = people["vetter"]["token"]
    for eid in ("usr_" + "0" * 20, people["client"]["user"]["id"], people["admin"]["user"]["id"], "x"):
        assert_problem(client.post(card_url(eid), json=scorecard_body(), headers=bearer(tok)), 404, "not-found")
        assert_problem(client.get(f"/api/v1/engineers/{eid}/audit", headers=bearer(tok)), 404, "not-found")


def test_nobody_scores_themselves(client, people):
    for who in ("vetter", "admin"):
        me = people[who]
        r = client.post(card_url(me["user"]["id"]), json=scorecard_body(), headers=bearer(me["token"]))
        assert_problem(r, 403, "forbidden")


def test_clients_and_engineers_cannot_score(client, people, waiting):
    other = new_engineer(client)
    for tok in (people["client"]["token"], other["token"], waiting["token"]):
        r = client.post(card_url(waiting["id"]), json=scorecard_body(), headers=bearer(tok))
        assert_problem(r, 403, "forbidden")
    assert get_audit(client, people["vetter"]["token"], waiting["id"]) == waiting["audit"]


# ---- confirmed skills -------------------------------------------------------------


def test_confirmed_and_corrected_levels_are_shown(client, people):
    e, _, _ = passed_engineer(client)  # fastapi 4, asyncpg 3, cancellation 5
    body = scorecard_body("vetted", "staff", skills=[{"id": "fastapi", "level": 4}, {"id": "cancellation", "level": 3}])
    r = client.post(card_url(e["id"]), json=body, headers=bearer(people["vetter"]["token"]))
    assert r.status_code == 201, r.text
    skills = {s["id"]: (s["self_level"], s["vetted_level"]) for s in r.json()["engineer"]["skills"]}
    assert skills == {"fastapi": (4, 4), "asyncpg": (3, None), "cancellation": (5, 3)}
    shown = get_profile(client, e["token"])["skills"]
    assert {s["id"]: (s["self_level"], s["vetted_level"]) for s in shown} == skills
    r = client.get(f"/api/v1/engineers/{e['id']}", headers=bearer(people["client"]["token"]))
    assert {s["id"]: (s["self_level"], s["vetted_level"]) for s in r.json()["engineer"]["skills"]} == skills


def test_confirmed_skill_levels_cannot_be_changed_or_removed(client, people):
    e, _, _ = passed_engineer(client)  # fastapi 4, asyncpg 3, cancellation 5
    body = scorecard_body("vetted", "mid", skills=[{"id": "fastapi", "level": 4}, {"id": "cancellation", "level": 5}])
    r = client.post(card_url(e["id"]), json=body, headers=bearer(people["admin"]["token"]))
    assert r.status_code == 201, r.text
    before = get_profile(client, e["token"])
    tok = e["token"]

    def put(skills):
        return client.put("/api/v1/me/profile", json=valid_profile(skills=skills), headers=bearer(tok))

    def fields(r):
        return [x["field"] for x in assert_problem(r, 422, "validation")["errors"]]

    # a confirmed skill's level cannot change ...
    r = put([{"id": "fastapi", "level": 5}, {"id": "asyncpg", "level": 3}, {"id": "cancellation", "level": 5}])
    assert fields(r) == ["skills[0].level"]
    r = put([{"id": "asyncpg", "level": 3}, {"id": "fastapi", "level": 4}, {"id": "cancellation", "level": 1}])
    assert fields(r) == ["skills[2].level"]
    # ... nor be removed
    r = put([{"id": "asyncpg", "level": 3}, {"id": "cancellation", "level": 5}])
    assert fields(r) == ["skills"]
    assert get_profile(client, tok) == before
    # unconfirmed skills stay the engineer's to change, new ones may be added, the order is free
    r = put([{"id": "httpx", "level": 2}, {"id": "cancellation", "level": 5}, {"id": "asyncpg", "level": 5},
             {"id": "fastapi", "level": 4}])
    assert r.status_code == 200, r.text
    after = {s["id"]: (s["self_level"], s["vetted_level"]) for s in r.json()["engineer"]["skills"]}
    assert after == {"fastapi": (4, 4), "asyncpg": (5, None), "cancellation": (5, 5), "httpx": (2, None)}
    assert r.json()["engineer"]["vetting"] == before["vetting"]  # a profile edit does not un-vet


# Wrong types deep in the scorecard must be a 422, never a crash; on servers of
# their own, so that a crash fails here and nowhere else.
CARD_CONFUSION = [
    ("skill-number", {"skills": [42]}, ["skills[0]"]),
    ("skill-id-number", {"skills": [{"id": 3, "level": 3}]}, ["skills[0].id"]),
    ("skill-id-null", {"skills": [{"id": None, "level": 3}]}, ["skills[0].id"]),
    ("skills-string", {"skills": "fastapi"}, ["skills"]),
    ("scores-array", {"scores": [4, 4, 3, 4, 3]}, ["scores"]),
    ("notes-number", {"notes": 5}, ["notes"]),
    ("level-number", {"level": 2}, ["level"]),
]


def test_wrong_types_deep_in_the_scorecard_are_422_not_a_crash(spawn):
    def start():
        srv = spawn("--login-ip-burst", "1000")
        c = srv.client()
        return {"srv": srv, "c": c, "vetter": create_staff(srv, c, "vetter"), "e": passed_engineer(c)[0]}

    def check(env, case):
        _, over, fields = case
        c, e = env["c"], env["e"]
        r = c.post(card_url(e["id"]), json=scorecard_body(**over), headers=bearer(env["vetter"]["token"]))
        p = assert_problem(r, 422, "validation")
        assert sorted(x["field"] for x in p["errors"]) == fields, p
        assert get_profile(c, e["token"])["vetting"]["status"] == "assessment_passed"

    failures = crash_safe_cases(start, CARD_CONFUSION, check)
    assert not failures, "\n".join(failures)
