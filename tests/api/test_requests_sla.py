"""The clock-driven side of matching, each on a demo population and a server
of its own (the clock is process wide): a silent candidate expires after
24 h and exactly one replacement is invited (also when several expire in
the same second); the SLA's half-time widening and its deadline (breach,
admin notification, metrics, a late match); a restart in the middle of the
SLA window, after which each job still runs exactly once; a catch-up past
both SLA times that must not lose the half-time widening; and a widening
that stops at the first step that finds someone."""
import json
import time

from opxtest import (HOUR, INVITE_TTL_S, SLA_HALF_S, SLA_S, accept, advance_clock, create_request, create_staff,
                     db_rows, decline, demo_login, demo_server, engineer_email, get_request, invitations, metric,
                     parse_time, seconds_between, signed_in, sla_board, vetted_engineer, wait_for)


def _people(c, admin, ks):
    return [demo_login(c, engineer_email(c, admin["token"], k["engineer_id"])) for k in ks]


def _transitions(srv, rid):
    return [json.loads(d) for (d,) in db_rows(srv, "SELECT detail FROM audit_log WHERE action = 'request.transition'"
                                                   " AND entity_id = ? ORDER BY id", rid)]


def _jobs(srv, ref):
    return {k: (done is not None, attempts) for k, done, attempts in
            db_rows(srv, "SELECT kind, done_at, attempts FROM jobs WHERE ref = ?", ref)}


def _until(c, token, rid, pred, what):
    """The request once pred(request) holds (jobs run just after a clock move)."""
    return wait_for(lambda: (lambda g: g if pred(g) else None)(get_request(c, token, rid)), what=what)


def _through_the_sla(c, token, rid):
    """Moves the clock past half-time, then past the deadline, one at a time,
    waiting for each job: 8 h 30 s later, returns the request."""
    advance_clock(c, SLA_HALF_S + 30)
    _until(c, token, rid, lambda g: g["relaxed"], "the half-time widening")
    advance_clock(c, SLA_S - SLA_HALF_S)
    return _until(c, token, rid, lambda g: g["status"] == "breached", "the deadline")


def test_a_silent_candidate_expires_and_one_replacement_is_invited(spawn, tmp_path_factory):
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    tok = client["token"]
    r = create_request(c, tok)  # two accept, two decline an hour later, one stays silent
    m = create_request(c, tok, title="Matched at once")  # the same five; three accept
    ks = r["candidates"]
    assert [k["engineer_id"] for k in m["candidates"]] == [k["engineer_id"] for k in ks]
    eng = _people(c, admin, ks)
    for e, k in zip(eng[:3], m["candidates"][:3]):
        accept(c, e["token"], k["id"])
    for e, k in zip(eng[:2], ks[:2]):
        accept(c, e["token"], k["id"])
    advance_clock(c, HOUR)
    for e, k in zip(eng[2:4], ks[2:4]):
        assert decline(c, e["token"], k["id"])["replacement"] is not None  # invited an hour after the rest

    _through_the_sla(c, tok, r["id"])  # +5 at half-time; then breached
    advance_clock(c, INVITE_TTL_S - 60 - (HOUR + SLA_S + 30))  # 24 h less a minute after the first five
    before = get_request(c, tok, r["id"])
    assert [k["status"] for k in before["candidates"]] == ["accepted"] * 2 + ["declined"] * 2 + ["invited"] * 8
    assert [i["id"] for i in invitations(c, eng[4]["token"]) if i["request"]["id"] == r["id"]] == [ks[4]["id"]]

    now = advance_clock(c, 61)["now"]  # 24 h and a second: only the silent one is due
    p = accept(c, eng[4]["token"], ks[4]["id"], expect=409)  # too late, whether or not its job ran yet
    assert (p["type"], p["state"]) == ("urn:opx:problem:wrong-state", "expired")
    got = _until(c, tok, r["id"], lambda g: len(g["candidates"]) > 12, "the replacement of the silent one")
    assert [k["status"] for k in got["candidates"]] == \
        ["accepted"] * 2 + ["declined"] * 2 + ["expired"] + ["invited"] * 8
    new = got["candidates"][12]
    assert new["rank"] == 13 and new["engineer_id"] not in {k["engineer_id"] for k in before["candidates"]}
    assert 0 <= seconds_between(now, new["invited_at"]) < 60
    assert seconds_between(new["invited_at"], new["expires_at"]) == INVITE_TTL_S
    assert decline(c, eng[4]["token"], ks[4]["id"], expect=409)["state"] == "expired"
    assert all(i["request"]["id"] != r["id"] for i in invitations(c, eng[4]["token"]))
    time.sleep(1.2)  # a job tick later: still exactly one replacement for the one expiry
    assert [k["id"] for k in get_request(c, tok, r["id"])["candidates"]] == [k["id"] for k in got["candidates"]]
    assert _jobs(srv, ks[4]["id"]) == {"invite.expire": (True, 1)}
    for k in ks[:4]:  # answered in time: the expiry was closed with the answer, never claimed
        assert _jobs(srv, k["id"]) == {"invite.expire": (True, 0)}
    for k in got["candidates"][5:12]:  # invited an hour later, or at half-time: not due yet
        assert _jobs(srv, k["id"]) == {"invite.expire": (False, 0)}

    # the matched request's silent two expire as well, and (commit c7fca59) nobody new is invited for it
    mm = _until(c, tok, m["id"], lambda g: {k["status"] for k in g["candidates"][3:]} == {"expired"},
                "the matched request's expiries")
    assert [k["status"] for k in mm["candidates"]] == ["accepted"] * 3 + ["expired"] * 2
    assert (mm["status"], mm["relaxed"], mm["breached_at"]) == ("matched", [], None)


def test_invitations_that_expire_together_each_get_a_replacement(spawn, tmp_path_factory):
    """A shortlist is invited in one go, so its silent candidates expire in
    the same second: each expiry still invites its own replacement."""
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    tok = demo_login(c, "client@demo.opx")["token"]
    r = create_request(c, tok)
    first = {k["engineer_id"] for k in r["candidates"]}
    widened = _through_the_sla(c, tok, r["id"])
    assert len(widened["candidates"]) == 10
    advance_clock(c, INVITE_TTL_S - SLA_S)  # all five first invitations are due at once
    _until(c, tok, r["id"], lambda g: {k["status"] for k in g["candidates"][:5]} == {"expired"}, "the expiries")
    time.sleep(1.2)  # a job tick: every expiry job has run
    for k in r["candidates"]:
        assert _jobs(srv, k["id"]) == {"invite.expire": (True, 1)}
    got = get_request(c, tok, r["id"])
    new = got["candidates"][10:]
    assert not {k["engineer_id"] for k in new} & (first | {k["engineer_id"] for k in widened["candidates"]})
    assert len(new) == 5, (f"5 invitations expired together but {len(new)} replacement(s) were invited "
                           f"(the notes: each expiry invites a replacement)")


def test_half_time_widens_the_deadline_breaches_and_a_late_match_still_counts(spawn, tmp_path_factory):
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    late = create_request(c, client["token"], title="Breaches its SLA", nice_to_have=["httpx", "timeouts"])
    quick = create_request(c, client["token"], title="Matched in time", nice_to_have=["httpx", "timeouts"])
    ks = late["candidates"]
    assert [k["engineer_id"] for k in quick["candidates"]] == [k["engineer_id"] for k in ks]  # the same spec
    eng = _people(c, admin, ks)
    for e, k in zip(eng[:3], quick["candidates"][:3]):
        accept(c, e["token"], k["id"])
    accept(c, eng[0]["token"], ks[0]["id"])
    assert metric(c, "opx_sla_hits_total") == 1 and metric(c, "opx_time_to_match_seconds_count") == 1

    # half-time: 1 acceptance of 3, so the search widens (nice-to-haves first) and 5 more are invited
    advance_clock(c, SLA_HALF_S + 30)
    got = _until(c, client["token"], late["id"], lambda g: g["relaxed"], "the half-time widening")
    assert got["relaxed"][0] == "nice_to_have" and got["status"] == "matching"
    assert len(got["candidates"]) == 10
    assert [(k["id"], k["status"], k["score"]) for k in got["candidates"][:5]] == \
        [(k["id"], "accepted" if i == 0 else "invited", k["score"]) for i, k in enumerate(ks)]
    new = got["candidates"][5:]
    assert [k["rank"] for k in new] == [6, 7, 8, 9, 10] and {k["status"] for k in new} == {"invited"}
    assert not {k["engineer_id"] for k in new} & {k["engineer_id"] for k in ks}
    for k in new:
        nice = k["explain"]["nice_to_have"]
        assert (nice["dropped"], nice["points"], nice["matched"], nice["missing"]) == (True, 10.0, [], [])
        assert seconds_between(got["created_at"], k["invited_at"]) >= SLA_HALF_S
    assert [k["score"] for k in new] == sorted((k["score"] for k in new), reverse=True)
    q = get_request(c, client["token"], quick["id"])
    assert (q["status"], q["relaxed"], len(q["candidates"])) == ("matched", [], 5)
    board = sla_board(c, admin["token"])
    row = [i for i in board["items"] if i["id"] == late["id"]]
    assert [(i["status"], i["invited"], i["accepted"], i["relaxed"]) for i in row] == \
        [("matching", 10, 1, got["relaxed"])]
    assert SLA_HALF_S - 120 < row[0]["seconds_left"] < SLA_HALF_S
    assert board["breached"] == 0 and quick["id"] not in {i["id"] for i in board["items"]}
    widened = db_rows(srv, "SELECT entity_id FROM audit_log WHERE action = 'request.widened'")
    assert widened == [(late["id"],)]

    # the deadline: breached (and still matching), the client and every admin told
    advance_clock(c, SLA_S - SLA_HALF_S)
    got = _until(c, client["token"], late["id"], lambda g: g["status"] == "breached", "the SLA deadline")
    assert got["matched_at"] is None and got["sla_seconds_left"] == 0
    assert 0 <= seconds_between(got["sla_deadline"], got["breached_at"]) < 300
    board = sla_board(c, admin["token"])
    assert board["breached"] == 1
    assert [(i["id"], i["status"], i["seconds_left"], i["accepted"]) for i in board["items"]] == \
        [(late["id"], "breached", 0, 1)]
    admins = [u for (u,) in db_rows(srv, "SELECT id FROM users WHERE role = 'admin'")]
    notes = db_rows(srv, "SELECT user_id, payload FROM notifications WHERE kind = 'admin.sla_breach'")
    assert sorted(u for u, _ in notes) == sorted(admins) and admin["id"] in admins
    assert all(json.loads(p)["request_id"] == late["id"] for _, p in notes)
    assert db_rows(srv, "SELECT user_id FROM notifications WHERE kind = 'request.sla_breached'") == [(client["id"],)]
    assert metric(c, "opx_sla_breaches_total") == 1

    # matching goes on: two more acceptances make it matched, outside the SLA
    accept(c, eng[1]["token"], ks[1]["id"])
    a = accept(c, eng[2]["token"], ks[2]["id"])
    assert a["request"] == {"id": late["id"], "status": "matched", "accepted": 3}
    got = get_request(c, client["token"], late["id"])
    assert got["status"] == "matched" and got["breached_at"] is not None
    assert seconds_between(got["breached_at"], got["matched_at"]) >= 0
    assert _transitions(srv, late["id"]) == [{"from": "matching", "to": "breached"},
                                             {"from": "breached", "to": "matched"}]
    assert sla_board(c, admin["token"]) == {"items": [], "breached": 0}
    assert metric(c, "opx_time_to_match_seconds_count") == 2
    assert metric(c, "opx_sla_hits_total") == 1 and metric(c, "opx_sla_breaches_total") == 1
    assert _jobs(srv, late["id"]) == {"sla.half": (True, 1), "sla.deadline": (True, 1)}


def test_a_restart_inside_the_sla_window_loses_no_job_and_repeats_none(spawn, tmp_path_factory):
    first = demo_server(spawn, tmp_path_factory)
    c = first.client()
    client = demo_login(c, "client@demo.opx")
    r = create_request(c, client["token"])
    assert _jobs(first, r["id"]) == {"sla.half": (False, 0), "sla.deadline": (False, 0)}
    assert first.stop() == []  # SIGTERM: drained, exit status 0, a clean log

    second = demo_server(spawn, tmp_path_factory, workdir=first.dir)
    c = second.client()
    back = get_request(c, client["token"], r["id"])  # the session and the request survived
    assert back == {**r, "sla_seconds_left": back["sla_seconds_left"]}
    # the test clock starts again from the real time: move it past the deadline in one step
    now = advance_clock(c, SLA_S + 60)["now"]
    assert seconds_between(r["sla_deadline"], now) >= 60
    got = _until(c, client["token"], r["id"], lambda g: g["status"] == "breached", "the deadline after the restart")
    assert parse_time(got["breached_at"]) >= parse_time(got["sla_deadline"])
    wait_for(lambda: _jobs(second, r["id"]) == {"sla.half": (True, 1), "sla.deadline": (True, 1)},
             what="both SLA jobs done, each claimed once")
    time.sleep(1.2)  # another job tick, and another clock move: nothing runs twice
    advance_clock(c, 60)
    time.sleep(1.2)
    assert _jobs(second, r["id"]) == {"sla.half": (True, 1), "sla.deadline": (True, 1)}
    assert _transitions(second, r["id"]) == [{"from": "matching", "to": "breached"}]
    assert db_rows(second, "SELECT count(*) FROM notifications WHERE kind = 'admin.sla_breach'")[0][0] == \
        db_rows(second, "SELECT count(*) FROM users WHERE role = 'admin'")[0][0]
    assert metric(c, "opx_sla_breaches_total") == 1
    assert metric(c, "opx_jobs_failed_total") == 0 and metric(c, "opx_jobs_done_total") >= 2
    # (whether the half-time job's widening took effect is test_half_time_widening_survives_a_late_catch_up's)


def test_half_time_widening_survives_a_late_catch_up(spawn, tmp_path_factory):
    """A server that was down (or whose clock jumps) past both SLA times runs
    both jobs at once. The half-time job was due first and the request had
    one acceptance of three then: its widening must not be lost because the
    deadline job committed "breached" a moment earlier."""
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    tok = demo_login(c, "client@demo.opx")["token"]
    r = create_request(c, tok)
    advance_clock(c, SLA_S + 60)
    got = _until(c, tok, r["id"], lambda g: g["status"] == "breached", "the deadline")
    wait_for(lambda: _jobs(srv, r["id"]) == {"sla.half": (True, 1), "sla.deadline": (True, 1)},
             what="both SLA jobs done")
    got = get_request(c, tok, r["id"])
    widened = db_rows(srv, "SELECT count(*) FROM audit_log WHERE action = 'request.widened' AND entity_id = ?",
                      r["id"])[0][0]
    assert (widened, got["relaxed"][:1], len(got["candidates"])) == (1, ["nice_to_have"], 10), \
        (f"the half-time job ran (done, 1 attempt) but widened nothing: relaxed {got['relaxed']}, "
         f"{len(got['candidates'])} candidates, {widened} request.widened audit rows")


def test_half_time_widens_only_until_new_candidates_are_found(spawn):
    """Three engineers on a server of their own: one senior in UTC (the
    shortlist), one mid in UTC, one senior in Auckland (no overlap with UTC).
    Dropping the nice-to-haves finds nobody new; seniority +-1 finds the mid
    one, so the widening stops there: overlap is not relaxed, Auckland is not
    invited."""
    srv = spawn("--login-ip-burst", "1000")
    c = srv.client()
    vetter = create_staff(srv, c, "vetter")
    confirm = [{"id": "asyncpg", "level": 3}, {"id": "cancellation", "level": 5}]
    sen = vetted_engineer(c, vetter, "senior", confirm, name="Senior Utc", timezone="UTC")
    mid = vetted_engineer(c, vetter, "mid", confirm, name="Mid Utc", timezone="UTC")
    far = vetted_engineer(c, vetter, "senior", confirm, name="Senior Auckland", timezone="Pacific/Auckland")
    tok = signed_in(c, role="client")["token"]
    r = create_request(c, tok, timezone="UTC", min_overlap_hours=2)
    assert [k["engineer_id"] for k in r["candidates"]] == [sen["id"]]
    advance_clock(c, SLA_HALF_S + 30)
    got = _until(c, tok, r["id"], lambda g: g["relaxed"], "the half-time widening")
    k = next(k for k in got["candidates"] if k["engineer_id"] == mid["id"])
    assert k["explain"]["seniority"] == {"points": 3.0, "max": 10, "wanted": "senior", "has": "mid"}
    assert (got["relaxed"], [k["engineer_id"] for k in got["candidates"]]) == \
        (["nice_to_have", "seniority"], [sen["id"], mid["id"]]), \
        (f"widened past the step that found someone: relaxed {got['relaxed']}, invited "
         f"{[k['engineer_name'] for k in got['candidates']]} (Auckland is {far['id']})")
