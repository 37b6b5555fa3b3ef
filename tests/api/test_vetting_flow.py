"""Vetting, end to end: an engineer walked from registration to vetted,
another to rejected (and, on a server of its own with the clock moved 90
days, back again), the audit trail of each, and who may call which vetting
endpoint (anonymous 401, wrong role 403)."""
import pytest

from opxtest import (DAY, advance_clock, assert_problem, bearer, create_staff, get_audit, get_profile, make_answers,
                     new_engineer, passed_engineer, put_profile, scorecard_body, seconds_between, sign_in_again,
                     signed_in, start_attempt, submit_attempt, transitions, valid_profile)

START = "/api/v1/me/assessment"


def in_queue(client, token, eid):
    r = client.get("/api/v1/vetting/queue", headers=bearer(token))
    assert r.status_code == 200, r.text
    return eid in {i["engineer"]["id"] for i in r.json()["items"]}


def chain(audit):
    return [(a["from"], a["to"], a["actor_id"]) for a in transitions(audit)]


@pytest.fixture(scope="module")
def people(server, client):
    return {
        "vetter": create_staff(server, client, "vetter", name="Vera Vetter"),
        "admin": create_staff(server, client, "admin", name="Ada Admin"),
        "client": signed_in(client, role="client", name="Cleo Client"),
    }


def test_registration_to_vetted(client, people):
    vetter, admin = people["vetter"], people["admin"]
    e = signed_in(client, role="engineer", name="Walk To Vetted")
    eid, tok = e["user"]["id"], e["token"]
    assert get_profile(client, tok)["vetting"] == {"status": "registered", "level": None, "reapply_after": None}

    p = put_profile(client, tok, valid_profile()).json()["engineer"]
    assert p["vetting"]["status"] == "profile_complete"

    a = start_attempt(client, tok)
    res = submit_attempt(client, tok, a["id"], make_answers(a))
    assert (res["score"], res["passed"], res["vetting"]["status"]) == (20, True, "assessment_passed")
    assert in_queue(client, vetter["token"], eid)

    body = scorecard_body("vetted", "senior", skills=[{"id": "fastapi", "level": 5}, {"id": "asyncpg", "level": 3}],
                          scores={"concepts": 5, "must_have": 4, "testing": 4, "production": 3, "senior": 4})
    r = client.post(f"/api/v1/engineers/{eid}/scorecard", json=body, headers=bearer(vetter["token"]))
    assert r.status_code == 201, r.text
    sc, eng = r.json()["scorecard"], r.json()["engineer"]
    assert (sc["engineer_id"], sc["vetter_id"], sc["scores"], sc["decision"], sc["level"], sc["notes"]) == \
        (eid, vetter["user"]["id"], body["scores"], "vetted", "senior", body["notes"])
    assert eng["vetting"] == {"status": "vetted", "level": "senior", "reapply_after": None}
    assert {s["id"]: (s["self_level"], s["vetted_level"]) for s in eng["skills"]} == \
        {"fastapi": (4, 5), "asyncpg": (3, 3), "cancellation": (5, None)}
    assert eng["email"] == e["email"]  # a vetter sees it
    assert get_profile(client, tok)["vetting"] == eng["vetting"]
    assert not in_queue(client, vetter["token"], eid)

    audit = get_audit(client, admin["token"], eid)
    assert audit == get_audit(client, vetter["token"], eid)
    assert chain(audit) == [("registered", "profile_complete", eid),
                            ("profile_complete", "assessment_passed", eid),
                            ("assessment_passed", "interviewed", vetter["user"]["id"]),
                            ("interviewed", "vetted", vetter["user"]["id"])]
    ats = [x["at"] for x in audit]
    assert ats == sorted(ats) and all(x["action"] for x in audit)
    assert {x["action"] for x in transitions(audit)} == {"vetting.transition"}

    # a client sees the outcome; a vetted engineer cannot start again
    seen = client.get(f"/api/v1/engineers/{eid}", headers=bearer(people["client"]["token"])).json()["engineer"]
    assert seen["vetting"] == {"status": "vetted", "level": "senior", "reapply_after": None}
    p = assert_problem(client.post(START, headers=bearer(tok)), 409, "wrong-state")
    assert p["state"] == "vetted" and "vetted" in p["detail"]


def test_registration_to_rejected(client, people):
    admin = people["admin"]
    e, a, res = passed_engineer(client, name="Walk To Rejected")
    eid = e["id"]
    body = scorecard_body("rejected", None, notes="Swallows CancelledError; no timeouts on outbound calls.")
    r = client.post(f"/api/v1/engineers/{eid}/scorecard", json=body, headers=bearer(admin["token"]))
    assert r.status_code == 201, r.text
    sc, eng = r.json()["scorecard"], r.json()["engineer"]
    assert (sc["decision"], sc["level"], sc["vetter_id"]) == ("rejected", None, admin["user"]["id"])
    assert eng["vetting"]["status"] == "rejected" and eng["vetting"]["level"] is None
    assert seconds_between(sc["created_at"], eng["vetting"]["reapply_after"]) == 90 * DAY
    assert all(s["vetted_level"] is None for s in eng["skills"])
    assert get_profile(client, e["token"])["vetting"] == eng["vetting"]
    assert not in_queue(client, admin["token"], eid)
    audit = get_audit(client, people["vetter"]["token"], eid)
    assert chain(audit) == [("registered", "profile_complete", eid),
                            ("profile_complete", "assessment_passed", eid),
                            ("assessment_passed", "interviewed", admin["user"]["id"]),
                            ("interviewed", "rejected", admin["user"]["id"])]
    # not before reapply_after
    p = assert_problem(client.post(START, headers=bearer(e["token"])), 409, "wrong-state")
    assert p["state"] == "rejected"
    assert get_audit(client, admin["token"], eid) == audit


def test_a_rejected_engineer_reapplies_after_90_days(spawn):
    srv = spawn("--login-ip-burst", "1000")
    c = srv.client()
    vetter = create_staff(srv, c, "vetter")
    e, _, _ = passed_engineer(c)
    r = c.post(f"/api/v1/engineers/{e['id']}/scorecard", json=scorecard_body("rejected", None),
               headers=bearer(vetter["token"]))
    assert r.status_code == 201, r.text
    reapply = r.json()["engineer"]["vetting"]["reapply_after"]
    now = advance_clock(c, 0)["now"]
    advance_clock(c, seconds_between(now, reapply) - 60)
    sign_in_again(c, e)  # 90 days outlive the sessions
    sign_in_again(c, vetter)
    p = assert_problem(c.post(START, headers=bearer(e["token"])), 409, "wrong-state")
    assert p["state"] == "rejected"
    advance_clock(c, 61)
    a = start_attempt(c, e["token"])
    assert a["attempts_left"] == 2  # the old attempt left the 30-day window long ago
    assert get_profile(c, e["token"])["vetting"]["status"] == "profile_complete"
    audit = get_audit(c, vetter["token"], e["id"])
    assert chain(audit)[-1] == ("rejected", "profile_complete", e["id"])
    assert submit_attempt(c, e["token"], a["id"], make_answers(a))["vetting"]["status"] == "assessment_passed"
    r = c.post(f"/api/v1/engineers/{e['id']}/scorecard", json=scorecard_body("vetted", "mid"),
               headers=bearer(vetter["token"]))
    assert r.status_code == 201, r.text
    assert r.json()["engineer"]["vetting"] == {"status": "vetted", "level": "mid", "reapply_after": None}
    assert [x["to"] for x in transitions(get_audit(c, vetter["token"], e["id"]))] == [
        "profile_complete", "assessment_passed", "interviewed", "rejected",
        "profile_complete", "assessment_passed", "interviewed", "vetted"]


# ---- who may call what -------------------------------------------------------------

ROLES = ("client", "engineer", "vetter", "admin")
SIGNED_IN = set(ROLES)
# (method, path, body kind, roles allowed)
ENDPOINTS = [
    ("GET", "/api/v1/skills", None, "anyone"),
    ("GET", "/api/v1/frameworks", None, "anyone"),
    ("GET", "/api/v1/frameworks/{framework}", None, "anyone"),
    ("GET", "/api/v1/me/profile", None, {"engineer"}),
    ("PUT", "/api/v1/me/profile", "profile", {"engineer"}),
    ("GET", "/api/v1/engineers/{engineer}", None, SIGNED_IN),
    ("POST", "/api/v1/me/assessment", None, {"engineer"}),
    ("GET", "/api/v1/assessments/{attempt}", None, {"engineer"}),
    ("POST", "/api/v1/assessments/{attempt}/submit", "answers", {"engineer"}),
    ("GET", "/api/v1/vetting/queue", None, {"vetter", "admin"}),
    ("POST", "/api/v1/engineers/{engineer}/scorecard", "scorecard", {"vetter", "admin"}),
    ("GET", "/api/v1/engineers/{engineer}/audit", None, {"vetter", "admin"}),
]
DENIED = [(m, p, b, who, 401 if who == "anonymous" else 403)
          for m, p, b, allowed in ENDPOINTS if allowed != "anyone"
          for who in ("anonymous",) + ROLES if who not in allowed]


def test_the_role_table_covers_every_vetting_operation(contract):
    documented = {(m, p) for m, p, op in contract.operations() if "vetting" in op.get("tags", [])}
    table = {(m, p.replace("{engineer}", "{id}").replace("{attempt}", "{id}").replace("{framework}", "{id}")) for m, p, _, _ in ENDPOINTS}
    assert documented == table
    for m, p, _, allowed in ENDPOINTS:
        op = dict(((mm, pp), o) for mm, pp, o in contract.operations())[
            (m, p.replace("{engineer}", "{id}").replace("{attempt}", "{id}").replace("{framework}", "{id}"))]
        want = "anyone" if allowed == "anyone" else ",".join(r for r in ROLES if r in allowed)
        assert op["x-roles"] == want, (m, p)


@pytest.fixture(scope="module")
def subjects(client, people):
    """Who calls (a token per role) and what the paths name: an engineer
    waiting for the interview and an open attempt of another engineer."""
    target, _, _ = passed_engineer(client)
    caller = new_engineer(client)  # the engineer role's caller: has an open attempt of its own
    attempt = start_attempt(client, caller["token"])
    tokens = {"client": people["client"]["token"], "engineer": caller["token"],
              "vetter": people["vetter"]["token"], "admin": people["admin"]["token"]}
    return {"target": target, "caller": caller, "attempt": attempt, "tokens": tokens}


def _request(client, subjects, method, path, body_kind, who):
    path = path.replace("{engineer}", subjects["target"]["id"]).replace("{attempt}", subjects["attempt"]["id"]).replace(
        "{framework}", "fastapi")
    body = {"profile": valid_profile(), "answers": {"answers": make_answers(subjects["attempt"])},
            "scorecard": scorecard_body()}.get(body_kind)
    headers = {} if who == "anonymous" else bearer(subjects["tokens"][who])
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("method,path,body,who,status", DENIED,
                         ids=[f"{m} {p} as {w}" for m, p, _, w, _ in DENIED])
def test_who_may_not_call(client, subjects, method, path, body, who, status):
    r = _request(client, subjects, method, path, body, who)
    assert_problem(r, status, "unauthorized" if status == 401 else "forbidden")


def test_refused_calls_changed_nothing(client, people, subjects):
    """Runs after the table: the target still waits, the attempt is still open."""
    t = subjects["target"]
    assert in_queue(client, people["vetter"]["token"], t["id"])
    assert [x["to"] for x in transitions(get_audit(client, people["vetter"]["token"], t["id"]))] == [
        "profile_complete", "assessment_passed"]
    r = client.get(f"/api/v1/assessments/{subjects['attempt']['id']}", headers=bearer(subjects["caller"]["token"]))
    assert r.json()["status"] == "open"


ALLOWED_READS = [(m, p, who) for m, p, b, allowed in ENDPOINTS if m == "GET"
                 for who in (("anonymous",) + ROLES if allowed == "anyone" else sorted(allowed))]


@pytest.mark.parametrize("method,path,who", ALLOWED_READS, ids=[f"{m} {p} as {w}" for m, p, w in ALLOWED_READS])
def test_who_may_read(client, subjects, method, path, who):
    r = _request(client, subjects, method, path, None, who)
    assert r.status_code == 200, r.text


def test_a_client_vetter_or_admin_cannot_start_an_assessment(client, people):
    for who in ("client", "vetter", "admin"):
        assert_problem(client.post(START, headers=bearer(people[who]["token"])), 403, "forbidden")
