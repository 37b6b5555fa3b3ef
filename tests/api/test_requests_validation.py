"""Raising a request: every field's bad values are a 422 naming the field's
path and store nothing; who may call each matching endpoint (anonymous 401,
wrong role 403); a request is its client's own (another client: 404) and
any admin's to read. On the main server: nothing here moves its clock."""
import pytest

from opxtest import (REQUESTS, assert_problem, bearer, cookie, create_request, create_staff, db_rows, days_from_today,
                     decline, get_request, request_body, signed_in, sla_board, utc_today, vetted_engineer)

CATALOG = ["fastapi", "sanic", "django-async", "aiohttp", "starlette", "asyncpg", "aiosqlite", "motor",
           "sqlalchemy-async", "redis-asyncio", "httpx", "aiohttp-client", "event-loop", "gather-wait", "timeouts",
           "cancellation", "task-exceptions", "async-context-managers", "background-tasks", "pytest-asyncio"]
# an engineer of our own in a currency nobody else on the main server uses, so the request has a candidate
CURRENCY = "SGD"


@pytest.fixture(scope="module")
def people(server, client):
    admin = create_staff(server, client, "admin")
    vetter = create_staff(server, client, "vetter")
    eng = vetted_engineer(client, vetter, name="Sg Engineer", timezone="Asia/Singapore",
                          hourly_rate={"amount": 9000, "currency": CURRENCY},
                          confirm=[{"id": "asyncpg", "level": 3}, {"id": "cancellation", "level": 5}])
    owner = signed_in(client, role="client", name="Owner Client")
    other = signed_in(client, role="client", name="Other Client")
    req = create_request(client, owner["token"], budget={"amount": 20000, "currency": CURRENCY},
                         timezone="Asia/Singapore")
    assert [k["engineer_id"] for k in req["candidates"]] == [eng["id"]]
    return {"admin": admin, "vetter": vetter, "engineer": eng, "client": owner, "other": other, "request": req,
            "board": board_key(sla_board(client, admin["token"])),
            "stored": db_rows(server, "SELECT count(*) FROM requests")[0][0]}


def board_key(board):
    """The SLA board without the seconds that pass."""
    return [(i["id"], i["status"], i["invited"], i["accepted"], i["relaxed"]) for i in board["items"]], \
        board["breached"]


def stored(server):
    return db_rows(server, "SELECT count(*) FROM requests")[0][0]


# ---- validation -------------------------------------------------------------------------------

YESTERDAY = days_from_today(-1)
CASES = [
    # (name, changes to a valid body (None removes a field), the fields the 422 must name)
    ("title missing", {"title": None}, ["title"]),
    ("title empty", {"title": ""}, ["title"]),
    ("title 121 chars", {"title": "t" * 121}, ["title"]),
    ("title not a string", {"title": 7}, ["title"]),
    ("description missing", {"description": None}, ["description"]),
    ("description empty", {"description": ""}, ["description"]),
    ("description 10001 chars", {"description": "d" * 10001}, ["description"]),
    ("frameworks not a framework", {"frameworks": ["asyncpg"]}, ["frameworks[0]"]),
    ("frameworks unknown", {"frameworks": ["fastapi", "flask"]}, ["frameworks[1]"]),
    ("frameworks duplicate", {"frameworks": ["sanic", "sanic"]}, ["frameworks[1]"]),
    ("frameworks 6 items", {"frameworks": CATALOG[:5] + ["fastapi"]}, ["frameworks"]),
    ("frameworks not an array", {"frameworks": "fastapi"}, ["frameworks"]),
    ("frameworks item not a string", {"frameworks": [3]}, ["frameworks[0]"]),
    ("must_have missing", {"must_have": None}, ["must_have"]),
    ("must_have empty", {"must_have": []}, ["must_have"]),
    ("must_have 11 items", {"must_have": CATALOG[5:16], "nice_to_have": []}, ["must_have"]),
    ("must_have unknown skill", {"must_have": ["asyncpg", "asyncio-magic"]}, ["must_have[1]"]),
    ("must_have duplicate", {"must_have": ["asyncpg", "timeouts", "asyncpg"]}, ["must_have[2]"]),
    ("nice_to_have already a must-have", {"nice_to_have": ["httpx", "asyncpg"]}, ["nice_to_have[1]"]),
    ("nice_to_have unknown skill", {"nice_to_have": ["curio"]}, ["nice_to_have[0]"]),
    ("nice_to_have 11 items", {"nice_to_have": CATALOG[:5] + CATALOG[16:20] + ["httpx", "motor"]},
     ["nice_to_have"]),
    ("seniority junior", {"seniority": "junior"}, ["seniority"]),
    ("seniority missing", {"seniority": None}, ["seniority"]),
    ("engagement daily", {"engagement": "daily"}, ["engagement"]),
    ("engagement missing", {"engagement": None}, ["engagement"]),
    ("budget missing", {"budget": None}, ["budget"]),
    ("budget not an object", {"budget": 20000}, ["budget"]),
    ("budget amount 0", {"budget": {"amount": 0, "currency": "USD"}}, ["budget.amount"]),
    ("budget amount 100000001", {"budget": {"amount": 100000001, "currency": "USD"}}, ["budget.amount"]),
    ("budget amount a string", {"budget": {"amount": "20000", "currency": "USD"}}, ["budget.amount"]),
    ("budget amount fractional", {"budget": {"amount": 200.5, "currency": "USD"}}, ["budget.amount"]),
    ("budget currency JPY", {"budget": {"amount": 20000, "currency": "JPY"}}, ["budget.currency"]),
    ("budget currency missing", {"budget": {"amount": 20000}}, ["budget.currency"]),
    ("budget unknown field", {"budget": {"amount": 20000, "currency": "USD", "per": "hour"}}, ["budget.per"]),
    ("hours_per_week 0", {"hours_per_week": 0}, ["hours_per_week"]),
    ("hours_per_week 61", {"hours_per_week": 61}, ["hours_per_week"]),
    ("hours_per_week a string", {"hours_per_week": "20"}, ["hours_per_week"]),
    ("timezone unknown", {"timezone": "Mars/Olympus_Mons"}, ["timezone"]),
    ("timezone an offset", {"timezone": "+02:00"}, ["timezone"]),
    ("timezone empty", {"timezone": ""}, ["timezone"]),
    ("timezone missing", {"timezone": None}, ["timezone"]),
    ("min_overlap_hours -1", {"min_overlap_hours": -1}, ["min_overlap_hours"]),
    ("min_overlap_hours 13", {"min_overlap_hours": 13}, ["min_overlap_hours"]),
    ("start_date not a real day", {"start_date": f"{utc_today().year + 1}-02-30"}, ["start_date"]),
    ("start_date another format", {"start_date": "01/12/2030"}, ["start_date"]),
    ("start_date with a time", {"start_date": days_from_today(3) + "T09:00:00Z"}, ["start_date"]),
    ("start_date yesterday", {"start_date": YESTERDAY}, ["start_date"]),
    ("start_date missing", {"start_date": None}, ["start_date"]),
    ("estimated_weeks 0", {"estimated_weeks": 0}, ["estimated_weeks"]),
    ("estimated_weeks 105", {"engagement": "fixed", "estimated_weeks": 105}, ["estimated_weeks"]),
    ("fixed without estimated_weeks", {"engagement": "fixed"}, ["estimated_weeks"]),
    ("unknown field", {"priority": "high"}, ["priority"]),
    ("every problem at once", {"title": "", "must_have": ["asyncpg", "nope"], "nice_to_have": ["asyncpg"],
                               "frameworks": ["httpx"], "budget": {"amount": -5, "currency": "USD"},
                               "timezone": "Nowhere/Land", "start_date": YESTERDAY, "engagement": "fixed"},
     ["title", "must_have[1]", "nice_to_have[0]", "frameworks[0]", "budget.amount", "timezone", "start_date",
      "estimated_weeks"]),
]


@pytest.mark.parametrize("name,changes,fields", CASES, ids=[c[0] for c in CASES])
def test_bad_fields_are_422_naming_each_and_store_nothing(server, client, people, name, changes, fields):
    before = stored(server)
    r = client.post(REQUESTS, json=request_body(**changes), headers=bearer(people["client"]["token"]))
    p = assert_problem(r, 422, "validation", fields)
    assert all(e["message"] for e in p["errors"])
    assert stored(server) == before


def test_boundaries_are_accepted(client, people):
    tok = people["client"]["token"]
    ok = create_request(client, tok, title="t" * 120, start_date=utc_today().isoformat(), hours_per_week=60,
                        min_overlap_hours=12, must_have=CATALOG[5:15],
                        nice_to_have=CATALOG[15:20] + ["asyncmock", "concurrency-tests", "rate-limiting",
                                                       "backpressure", "memory-leaks"],
                        frameworks=CATALOG[:5], budget={"amount": 100000000, "currency": "NZD"},
                        engagement="fixed", estimated_weeks=104)
    assert (ok["estimated_weeks"], ok["frameworks"], ok["must_have"]) == (104, CATALOG[:5], CATALOG[5:15])
    low = create_request(client, tok, budget={"amount": 1, "currency": "USD"}, hours_per_week=1,
                         min_overlap_hours=0, frameworks=None, nice_to_have=None, must_have=["timeouts"])
    assert (low["frameworks"], low["nice_to_have"], low["candidates"]) == ([], [], [])
    assert "estimated_weeks" not in low  # hourly, none given


def test_a_body_that_is_not_json_or_too_large(client, people):
    h = bearer(people["client"]["token"])
    assert_problem(client.post(REQUESTS, content=b'{"title": ', headers={**h, "Content-Type": "application/json"}),
                   400, "malformed-json")
    assert_problem(client.post(REQUESTS, content=b"[]", headers={**h, "Content-Type": "application/json"}),
                   400, "malformed-json")
    assert_problem(client.post(REQUESTS, content=b"title=x", headers={**h, "Content-Type": "text/plain"}),
                   415, "unsupported-media-type")
    assert_problem(client.post(REQUESTS, json=request_body(description="d" * 70000), headers=h),
                   413, "body-too-large")


def test_a_cookie_session_needs_the_csrf_token(client, people):
    tok = people["client"]["token"]
    assert_problem(client.post(REQUESTS, json=request_body(), headers=cookie(tok)), 403, "csrf")
    csrf = client.get("/api/v1/me", headers=cookie(tok)).json()["csrf_token"]
    r = client.post(REQUESTS, json=request_body(), headers={**cookie(tok), "X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text


def test_decline_and_accept_bodies_are_checked(client, people):
    eng, cid = people["engineer"], people["request"]["candidates"][0]["id"]
    h = bearer(eng["token"])
    url = f"/api/v1/candidates/{cid}"
    assert_problem(client.post(f"{url}/decline", json={"reason": ""}, headers=h), 422, "validation", ["reason"])
    assert_problem(client.post(f"{url}/decline", json={"reason": "r" * 501}, headers=h), 422, "validation",
                   ["reason"])
    assert_problem(client.post(f"{url}/decline", json={"reason": 5, "why": "x"}, headers=h), 422, "validation",
                   ["reason", "why"])
    assert_problem(client.post(f"{url}/decline", content=b"busy", headers={**h, "Content-Type": "text/plain"}),
                   415, "unsupported-media-type")
    assert_problem(client.post(f"{url}/accept", json={"now": True}, headers=h), 422, "validation", ["now"])
    assert_problem(client.post(f"{url}/accept", content=b"yes", headers={**h, "Content-Type": "text/plain"}),
                   415, "unsupported-media-type")
    assert_problem(client.post(f"{url}/accept", content=b"{", headers={**h, "Content-Type": "application/json"}),
                   400, "malformed-json")
    assert_problem(client.post(f"{url}/accept", content=b"x" * 1025, headers={**h, "Content-Type": "text/plain"}),
                   413, "body-too-large")
    # none of that moved the invitation
    k = get_request(client, people["client"]["token"], people["request"]["id"])["candidates"][0]
    assert (k["status"], k["responded_at"]) == ("invited", None)


# ---- who may see what ---------------------------------------------------------------------------

def test_a_request_is_its_clients_and_any_admins(client, people):
    req = people["request"]
    mine = get_request(client, people["client"]["token"], req["id"])
    assert mine["id"] == req["id"] and mine["candidates"][0]["id"] == req["candidates"][0]["id"]
    theirs = get_request(client, people["admin"]["token"], req["id"])
    assert theirs == {**mine, "sla_seconds_left": theirs["sla_seconds_left"]}
    assert_problem(client.get(f"{REQUESTS}/{req['id']}", headers=bearer(people["other"]["token"])), 404, "not-found")
    assert_problem(client.get(f"{REQUESTS}/req_00000000000000000000", headers=bearer(people["admin"]["token"])),
                   404, "not-found")
    for op in ("accept", "decline"):
        assert_problem(client.post(f"/api/v1/candidates/cnd_00000000000000000000/{op}",
                                   headers=bearer(people["engineer"]["token"])), 404, "not-found")


ROLES = ("client", "engineer", "vetter", "admin")
ENDPOINTS = [
    ("POST", "/api/v1/requests", "request", {"client"}),
    ("GET", "/api/v1/requests", None, {"client", "admin"}),
    ("GET", "/api/v1/requests/{request}", None, {"client", "admin"}),
    ("POST", "/api/v1/requests/{request}/cancel", None, {"client", "admin"}),
    ("GET", "/api/v1/me/invitations", None, {"engineer"}),
    ("POST", "/api/v1/candidates/{candidate}/accept", None, {"engineer"}),
    ("POST", "/api/v1/candidates/{candidate}/decline", "decline", {"engineer"}),
    ("GET", "/api/v1/admin/sla", None, {"admin"}),
]
DENIED = [(m, p, b, who, 401 if who == "anonymous" else 403)
          for m, p, b, allowed in ENDPOINTS for who in ("anonymous",) + ROLES if who not in allowed]


def _template(p):
    return p.replace("{request}", "{id}").replace("{candidate}", "{id}")


def test_the_role_table_covers_every_matching_operation(contract):
    ops = {(m, p): op for m, p, op in contract.operations() if "matching" in op.get("tags", [])}
    assert set(ops) == {(m, _template(p)) for m, p, _, _ in ENDPOINTS}
    for m, p, _, allowed in ENDPOINTS:
        assert ops[(m, _template(p))]["x-roles"] == ",".join(r for r in ROLES if r in allowed), (m, p)


@pytest.mark.parametrize("method,path,body,who,status", DENIED, ids=[f"{m} {p} as {w}" for m, p, _, w, _ in DENIED])
def test_who_may_not_call(client, people, method, path, body, who, status):
    path = path.replace("{request}", people["request"]["id"]).replace(
        "{candidate}", people["request"]["candidates"][0]["id"])
    headers = {} if who == "anonymous" else bearer(people[who]["token"])
    js = {"request": request_body(), "decline": {"reason": "no"}}.get(body)
    r = client.request(method, path, json=js, headers=headers)
    assert_problem(r, status, "unauthorized" if status == 401 else "forbidden")


def test_refused_calls_changed_nothing(server, client, people):
    """Runs after the 422s and the role table: the board and the invitation
    are as they were, and no request was stored by any refused call."""
    board = sla_board(client, people["admin"]["token"])
    assert [i["sla_deadline"] for i in board["items"]] == sorted(i["sla_deadline"] for i in board["items"])
    now = board_key(board)
    extra = db_rows(server, "SELECT id FROM requests WHERE client_id = ? AND id != ?", people["client"]["user"]["id"],
                    people["request"]["id"])
    # only the three accepted on purpose above (boundaries x2, csrf x1) are new, and they are ours
    assert len(extra) == 3
    before_ids = {i[0] for i in people["board"][0]}
    assert [i for i in now[0] if i[0] in before_ids] == people["board"][0]
    assert {i[0] for i in now[0]} - before_ids == {e[0] for e in extra}
    k = get_request(client, people["client"]["token"], people["request"]["id"])["candidates"][0]
    assert (k["status"], k["responded_at"]) == ("invited", None)
    # the engineer can still answer it: the refused calls did not
    d = decline(client, people["engineer"]["token"], k["id"], reason="Not this quarter.")
    assert (d["status"], d["replacement"]) == ("declined", None)  # nobody else is paid in SGD
