"""Interviews: the client proposes up to three slots (any offset; stored in
UTC, ascending), the engineer accepts one (given in any offset), either
party cancels. Each party gets mail: the engineer the proposal, both the
acceptance with a calendar invitation in their own time zone (METHOD
REQUEST) and the cancellation (METHOD CANCEL, same UID, higher SEQUENCE).
At most one interview is open per conversation (409 interview-state with
state and interview); bad input is 422 naming the field and stores
nothing; the conversation's access rules hold (outsiders 404, wrong roles
403). Each test runs on a demo population of its own; the mails go to an
aiosmtpd sink, or are read from the admin outbox (log transport)."""
import concurrent.futures
import datetime
import threading
import zoneinfo

import pytest

from mailtest import Invite, SmtpSink, mail_detail, outbox, poll, settled, utc, zone_name
from opxtest import (CONVERSATIONS, advance_clock, assert_problem, bearer, demo_login, demo_server,
                     parse_time, seeded_workdir, signed_in, talk_pair)

VIDEO = "https://meet.example.test/opx-interview"
HOUR, DAY = datetime.timedelta(hours=1), datetime.timedelta(days=1)


@pytest.fixture
def sinks():
    """Starts SMTP sinks (SmtpSink(reply)); every one is stopped at teardown."""
    started = []

    def _start(reply="250 OK"):
        s = SmtpSink(reply)
        started.append(s)
        return s

    yield _start
    for s in started:
        s.stop()


@pytest.fixture
def talk(spawn, tmp_path_factory):
    """A demo server (log transport) with one conversation:
    dict(srv, c, admin, client, engineer, cid, pair)."""
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    p = talk_pair(c, admin, client)
    return {"srv": srv, "c": c, "admin": admin, "client": client, "engineer": p["engineer"],
            "cid": p["conversation"]["id"], "pair": p}


# ---- helpers -------------------------------------------------------------------------------------


def url(cid, action=""):
    return f"{CONVERSATIONS}/{cid}/interview" + (f"/{action}" if action else "")


def server_now(c):
    return parse_time(advance_clock(c, 0)["now"])


def z(t):
    """RFC 3339 UTC ("Z")."""
    return utc(t).strftime("%Y-%m-%dT%H:%M:%SZ")


def at(t, offset):
    """RFC 3339 of instant t written in another offset, e.g. at(t, "+05:30")."""
    sign = -1 if offset[0] == "-" else 1
    h, m = offset[1:].split(":")
    tz = datetime.timezone(sign * datetime.timedelta(hours=int(h), minutes=int(m)))
    return t.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S") + offset


def proposal(slots, **over):
    body = {"slots": slots, "video_url": VIDEO}
    body.update(over)
    return {k: v for k, v in body.items() if v is not None}


def propose(c, token, cid, slots=None, expect=201, body=None, **over):
    r = c.post(url(cid), json=proposal(slots, **over) if body is None else body, headers=bearer(token))
    assert r.status_code == expect, r.text
    if expect == 201:
        assert r.headers["location"] == url(cid)
    return r.json() if expect in (200, 201) else r


def accept_slot(c, token, cid, slot, expect=200):
    r = c.post(url(cid, "accept"), json={"slot": slot}, headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json() if expect == 200 else r


def cancel(c, token, cid, expect=200, **kw):
    r = c.post(url(cid, "cancel"), headers={**bearer(token), **kw.pop("headers", {})}, **kw)
    assert r.status_code == expect, r.text
    return r.json() if expect == 200 else r


def get_interview(c, token, cid, expect=200):
    r = c.get(url(cid), headers=bearer(token))
    assert r.status_code == expect, r.text
    return r.json() if expect == 200 else r


def engineer_zone(c, admin, engineer_id):
    r = c.get(f"/api/v1/engineers/{engineer_id}", headers=bearer(admin["token"]))
    assert r.status_code == 200, r.text
    return r.json()["engineer"]["timezone"]


def check_invite(inv, method, zone, start, minutes, uid, client_email, engineer_email, sequence):
    """A calendar part as the contract describes it, for a recipient in zone."""
    assert inv.method == method, inv.text
    assert inv.vtimezones() == [zone], inv.text
    assert zone_name(inv.start.tzinfo) == zone, inv.text
    assert zone_name(inv.end.tzinfo) == zone, inv.text
    assert utc(inv.start) == start, (inv.start, start)
    assert utc(inv.end) - utc(inv.start) == datetime.timedelta(minutes=minutes), inv.text
    assert inv.prop("UID") == uid
    assert inv.sequence == sequence, inv.text
    assert inv.prop("ORGANIZER").lower() == f"mailto:{client_email}".lower()
    assert inv.prop("ATTENDEE").lower() == f"mailto:{engineer_email}".lower()
    assert inv.prop("LOCATION") == VIDEO
    assert inv.prop("STATUS") == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
    assert "\r\n" in inv.text and all(len(ln.encode()) <= 75 for ln in inv.text.split("\r\n")), inv.text


# ---- the walk ------------------------------------------------------------------------------------


def test_the_interview_walk_sends_calendar_invitations_in_each_partys_zone(spawn, tmp_path_factory, sinks):
    sink = sinks()
    srv = spawn("--login-ip-burst", "1000", *sink.server_args(), workdir=seeded_workdir(tmp_path_factory))
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    p = talk_pair(c, admin, client, timezone="Europe/Berlin")
    cid, en = p["conversation"]["id"], p["engineer"]
    ezone = engineer_zone(c, admin, en["id"])
    assert ezone and zoneinfo.ZoneInfo(ezone)

    # three slots in mixed offsets (one with a fraction): stored in UTC, ascending
    base = (server_now(c) + 2 * DAY).replace(minute=0, second=0, microsecond=0)
    slots_in = [at(base + 26 * HOUR, "+05:30"), z(base).replace("Z", ".250Z"), at(base + 3 * HOUR, "-04:00")]
    want = [z(base), z(base + 3 * HOUR), z(base + 26 * HOUR)]
    iv = propose(c, client["token"], cid, slots_in, duration_minutes=45)
    assert iv["id"].startswith("ivw_")
    assert {k: iv[k] for k in ("conversation_id", "status", "slots", "duration_minutes", "video_url", "slot",
                               "cancelled_by")} == \
        {"conversation_id": cid, "status": "proposed", "slots": want, "duration_minutes": 45, "video_url": VIDEO,
         "slot": None, "cancelled_by": None}
    assert iv["created_at"] == iv["updated_at"]
    assert get_interview(c, en["token"], cid) == iv

    # the proposal: a mail to the engineer only, listing the slots, no calendar yet
    [prop] = sink.wait(kind="interview.proposed")
    assert prop.rcpt_tos == [en["email"]] and prop.calendar_part() is None
    assert all(f"[{s}]" in prop.text() for s in want) and ezone in prop.text(), prop.text()

    # the engineer accepts the middle slot, written in yet another offset
    chosen = parse_time(want[1])
    acc = accept_slot(c, en["token"], cid, at(chosen, "+09:00"))
    assert (acc["id"], acc["status"], acc["slot"], acc["slots"], acc["cancelled_by"]) == \
        (iv["id"], "accepted", want[1], want, None)
    for who in (client, en, admin):
        assert get_interview(c, who["token"], cid) == acc, who["email"]

    # each party's invitation: their own zone, the same instant, UID and attendees
    uid = f"{iv['id']}@offline-pixel"
    accepted = sink.wait(2, kind="interview.accepted")
    assert sorted(m.rcpt_tos[0] for m in accepted) == sorted([client["email"], en["email"]]), accepted
    invites = {}
    for m in accepted:
        part = m.calendar_part()
        assert part is not None, m.msg.as_string()[:2000]
        assert part.get_param("method") == "REQUEST"
        assert m.msg.get_content_type() == "multipart/mixed" and m.parts("text/plain")
        zone = "Europe/Berlin" if m.rcpt_tos == [client["email"]] else ezone
        inv = Invite(part.get_content())
        check_invite(inv, "REQUEST", zone, chosen, 45, uid, client["email"], en["email"], sequence=1)
        invites[m.rcpt_tos[0]] = inv
    # what the admin reads is that calendar (the sink has it a moment before the server records the send)
    mine = settled(c, admin["token"], kind="interview.accepted", to=client["email"])
    assert len(mine) == 1 and mine[0]["status"] == "sent", mine
    detail = mail_detail(c, admin["token"], mine[0]["id"])
    check_invite(Invite(detail["calendar"]), "REQUEST", "Europe/Berlin", chosen, 45, uid, client["email"],
                 en["email"], sequence=1)

    # the engineer cancels: both get METHOD:CANCEL with the same UID and a higher SEQUENCE
    cx = cancel(c, en["token"], cid)
    assert (cx["id"], cx["status"], cx["slot"], cx["cancelled_by"]) == (iv["id"], "cancelled", want[1], en["id"])
    assert get_interview(c, client["token"], cid) == cx
    cancelled = sink.wait(2, kind="interview.cancelled")
    assert sorted(m.rcpt_tos[0] for m in cancelled) == sorted([client["email"], en["email"]]), cancelled
    for m in cancelled:
        part = m.calendar_part()
        assert part is not None and part.get_param("method") == "CANCEL", m.msg.as_string()[:2000]
        zone = "Europe/Berlin" if m.rcpt_tos == [client["email"]] else ezone
        inv = Invite(part.get_content())
        check_invite(inv, "CANCEL", zone, chosen, 45, uid, client["email"], en["email"], sequence=2)
        assert inv.sequence > invites[m.rcpt_tos[0]].sequence

    # a new proposal is possible now, and is what GET shows
    again = propose(c, client["token"], cid, [want[2]])
    assert again["id"] != iv["id"] and again["status"] == "proposed" and again["duration_minutes"] == 60
    assert get_interview(c, admin["token"], cid) == again
    sink.wait(2, kind="interview.proposed")
    # every mail went out exactly once
    got = [(m.kind, m.rcpt_tos[0]) for m in sink.all() if m.kind.startswith("interview.")]
    assert sorted(got) == sorted([("interview.proposed", en["email"])] * 2 +
                                 [(k, who) for k in ("interview.accepted", "interview.cancelled")
                                  for who in (client["email"], en["email"])]), got


def test_the_invitation_spans_a_dst_change_in_the_recipients_zone(spawn, tmp_path_factory):
    """A 4-hour interview across Europe/Berlin's next clock change: DTEND is
    4 hours after DTSTART in real time, not on the wall clock."""
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    now = server_now(c)
    t = now.replace(minute=0, second=0, microsecond=0) + DAY
    while t.astimezone(berlin).utcoffset() == (t + HOUR).astimezone(berlin).utcoffset():
        t += HOUR
    change = t + HOUR  # the first instant with the new offset
    if change - now > 150 * DAY:  # bring the change within the 180 days a slot may be ahead
        advance_clock(c, int((change - now - 20 * DAY).total_seconds()))
        now = server_now(c)
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    p = talk_pair(c, admin, client, timezone="Europe/Berlin", start_date=now.date().isoformat())
    cid, en = p["conversation"]["id"], p["engineer"]
    start = change - 2 * HOUR
    iv = propose(c, client["token"], cid, [z(start)], duration_minutes=240)
    accept_slot(c, en["token"], cid, at(start, "+02:00"))
    mails = settled(c, admin["token"], kind="interview.accepted", to=client["email"])
    assert len(mails) == 1 and mails[0]["status"] == "sent", mails
    inv = Invite(mail_detail(c, admin["token"], mails[0]["id"])["calendar"])
    check_invite(inv, "REQUEST", "Europe/Berlin", start, 240, f"{iv['id']}@offline-pixel", client["email"],
                 en["email"], sequence=1)
    jump = start.astimezone(berlin).utcoffset() - (start + 4 * HOUR).astimezone(berlin).utcoffset()
    assert jump != datetime.timedelta(0)  # the setup itself: the offset does change in between
    wall = inv.end.replace(tzinfo=None) - inv.start.replace(tzinfo=None)
    assert wall == 4 * HOUR - jump, (inv.start, inv.end)


# ---- validation --------------------------------------------------------------------------------


def test_a_bad_proposal_is_422_naming_the_field_and_stores_nothing(talk):
    c, cid, cl, en, admin = talk["c"], talk["cid"], talk["client"], talk["engineer"], talk["admin"]
    now = server_now(c)
    good = z(now + DAY)
    nxt = now + 30 * DAY
    year = nxt.year
    cases = [
        ("no slots", proposal([]), ["slots"]),
        ("four slots", proposal([z(now + k * DAY) for k in (1, 2, 3, 4)]), ["slots"]),
        ("slots missing", {"video_url": VIDEO}, ["slots"]),
        ("slots null", proposal(None) | {"slots": None}, ["slots"]),
        ("slots a string", proposal(good), ["slots"]),
        ("a slot a number", proposal([1893456000]), ["slots[0]"]),
        ("no offset", proposal([z(nxt)[:-1]]), ["slots[0]"]),
        ("a date only", proposal([z(nxt)[:10]]), ["slots[0]"]),
        ("words", proposal(["tomorrow at noon"]), ["slots[0]"]),
        ("empty", proposal([""]), ["slots[0]"]),
        ("30 February", proposal([f"{year + 1}-02-30T10:00:00Z"]), ["slots[0]"]),
        ("hour 24", proposal([z(nxt)[:11] + "24:00:00Z"]), ["slots[0]"]),
        ("offset +25:00", proposal([z(nxt)[:-1] + "+25:00"]), ["slots[0]"]),
        ("offset without colon", proposal([z(nxt)[:-1] + "+0100"]), ["slots[0]"]),
        ("in the past", proposal([z(now - HOUR)]), ["slots[0]"]),
        ("now", proposal([z(now)]), ["slots[0]"]),
        ("in 4 minutes", proposal([z(now + datetime.timedelta(minutes=4))]), ["slots[0]"]),
        ("181 days ahead", proposal([z(now + 181 * DAY)]), ["slots[0]"]),
        ("second slot too far", proposal([good, z(now + 200 * DAY)]), ["slots[1]"]),
        ("the same instant twice", proposal([good, at(now + DAY, "+02:00")]), ["slots[1]"]),
        ("third repeats first", proposal([good, z(now + 2 * DAY), good]), ["slots[2]"]),
        ("two bad slots", proposal([z(now - DAY), good, "soon"]), ["slots[0]", "slots[2]"]),
        ("video_url missing", {"slots": [good]}, ["video_url"]),
        ("video_url null", proposal([good], video_url=None) | {"video_url": None}, ["video_url"]),
        ("video_url a number", proposal([good], video_url=5), ["video_url"]),
        ("ftp", proposal([good], video_url="ftp://meet.example.test/x"), ["video_url"]),
        ("no scheme", proposal([good], video_url="meet.example.test/abc"), ["video_url"]),
        ("javascript", proposal([good], video_url="javascript:alert(1)//meet"), ["video_url"]),
        ("no host", proposal([good], video_url="https:///meet/abcdef"), ["video_url"]),
        ("a space", proposal([good], video_url="https://meet example.test/x"), ["video_url"]),
        ("a tab", proposal([good], video_url="https://meet.example.test/a\tb"), ["video_url"]),
        ("a control character", proposal([good], video_url="https://meet.example.test/a\u0001"), ["video_url"]),
        ("11 characters", proposal([good], video_url="http://a.bc"), ["video_url"]),
        ("2001 characters", proposal([good], video_url="https://m.example.test/" + "x" * 1978), ["video_url"]),
        ("duration 14", proposal([good], duration_minutes=14), ["duration_minutes"]),
        ("duration 241", proposal([good], duration_minutes=241), ["duration_minutes"]),
        ("duration 0", proposal([good], duration_minutes=0), ["duration_minutes"]),
        ("duration negative", proposal([good], duration_minutes=-60), ["duration_minutes"]),
        ("duration a string", proposal([good], duration_minutes="60"), ["duration_minutes"]),
        ("duration a fraction", proposal([good], duration_minutes=60.5), ["duration_minutes"]),
        ("duration a boolean", proposal([good], duration_minutes=True), ["duration_minutes"]),
        ("an unknown field", proposal([good], title="Chat"), ["title"]),
        ("slot, not slots", {"slot": good, "slots": [good], "video_url": VIDEO}, ["slot"]),
        ("unknown and wrong", proposal([good], duration_minutes=5, agenda="x"), ["agenda", "duration_minutes"]),
    ]
    assert len("https://m.example.test/" + "x" * 1978) == 2001
    for name, body, fields in cases:
        r = c.post(url(cid), json=body, headers=bearer(cl["token"]))
        assert r.status_code == 422, (name, r.text)
        assert_problem(r, 422, "validation", fields)

    h = {**bearer(cl["token"]), "Content-Type": "application/json"}
    assert_problem(c.post(url(cid), content=b'{"slots": [', headers=h), 400, "malformed-json")
    assert_problem(c.post(url(cid), content=b'{"slots": [], "slots": []}', headers=h), 400, "malformed-json")
    assert_problem(c.post(url(cid), content=b"{}", headers={**h, "Content-Type": "text/plain"}),
                   415, "unsupported-media-type")
    assert_problem(c.post(url(cid), content=b"x" * 8193, headers=h), 413, "body-too-large")

    # nothing was stored, announced or mailed
    for who in (cl, en, admin):
        assert_problem(get_interview(c, who["token"], cid, expect=404), 404, "not-found")
    assert [m for m in outbox(c, admin["token"]) if m["kind"].startswith("interview.")] == []

    # the bounds themselves are fine: 10 minutes and 179 days ahead, 15 and 240 minutes, 12 and 2000 characters
    edge = [z(now + 179 * DAY), z(now + datetime.timedelta(minutes=10)), good]
    iv = propose(c, cl["token"], cid, edge, video_url="http://ab.cd", duration_minutes=15)
    assert iv["slots"] == sorted(edge) and iv["video_url"] == "http://ab.cd" and iv["duration_minutes"] == 15
    cancel(c, cl["token"], cid)
    long_url = "https://m.example.test/" + "x" * 1977
    iv = propose(c, cl["token"], cid, [good], video_url=long_url, duration_minutes=240)
    assert (iv["video_url"], iv["duration_minutes"]) == (long_url, 240)
    assert get_interview(c, en["token"], cid) == iv


def test_accepting_needs_a_proposed_slot_that_has_not_begun(talk):
    c, cid, cl, en = talk["c"], talk["cid"], talk["client"], talk["engineer"]
    now = server_now(c)
    early, mid, late = now + datetime.timedelta(minutes=10), now + DAY, now + 2 * DAY
    iv = propose(c, cl["token"], cid, [z(late), z(early), z(mid)])
    assert iv["slots"] == [z(early), z(mid), z(late)]
    u, h = url(cid, "accept"), bearer(en["token"])
    for name, body, fields in [
        ("not proposed", {"slot": z(now + 3 * DAY)}, ["slot"]),
        ("a second off", {"slot": z(mid + datetime.timedelta(seconds=1))}, ["slot"]),
        ("no offset", {"slot": z(mid)[:-1]}, ["slot"]),
        ("words", {"slot": "the second one"}, ["slot"]),
        ("a number", {"slot": 2}, ["slot"]),
        ("null", {"slot": None}, ["slot"]),
        ("missing", {}, ["slot"]),
        ("an unknown field", {"slot": z(mid), "note": "see you"}, ["note"]),
        ("slots, not slot", {"slots": [z(mid)]}, ["slot", "slots"]),
    ]:
        r = c.post(u, json=body, headers=h)
        assert r.status_code == 422, (name, r.text)
        assert_problem(r, 422, "validation", fields)
    assert get_interview(c, cl["token"], cid) == iv

    # the first slot begins: too late to take it, in any offset; the others are fine
    advance_clock(c, 11 * 60)
    for slot in (z(early), at(early, "+05:30"), at(early, "-08:00")):
        assert_problem(accept_slot(c, en["token"], cid, slot, expect=422), 422, "validation", ["slot"])
    assert get_interview(c, cl["token"], cid) == iv
    acc = accept_slot(c, en["token"], cid, at(mid, "+05:30"))
    assert (acc["status"], acc["slot"]) == ("accepted", z(mid))


# ---- state -----------------------------------------------------------------------------------------


def conflict(r, state, interview):
    p = assert_problem(r, 409, "interview-state")
    assert (p["state"], p["interview"]) == (state, interview), p
    return p


def test_one_open_interview_at_a_time(talk):
    c, cid, cl, en, admin = talk["c"], talk["cid"], talk["client"], talk["engineer"], talk["admin"]
    now = server_now(c)
    s1, s2 = z(now + DAY), z(now + 2 * DAY)

    iv = propose(c, cl["token"], cid, [s1, s2])
    conflict(propose(c, cl["token"], cid, [z(now + 3 * DAY)], expect=409), "proposed", iv)
    acc = accept_slot(c, en["token"], cid, s2)
    conflict(propose(c, cl["token"], cid, [z(now + 3 * DAY)], expect=409), "accepted", acc)
    conflict(accept_slot(c, en["token"], cid, s2, expect=409), "accepted", acc)
    conflict(accept_slot(c, en["token"], cid, s1, expect=409), "accepted", acc)
    assert get_interview(c, cl["token"], cid) == acc

    cx = cancel(c, cl["token"], cid, json={})
    assert (cx["status"], cx["cancelled_by"], cx["slot"]) == ("cancelled", cl["id"], s2)
    for who in (cl, en):
        conflict(cancel(c, who["token"], cid, expect=409), "cancelled", cx)
    conflict(accept_slot(c, en["token"], cid, s1, expect=409), "cancelled", cx)
    assert get_interview(c, en["token"], cid) == cx

    # a new one; cancelled before any slot was chosen, it has no slot and its mails no calendar
    iv2 = propose(c, cl["token"], cid, [s1])
    assert iv2["id"] != iv["id"]
    assert get_interview(c, admin["token"], cid) == iv2
    cx2 = cancel(c, en["token"], cid)
    assert (cx2["id"], cx2["status"], cx2["cancelled_by"], cx2["slot"]) == (iv2["id"], "cancelled", en["id"], None)
    assert get_interview(c, cl["token"], cid) == cx2

    mails = settled(c, admin["token"])
    kinds = sorted((m["kind"], m["to"]) for m in mails if m["kind"].startswith("interview."))
    assert kinds == sorted([("interview.proposed", en["email"])] * 2 +
                           [("interview.accepted", cl["email"]), ("interview.accepted", en["email"])] +
                           [("interview.cancelled", cl["email"]), ("interview.cancelled", en["email"])] * 2)
    cals = {m["id"]: mail_detail(c, admin["token"], m["id"])["calendar"] for m in mails
            if m["kind"] == "interview.cancelled"}
    # newest first: the second cancel's two mails have none, the first's two carry METHOD:CANCEL
    newest = [m["id"] for m in mails if m["kind"] == "interview.cancelled"]
    assert [cals[i] is None for i in newest] == [True, True, False, False], cals
    assert all(Invite(cals[i]).method == "CANCEL" for i in newest[2:])


def test_a_cancel_takes_no_fields(talk):
    c, cid, cl = talk["c"], talk["cid"], talk["client"]
    iv = propose(c, cl["token"], cid, [z(server_now(c) + DAY)])
    for body, fields in [({"reason": "busy"}, ["reason"]), ({"status": "cancelled"}, ["status"])]:
        assert_problem(cancel(c, cl["token"], cid, expect=422, json=body), 422, "validation", fields)
    for raw in (b"[]", b"null", b'{"reason": '):
        assert_problem(cancel(c, cl["token"], cid, expect=400, content=raw,
                              headers={"Content-Type": "application/json"}), 400, "malformed-json")
    assert get_interview(c, cl["token"], cid) == iv
    assert cancel(c, cl["token"], cid)["status"] == "cancelled"  # no body at all


def test_racing_requests_leave_one_open_interview_and_one_outcome(talk):
    """Proposals, acceptances and cancels sent at once: exactly one wins
    each time, the others are 409 with the winner's state."""
    srv, c, cid, cl, en, admin = talk["srv"], talk["c"], talk["cid"], talk["client"], talk["engineer"], talk["admin"]
    now = server_now(c)
    clients = [srv.client() for _ in range(6)]

    def race(calls):
        barrier = threading.Barrier(len(calls))

        def run(i):
            barrier.wait()
            return calls[i](clients[i])
        with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(run, range(len(calls))))

    rs = race([lambda h, k=k: h.post(url(cid), json=proposal([z(now + (k + 1) * DAY)]), headers=bearer(cl["token"]))
               for k in range(6)])
    won = [r for r in rs if r.status_code == 201]
    assert len(won) == 1, [r.status_code for r in rs]
    iv = won[0].json()
    for r in rs:
        if r is not won[0]:
            conflict(r, "proposed", iv)
    assert get_interview(c, cl["token"], cid) == iv

    rs = race([lambda h: h.post(url(cid, "accept"), json={"slot": iv["slots"][0]}, headers=bearer(en["token"]))] * 4)
    won = [r for r in rs if r.status_code == 200]
    assert len(won) == 1, [r.status_code for r in rs]
    acc = won[0].json()
    for r in rs:
        if r is not won[0]:
            conflict(r, "accepted", acc)

    rs = race([lambda h, who=who: h.post(url(cid, "cancel"), headers=bearer(who["token"])) for who in (cl, en) * 2])
    won = [r for r in rs if r.status_code == 200]
    assert len(won) == 1, [r.status_code for r in rs]
    for r in rs:
        if r is not won[0]:
            conflict(r, "cancelled", won[0].json())
    mails = settled(c, admin["token"])
    assert sorted(m["kind"] for m in mails if m["kind"].startswith("interview.")) == \
        ["interview.accepted"] * 2 + ["interview.cancelled"] * 2 + ["interview.proposed"]


# ---- who may do what ------------------------------------------------------------------------------


def test_roles_and_outsiders(talk):
    c, cid, cl, en, admin = talk["c"], talk["cid"], talk["client"], talk["engineer"], talk["admin"]
    now = server_now(c)
    vetter = demo_login(c, "vetter@demo.opx")
    other_client = signed_in(c, role="client", name="Other Client")
    other_engineer = next(e for e in (demo_login(c, f"engineer{n}@demo.opx") for n in (1, 2, 3))
                          if e["id"] != en["id"])
    # a second conversation of the same pair's client, without any interview
    bare = talk_pair(c, admin, cl, title="Another async API")["conversation"]["id"]

    # nothing proposed yet: 404 for everyone who may look
    for who in (cl, en, admin):
        assert_problem(get_interview(c, who["token"], bare, expect=404), 404, "not-found")
    assert_problem(accept_slot(c, en["token"], bare, z(now + DAY), expect=404), 404, "not-found")
    for who in (cl, en):
        assert_problem(cancel(c, who["token"], bare, expect=404), 404, "not-found")

    iv = propose(c, cl["token"], cid, [z(now + DAY), z(now + 2 * DAY)])
    body, slot = proposal([z(now + 3 * DAY)]), {"slot": iv["slots"][0]}

    def post(who, action, json, expect):
        r = c.post(url(cid, action), json=json, headers=bearer(who["token"]))
        assert r.status_code == expect, (who["email"], action, r.text)
        assert_problem(r, expect, "forbidden" if expect == 403 else "not-found")

    # the route's roles: only a client proposes, only an engineer accepts
    for who in (en, admin, vetter, other_engineer):
        post(who, "", body, 403)
    for who in (cl, admin, vetter, other_client):
        post(who, "accept", slot, 403)
    # an admin reads but does not act
    post(admin, "cancel", {}, 403)
    assert get_interview(c, admin["token"], cid) == iv
    # anyone else: the conversation does not exist for them
    post(other_client, "", body, 404)
    post(other_engineer, "accept", slot, 404)
    for who in (vetter, other_client, other_engineer):
        post(who, "cancel", {}, 404)
        assert_problem(get_interview(c, who["token"], cid, expect=404), 404, "not-found")
    # nor does an unknown one, for anybody
    ghost = "cnv_00000000000000000000"
    for who, action, json in [(cl, "", body), (en, "accept", slot), (cl, "cancel", {}), (en, "cancel", {})]:
        r = c.post(url(ghost, action), json=json, headers=bearer(who["token"]))
        assert_problem(r, 404, "not-found")
    for who in (cl, admin):
        assert_problem(get_interview(c, who["token"], ghost, expect=404), 404, "not-found")
    # and no session is 401
    for action, json in [("", body), ("accept", slot), ("cancel", {})]:
        assert_problem(c.post(url(cid, action), json=json), 401, "unauthorized")
    assert_problem(c.get(url(cid)), 401, "unauthorized")

    # none of that changed anything
    for who in (cl, en, admin):
        assert get_interview(c, who["token"], cid) == iv
    mails = poll(lambda: [m for m in outbox(c, admin["token"]) if m["kind"].startswith("interview.")], 5,
                 "the proposal's mail")
    assert [(m["kind"], m["to"]) for m in mails] == [("interview.proposed", en["email"])]


# ---- long values (known bugs) ------------------------------------------------------------------


def test_a_long_video_link_is_the_invitations_location_and_url(talk):
    c, cid, cl, en, admin = talk["c"], talk["cid"], talk["client"], talk["engineer"], talk["admin"]
    link = "https://meet.example.test/" + "v" * 1974
    assert len(link) == 2000
    slot = z(server_now(c) + DAY)
    propose(c, cl["token"], cid, [slot], video_url=link)
    accept_slot(c, en["token"], cid, slot)
    mails = settled(c, admin["token"], kind="interview.accepted")
    assert len(mails) == 2
    for m in mails:
        inv = Invite(mail_detail(c, admin["token"], m["id"])["calendar"])
        assert inv.prop("LOCATION") == link
        assert "URL" in inv.ev and inv.prop("URL") == link, m["to"]


def test_long_non_ascii_titles_and_names_keep_the_invitation_utf8(spawn, tmp_path_factory, sinks):
    sink = sinks()
    srv = spawn("--login-ip-burst", "1000", *sink.server_args(), workdir=seeded_workdir(tmp_path_factory))
    c = srv.client()
    admin = demo_login(c, "admin@demo.opx")
    name, title = "😀" * 100, "€" * 120  # the longest name and title there may be
    client = signed_in(c, role="client", name=name)
    client["id"] = client["user"]["id"]
    p = talk_pair(c, admin, client, title=title)
    cid, en = p["conversation"]["id"], p["engineer"]
    slot = z(server_now(c) + DAY)
    propose(c, client["token"], cid, [slot])
    accept_slot(c, en["token"], cid, slot)
    for m in sink.wait(2, kind="interview.accepted"):
        raw = m.calendar_part().get_payload(decode=True)
        raw.decode("utf-8")  # UnicodeDecodeError for the engineer's
        inv = Invite(raw)
        assert title in inv.prop("SUMMARY"), m.rcpt_tos
    mails = settled(c, admin["token"], kind="interview.accepted")
    for m in mails:
        assert Invite(mail_detail(c, admin["token"], m["id"])["calendar"]).prop("UID") == \
            f"{get_interview(c, client['token'], cid)['id']}@offline-pixel"
