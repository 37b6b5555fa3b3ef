"""Vetting, part 2: the timed assessment. Starting an attempt (and every 409
that refuses one), reading it, submitting it once, that answers never leak
before grading, expiry and the retake limit. Tests that move the clock run
on a server of their own: the clock is process wide."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from opxtest import (DAY, THIRTY_MIN, advance_clock, assert_problem, bearer, crash_safe_cases, create_staff, get_audit,
                     leaked_keys, make_answers, new_engineer, passed_engineer, question_bank, right_choice,
                     seconds_between, sign_in_again, start_attempt, submit_attempt, transitions)

START = "/api/v1/me/assessment"


def attempt_url(aid, submit=False):
    return f"/api/v1/assessments/{aid}" + ("/submit" if submit else "")


def get_attempt(client, token, aid):
    r = client.get(attempt_url(aid), headers=bearer(token))
    assert r.status_code == 200, r.text
    a = r.json()
    assert leaked_keys(a) == [], leaked_keys(a)
    return a


def _strings(obj):
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        obj = list(obj.keys()) + list(obj.values())
    return [s for v in obj for s in _strings(v)] if isinstance(obj, list) else []


def status_of(client, token):
    return client.get("/api/v1/me/profile", headers=bearer(token)).json()["engineer"]["vetting"]["status"]


@pytest.fixture(scope="module")
def vetter(server, client):
    return create_staff(server, client, "vetter")


@pytest.fixture
def own_server(spawn):
    """A server of the test's own, for moving the clock."""
    srv = spawn("--login-ip-burst", "1000")
    return srv, srv.client()


# ---- starting ------------------------------------------------------------------


def test_start_gives_20_shuffled_questions_and_never_an_answer(client, contract):
    e = new_engineer(client)
    r = client.post(START, headers=bearer(e["token"]))
    assert r.status_code == 201, r.text
    a = r.json()
    # the schema forbids any member but id, prompt and choices in a question
    schema = contract.doc["paths"][START]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    contract.validate_schema(schema, a, "start")
    assert leaked_keys(a) == [], leaked_keys(a)
    bank = question_bank()
    assert len(bank) >= 40
    ids = [q["id"] for q in a["questions"]]
    assert len(ids) == 20 and len(set(ids)) == 20
    for q in a["questions"]:
        b = bank[q["id"]]
        assert q["prompt"] == b["prompt"]
        assert sorted(q["choices"]) == sorted(b["choices"]), q["id"]
        assert not any(b["explanation"] in t for t in _strings(a)), q["id"]
    assert seconds_between(a["started_at"], a["expires_at"]) == THIRTY_MIN
    assert a["attempts_left"] == 2
    assert status_of(client, e["token"]) == "profile_complete"


def test_draws_and_shuffles_differ_between_attempts(client):
    """Random draw from the bank and shuffled choices: over 5 engineers the
    question sets are not all the same and some choices are reordered."""
    sets, reordered = set(), 0
    bank = question_bank()
    for _ in range(5):
        e = new_engineer(client)
        a = start_attempt(client, e["token"])
        sets.add(frozenset(q["id"] for q in a["questions"]))
        reordered += sum(q["choices"] != bank[q["id"]]["choices"] for q in a["questions"])
    assert len(sets) > 1
    assert reordered > 0


def test_start_without_a_profile_is_409_profile_incomplete(client):
    e = new_engineer(client, profile=False)
    assert_problem(client.post(START, headers=bearer(e["token"])), 409, "profile-incomplete")
    assert status_of(client, e["token"]) == "registered"


def test_an_open_attempt_is_409_attempt_open(client):
    e = new_engineer(client)
    a = start_attempt(client, e["token"])
    p = assert_problem(client.post(START, headers=bearer(e["token"])), 409, "attempt-open")
    assert p["attempt_id"] == a["id"]
    # the refused start is not an attempt: the open one is still the one
    assert get_attempt(client, e["token"], a["id"])["status"] == "open"


def test_after_passing_a_new_attempt_is_409_wrong_state(client):
    e, a, _ = passed_engineer(client)
    p = assert_problem(client.post(START, headers=bearer(e["token"])), 409, "wrong-state")
    assert p["state"] == "assessment_passed"
    assert "assessment_passed" in p["detail"]


# ---- reading ------------------------------------------------------------------


def test_get_attempt_shows_the_same_questions_without_answers(client, contract):
    e = new_engineer(client)
    a = start_attempt(client, e["token"])
    g = get_attempt(client, e["token"], a["id"])
    schema = contract.doc["paths"]["/api/v1/assessments/{id}"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    contract.validate_schema(schema, g, "get attempt")
    assert g["id"] == a["id"] and g["questions"] == a["questions"]
    assert (g["status"], g["submitted_at"], g["score"], g["passed"]) == ("open", None, None, None)
    assert (g["started_at"], g["expires_at"]) == (a["started_at"], a["expires_at"])


def test_the_schema_refuses_a_leaked_answer(client, contract):
    """Guards the guard: an answer field in a question fails the contract."""
    e = new_engineer(client)
    a = start_attempt(client, e["token"])
    a["questions"][0]["answer"] = 1
    schema = contract.doc["paths"][START]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    with pytest.raises(AssertionError):
        contract.validate_schema(schema, a, "start")


def test_another_engineers_attempt_is_404(client):
    owner = new_engineer(client)
    a = start_attempt(client, owner["token"])
    other = new_engineer(client)
    start_attempt(client, other["token"])
    assert_problem(client.get(attempt_url(a["id"]), headers=bearer(other["token"])), 404, "not-found")
    r = client.post(attempt_url(a["id"], True), json={"answers": make_answers(a)}, headers=bearer(other["token"]))
    assert_problem(r, 404, "not-found")
    # nothing happened to it
    g = get_attempt(client, owner["token"], a["id"])
    assert (g["status"], g["score"]) == ("open", None)
    assert status_of(client, owner["token"]) == "profile_complete"
    assert status_of(client, other["token"]) == "profile_complete"
    for bad in ("no-such-attempt", "asm_" + "0" * 20):
        assert_problem(client.get(attempt_url(bad), headers=bearer(owner["token"])), 404, "not-found")
        r = client.post(attempt_url(bad, True), json={"answers": []}, headers=bearer(owner["token"]))
        assert_problem(r, 404, "not-found")


# ---- submitting ---------------------------------------------------------------


def test_all_wrong_fails_and_shows_the_answers_after_grading(client, vetter):
    e = new_engineer(client)
    a = start_attempt(client, e["token"])
    res = submit_attempt(client, e["token"], a["id"], make_answers(a, right=0))
    assert (res["id"], res["score"], res["total"], res["pass_mark"], res["passed"]) == (a["id"], 0, 20, 14, False)
    assert res["vetting"] == {"status": "profile_complete"}
    bank = question_bank()
    shown = {q["id"]: q for q in a["questions"]}
    assert [r["question_id"] for r in res["results"]] == [q["id"] for q in a["questions"]]
    for r in res["results"]:
        q = shown[r["question_id"]]
        assert r["correct_choice"] == right_choice(q)
        assert r["your_choice"] != r["correct_choice"] and r["correct"] is False
        assert r["explanation"] == bank[q["id"]]["explanation"]
    g = get_attempt(client, e["token"], a["id"])  # still no answers, even now
    assert (g["status"], g["score"], g["passed"]) == ("submitted", 0, False)
    assert g["submitted_at"] is not None
    assert status_of(client, e["token"]) == "profile_complete"
    assert [x["to"] for x in transitions(get_audit(client, vetter["token"], e["id"]))] == ["profile_complete"]


@pytest.mark.parametrize("right,passed", [(14, True), (13, False)])
def test_pass_mark_is_14_of_20(client, right, passed):
    e = new_engineer(client)
    a = start_attempt(client, e["token"])
    res = submit_attempt(client, e["token"], a["id"], make_answers(a, right))
    assert (res["score"], res["passed"]) == (right, passed)
    assert sum(r["correct"] for r in res["results"]) == right
    want = "assessment_passed" if passed else "profile_complete"
    assert res["vetting"]["status"] == want == status_of(client, e["token"])


def test_unanswered_questions_count_as_wrong(client):
    e = new_engineer(client)
    a = start_attempt(client, e["token"])
    answers = make_answers(a)[:15]  # 15 right, 5 unanswered
    res = submit_attempt(client, e["token"], a["id"], answers)
    assert (res["score"], res["passed"]) == (15, True)
    assert [r["your_choice"] for r in res["results"][15:]] == [None] * 5
    e2 = new_engineer(client)
    a2 = start_attempt(client, e2["token"])
    res2 = submit_attempt(client, e2["token"], a2["id"], [])
    assert (res2["score"], res2["passed"]) == (0, False)


def test_duplicate_submit_is_409_and_counts_nothing_twice(client, vetter):
    e = new_engineer(client)
    a = start_attempt(client, e["token"])
    res = submit_attempt(client, e["token"], a["id"], make_answers(a))
    assert (res["score"], res["passed"]) == (20, True)
    first = get_attempt(client, e["token"], a["id"])
    audit = get_audit(client, vetter["token"], e["id"])
    for answers in (make_answers(a, right=0), make_answers(a)):
        r = client.post(attempt_url(a["id"], True), json={"answers": answers}, headers=bearer(e["token"]))
        assert_problem(r, 409, "attempt-closed")
    assert get_attempt(client, e["token"], a["id"]) == first
    assert status_of(client, e["token"]) == "assessment_passed"
    assert get_audit(client, vetter["token"], e["id"]) == audit  # no row for the refused submits
    assert [(x["from"], x["to"]) for x in transitions(audit)] == [("registered", "profile_complete"),
                                                                  ("profile_complete", "assessment_passed")]


def test_concurrent_starts_open_one_attempt(client):
    e = new_engineer(client)
    with ThreadPoolExecutor(4) as pool:
        rs = list(pool.map(lambda _: client.post(START, headers=bearer(e["token"])), range(4)))
    assert sorted(r.status_code for r in rs) == [201, 409, 409, 409], [r.text for r in rs]
    opened = next(r.json() for r in rs if r.status_code == 201)
    for r in rs:
        if r.status_code == 409:
            assert assert_problem(r, 409, "attempt-open")["attempt_id"] == opened["id"]


def test_concurrent_submits_grade_once(client, vetter):
    e = new_engineer(client)
    a = start_attempt(client, e["token"])
    url, body = attempt_url(a["id"], True), {"answers": make_answers(a)}
    with ThreadPoolExecutor(4) as pool:
        rs = list(pool.map(lambda _: client.post(url, json=body, headers=bearer(e["token"])), range(4)))
    assert sorted(r.status_code for r in rs) == [200, 409, 409, 409], [r.text for r in rs]
    assert [(x["from"], x["to"]) for x in transitions(get_audit(client, vetter["token"], e["id"]))] == [
        ("registered", "profile_complete"), ("profile_complete", "assessment_passed")]


def _bad_answers(a):
    q0, q1 = a["questions"][0]["id"], a["questions"][1]["id"]
    other = next(i for i in question_bank() if i not in {q["id"] for q in a["questions"]})
    return [
        ("unknown-question", [{"question_id": "q-does-not-exist", "choice": 0}], ["answers[0].question_id"]),
        ("question-not-in-attempt", [{"question_id": q0, "choice": 0}, {"question_id": other, "choice": 1}],
         ["answers[1].question_id"]),
        ("duplicate-question", [{"question_id": q0, "choice": 0}, {"question_id": q1, "choice": 0},
                                {"question_id": q0, "choice": 1}], ["answers[2].question_id"]),
        ("choice-4", [{"question_id": q0, "choice": 4}], ["answers[0].choice"]),
        ("choice-negative", [{"question_id": q0, "choice": -1}], ["answers[0].choice"]),
        ("choice-string", [{"question_id": q0, "choice": "1"}], ["answers[0].choice"]),
        ("choice-float", [{"question_id": q0, "choice": 1.5}], ["answers[0].choice"]),
        ("question-id-number", [{"question_id": 7, "choice": 1}], ["answers[0].question_id"]),
        ("choice-missing", [{"question_id": q0}], ["answers[0].choice"]),
        ("extra-member", [{"question_id": q0, "choice": 1, "sure": True}], ["answers[0].sure"]),
        ("answers-not-array", {"q": 1}, ["answers"]),
    ]


def test_invalid_submits_are_422_and_grade_nothing(client):
    e = new_engineer(client)
    a = start_attempt(client, e["token"])
    url = attempt_url(a["id"], True)
    for name, answers, fields in _bad_answers(a):
        r = client.post(url, json={"answers": answers}, headers=bearer(e["token"]))
        p = assert_problem(r, 422, "validation")
        got = [x["field"] for x in p["errors"]]
        if name == "duplicate-question":  # which of the two is named is the server's choice
            assert len(got) == 1 and got[0] in ("answers[2].question_id", "answers[2]", "answers"), (name, p)
        else:
            assert sorted(got) == sorted(fields), (name, p)
    for body, fields in (({}, ["answers"]), ({"answers": [], "score": 20}, ["score"])):
        p = assert_problem(client.post(url, json=body, headers=bearer(e["token"])), 422, "validation")
        assert sorted(x["field"] for x in p["errors"]) == fields, p
    r = client.post(url, content=b"answers", headers={**bearer(e["token"]), "Content-Type": "text/plain"})
    assert_problem(r, 415, "unsupported-media-type")
    g = get_attempt(client, e["token"], a["id"])
    assert (g["status"], g["score"], g["submitted_at"]) == ("open", None, None)
    # and the attempt can still be submitted properly
    assert submit_attempt(client, e["token"], a["id"], make_answers(a))["score"] == 20


# ---- the clock: expiry, retakes --------------------------------------------------


def test_an_attempt_expires_after_30_minutes(own_server):
    srv, c = own_server
    late, in_time = new_engineer(c), new_engineer(c)
    a_late = start_attempt(c, late["token"])
    a_in_time = start_attempt(c, in_time["token"])
    advance_clock(c, THIRTY_MIN - 60)
    res = submit_attempt(c, in_time["token"], a_in_time["id"], make_answers(a_in_time))
    assert res["passed"] is True
    advance_clock(c, 61)  # 1801 s after the start
    r = c.post(attempt_url(a_late["id"], True), json={"answers": make_answers(a_late)},
               headers=bearer(late["token"]))
    assert_problem(r, 409, "attempt-closed")
    g = get_attempt(c, late["token"], a_late["id"])
    assert (g["status"], g["score"], g["passed"], g["submitted_at"]) == ("expired", None, None, None)
    assert status_of(c, late["token"]) == "profile_complete"
    # the expired attempt is not open any more, and it was one of the three
    again = start_attempt(c, late["token"])
    assert again["attempts_left"] == 1 and again["id"] != a_late["id"]


def test_three_attempts_in_30_days_then_attempt_limit(own_server):
    srv, c = own_server
    e = new_engineer(c)
    started = []
    for left in (2, 1, 0):
        a = start_attempt(c, e["token"])
        assert a["attempts_left"] == left
        started.append(a["started_at"])
        res = submit_attempt(c, e["token"], a["id"], make_answers(a, right=0))
        assert res["passed"] is False
        advance_clock(c, 3600)
    p = assert_problem(c.post(START, headers=bearer(e["token"])), 409, "attempt-limit")
    assert abs(seconds_between(started[0], p["next_attempt_at"]) - 30 * DAY) <= 1, p
    # just before the first attempt leaves the window: still refused
    now = advance_clock(c, 0)["now"]
    advance_clock(c, seconds_between(now, p["next_attempt_at"]) - 60)
    sign_in_again(c, e)  # 30 days outlive the session
    assert_problem(c.post(START, headers=bearer(e["token"])), 409, "attempt-limit")
    advance_clock(c, 61)
    a4 = start_attempt(c, e["token"])
    assert a4["attempts_left"] == 0  # attempts 2 and 3 are still in the window
    assert submit_attempt(c, e["token"], a4["id"], make_answers(a4))["passed"] is True
    assert status_of(c, e["token"]) == "assessment_passed"


# Wrong types inside the answers must be a 422, never a crash; on servers of
# their own, so that a crash fails here and nowhere else.
SUBMIT_CONFUSION = [
    ("answer-number", [42], ["answers[0]"]),
    ("answer-null", [None], ["answers[0]"]),
    ("answer-string", ["q-gather-first-exception"], ["answers[0]"]),
    ("question-id-null", [{"question_id": None, "choice": 1}], ["answers[0].question_id"]),
    ("question-id-object", [{"question_id": {"id": "x"}, "choice": 1}], ["answers[0].question_id"]),
    ("choice-null", "FIRST:null", ["answers[0].choice"]),
    ("choice-huge", "FIRST:1e400", None),
]


def test_wrong_types_in_answers_are_refused_not_a_crash(spawn):
    def start():
        srv = spawn("--login-ip-burst", "1000")
        c = srv.client()
        return {"srv": srv, "c": c, "e": new_engineer(c)}

    def check(env, case):
        name, answers, fields = case
        c, e = env["c"], env["e"]
        a = start_attempt(c, e["token"]) if "a" not in env else env["a"]
        env["a"] = a
        url = attempt_url(a["id"], True)
        if isinstance(answers, str):  # raw JSON for the first question's choice
            raw = '{"answers":[{"question_id":"%s","choice":%s}]}' % (a["questions"][0]["id"],
                                                                      answers.split(":", 1)[1])
            r = c.post(url, content=raw.encode(), headers={**bearer(e["token"]), "Content-Type": "application/json"})
        else:
            r = c.post(url, json={"answers": answers}, headers=bearer(e["token"]))
        if fields is None:  # a number a JSON parser may refuse outright: 400 or 422, refused either way
            assert r.status_code in (400, 422), r.text
        else:
            p = assert_problem(r, 422, "validation")
            assert sorted(x["field"] for x in p["errors"]) == fields, p
        g = get_attempt(c, e["token"], a["id"])
        assert (g["status"], g["score"]) == ("open", None)

    failures = crash_safe_cases(start, SUBMIT_CONFUSION, check)
    assert not failures, "\n".join(failures)
