"""Live events (GET /api/v1/events, Server-Sent Events): both parties of a
conversation (every open tab of each) get each message as it is sent, in
order, equal to what the POST answered; a dropped stream resumes with
Last-Event-ID (or ?last_event_id=) and misses nothing, each id once, even
while events keep coming; nobody else ever sees them; invitations, candidate
and request moves and SLA breaches reach whom they concern; heartbeats keep
idle streams alive; the per-account and per-node caps answer 429 / 503 with
Retry-After; a bad resume point is 400 and opens nothing; a reader too slow to
take its events is cut off without hurting anyone else; and on SIGTERM every
stream ends with a retry hint and the server exits 0.

Streams are read on raw sockets (opxtest.EventStream), which decodes the
chunked body and the event-stream format, fails on any line the contract
does not allow and checks each event's data against the document (x-events).
Each test runs on a server of its own unless it opens no stream."""
import datetime
import json
import socket
import threading
import time

import pytest

from opxtest import (CONVERSATIONS, EVENTS, HOUR, INVITE_TTL_S, SLA_S, Comment, Event, Raw, Retry, accept,
                     advance_clock, assert_problem, bearer, conversations, cookie, create_request, decline,
                     demo_login, engineer_email, get_request, metric, open_events, parse_time, post_message,
                     post_raw_message, seeded_workdir, signed_in, stop_checked, talk_pair, wait_for)

HELLO = "retry: 3000\n: connected\n\n"


# ---- helpers ---------------------------------------------------------------------------------------


def demo(spawn, tmp_path_factory, *flags):
    """A server of its own on a demo population."""
    return spawn("--login-ip-burst", "1000", *flags, workdir=seeded_workdir(tmp_path_factory, "events"))


def talk_env(spawn, tmp_path_factory, *flags):
    """A demo server with one conversation: dict(srv, c, admin, client, engineer, cid, pair)."""
    srv = demo(spawn, tmp_path_factory, *flags)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    p = talk_pair(c, admin, client)
    return {"srv": srv, "c": c, "admin": admin, "client": client, "engineer": p["engineer"],
            "cid": p["conversation"]["id"], "pair": p}


def hello(s):
    """The stream's first items: the retry hint and the ': connected' comment."""
    a, b = s.next_item(), s.next_item()
    assert (type(a), a, type(b), b) == (Retry, 3000, Comment, "connected"), (a, b)
    assert s.transcript.startswith(HELLO), s.transcript[:80]


def increasing(events):
    ids = [e.id for e in events]
    assert all(a < b for a, b in zip(ids, ids[1:])), ids
    return ids


def created(cid, messages):
    """The message.created data of each message (as the POST answered it)."""
    return [{"conversation_id": cid, "message": m} for m in messages]


def message_data(events):
    assert [e.event for e in events] == ["message.created"] * len(events), events
    return [e.data for e in events]


def kinds(events):
    return [e.event for e in events]


def no_events(s, quiet=0.3):
    got = s.quiet_events(quiet)
    assert got == [], got


# ---- talking live ------------------------------------------------------------------------------------


def test_both_parties_and_every_tab_get_each_message_in_send_order(spawn, tmp_path_factory):
    t = talk_env(spawn, tmp_path_factory)
    srv, c, cid, cl, en = t["srv"], t["c"], t["cid"], t["client"], t["engineer"]
    bodies = ["Hi! Can you start on Monday?", "Yes.\nMonday works.\r\n\tThanks",
              'quotes " and \\ and </script> & emoji 😀 עברית', "x" * 10000, "y",
              "data: not a field\n\nid: 999\nevent: fake", ": not a comment"]
    with open_events(srv, cl["token"]) as cs, open_events(srv, cl["token"]) as cs2, \
            open_events(srv, en["token"]) as es:
        for s in (cs, cs2, es):
            hello(s)
        sent = [post_message(c, (cl, en)[i % 2]["token"], cid, b) for i, b in enumerate(bodies)]
        want = created(cid, sent)
        got = {}
        for name, s in (("client", cs), ("client tab 2", cs2), ("engineer", es)):
            evs = s.events(len(sent))
            assert message_data(evs) == want, name  # the sender's own stream too
            increasing(evs)
            no_events(s)  # each once, nothing else
            got[name] = evs
            # on the wire: one data line of compact JSON per event
            for e in evs:
                assert f"id: {e.id}\nevent: message.created\ndata: {{\"conversation_id\":\"{cid}\"," \
                       f"\"message\":{{\"id\":\"{e.data['message']['id']}\"," in s.transcript
        # the two tabs of one account see the same ids; the other party's rows have ids of their own
        assert [e.id for e in got["client"]] == [e.id for e in got["client tab 2"]]
        assert not {e.id for e in got["client"]} & {e.id for e in got["engineer"]}
        assert metric(c, "opx_sse_streams") == 3


def test_a_dropped_stream_resumes_with_last_event_id_and_misses_nothing(spawn, tmp_path_factory):
    t = talk_env(spawn, tmp_path_factory)
    srv, c, cid, cl, en = t["srv"], t["c"], t["cid"], t["client"], t["engineer"]
    with open_events(srv, cl["token"]) as s:
        hello(s)
        before = [post_message(c, cl["token"], cid, f"before {i}") for i in range(3)]
        seen = s.events(3)
        assert message_data(seen) == created(cid, before)
    # disconnected: the conversation goes on
    missed = [post_message(c, (en, cl)[i % 2]["token"], cid, f"missed {i}") for i in range(4)]
    last = seen[-1].id
    with open_events(srv, cl["token"], headers={"Last-Event-ID": str(last)}) as s:
        hello(s)
        replayed = s.events(4)
        assert message_data(replayed) == created(cid, missed)  # exactly the missed ones, in order
        assert increasing([seen[-1]] + replayed)
        no_events(s)
        live = post_message(c, en["token"], cid, "live again")
        e = s.event()
        assert (e.data, e.id > replayed[-1].id) == (created(cid, [live])[0], True)
        no_events(s)
    # from the middle of what was missed: the rest, then what came since, each once
    with open_events(srv, cl["token"], headers={"Last-Event-ID": str(replayed[1].id)}) as s:
        got = s.events(3)
        assert got == replayed[2:] + [e]
        no_events(s)
    # the engineer's own ids resume the engineer's stream
    with open_events(srv, en["token"]) as es, open_events(srv, cl["token"]) as s:
        m = post_message(c, cl["token"], cid, "one more")
        mine, newest = es.event(), s.event()
        assert message_data([mine, newest]) == created(cid, [m, m])
    with open_events(srv, en["token"], headers={"Last-Event-ID": str(mine.id - 1)}) as es:
        assert es.events(1) == [mine]
        no_events(es)
    # resuming at the newest id replays nothing, and live events still come
    with open_events(srv, cl["token"], headers={"Last-Event-ID": str(newest.id)}) as s:
        no_events(s, 0.2)
        m2 = post_message(c, en["token"], cid, "after the newest")
        assert message_data(s.events(1)) == created(cid, [m2])


def test_the_query_form_resumes_too_and_the_header_wins(spawn, tmp_path_factory):
    t = talk_env(spawn, tmp_path_factory)
    srv, c, cid, cl, en = t["srv"], t["c"], t["cid"], t["client"], t["engineer"]
    sent = [post_message(c, (cl, en)[i % 2]["token"], cid, f"m{i}") for i in range(5)]
    with open_events(srv, cl["token"], query="last_event_id=0") as s:
        hello(s)
        full = s.events(7)  # conversation.created, candidate.updated, 5 messages
        no_events(s)
    assert message_data(full[2:]) == created(cid, sent)
    replayed = metric(c, "opx_sse_events_replayed_total")
    assert replayed == 7
    with open_events(srv, cl["token"], query=f"last_event_id={full[3].id}") as s:
        assert s.events(3) == full[4:]
        no_events(s)
    assert metric(c, "opx_sse_events_replayed_total") == replayed + 3
    # the header wins over the query: good or bad, the query is not looked at
    for q in (f"last_event_id={full[0].id}", "last_event_id=abc", "last_event_id="):
        with open_events(srv, cl["token"], headers={"Last-Event-ID": str(full[5].id)}, query=q) as s:
            assert s.events(1) == full[6:], q
            no_events(s, 0.2)
    # leading zeros are digits too
    with open_events(srv, cl["token"], headers={"Last-Event-ID": f"{full[5].id:018d}"}) as s:
        assert s.events(1) == full[6:]


def test_last_event_id_0_replays_each_partys_whole_history(spawn, tmp_path_factory):
    t = talk_env(spawn, tmp_path_factory)
    srv, c, cid, cl, en, p = t["srv"], t["c"], t["cid"], t["client"], t["engineer"], t["pair"]
    req, k = p["request"], p["candidate"]
    sent = [post_message(c, cl["token"], cid, "Hello"), post_message(c, en["token"], cid, "Hi")]
    conv = {"conversation_id": cid, "request_id": req["id"], "candidate_id": k["id"], "client_id": cl["id"],
            "engineer_id": en["id"]}
    moved = {"candidate_id": k["id"], "request_id": req["id"], "request_title": req["title"], "status": "accepted",
             "engineer_id": en["id"], "engineer_name": k["engineer_name"], "client_id": cl["id"],
             "conversation_id": cid}
    with open_events(srv, cl["token"], headers={"Last-Event-ID": "0"}) as s:
        hello(s)
        got = s.events(4)
        no_events(s)
    increasing(got)
    assert kinds(got) == ["conversation.created", "candidate.updated", "message.created", "message.created"]
    assert [e.data for e in got] == [conv, moved] + created(cid, sent)

    with open_events(srv, en["token"], headers={"Last-Event-ID": "0"}) as s:
        got = s.events(5)
        no_events(s)
    increasing(got)
    assert kinds(got) == ["invitation.created", "conversation.created", "invitation.updated",
                          "message.created", "message.created"]
    assert got[0].data == {"candidate_id": k["id"], "request_id": req["id"], "request_title": req["title"],
                           "status": "invited", "expires_at": k["expires_at"]}
    assert [e.data for e in got[1:]] == [conv, moved] + created(cid, sent)

    # staff took no part: nothing to replay
    for who in (t["admin"], demo_login(c, "vetter@demo.opx")):
        with open_events(srv, who["token"], headers={"Last-Event-ID": "0"}) as s:
            hello(s)
            no_events(s)


def test_replayed_and_live_events_interleave_each_once_in_order(spawn, tmp_path_factory):
    """Streams resuming while messages flood in (8 writers): the replay of
    what was missed, then the live events that arrived during it, each id
    exactly once and in order."""
    # large messages make long replays (a wide window for live events to race them); the
    # queue bound is raised so that a replay not yet read is never cut off as slow
    t = talk_env(spawn, tmp_path_factory, "--sse-queue-bytes", str(64 << 20), "--streams-per-user", "64")
    srv, cid, cl, en = t["srv"], t["cid"], t["client"], t["engineer"]
    n, workers, sent, errors = 400, 8, [], []

    def talk(k):
        with srv.client() as c2:
            try:
                for i in range(k, n, workers):
                    sent.append(post_message(c2, (cl, en)[i % 2]["token"], cid, f"{i:04d} " + "w" * 9995))
            except BaseException as ex:  # reported by the main thread
                errors.append(ex)

    resumed = []
    try:
        with open_events(srv, cl["token"]) as live:
            hello(live)
            threads = [threading.Thread(target=talk, args=(k,)) for k in range(workers)]
            for th in threads:
                th.start()
            try:
                seen = []
                while len(seen) < n:
                    seen += live.events(min(20, n - len(seen)), timeout=20)
                    # from well back (a long replay) and from just behind (a short one that
                    # live events overtake) while the flood goes on
                    for k in (max(0, len(seen) - 300), len(seen) - 2):
                        resumed.append((k, open_events(srv, cl["token"],
                                                       headers={"Last-Event-ID": str(seen[k].id)})))
                    for _, s in resumed:
                        s.poll()
            finally:
                for th in threads:
                    th.join(60)
            assert not errors, errors[:1]
            increasing(seen)
            assert sorted(e.data["message"]["id"] for e in seen) == sorted(m["id"] for m in sent)
            assert all(e.data == {"conversation_id": cid, "message": e.data["message"]} for e in seen)
            no_events(live, 0.1)
        for k, s in resumed:
            got = s.events(n - k - 1, timeout=5)
            assert [e.id for e in got] == [e.id for e in seen[k + 1:]], k  # no gap, no repeat
            assert got == seen[k + 1:]
        time.sleep(0.2)  # then nothing more on any of them
        for k, s in resumed:
            s.poll()
            assert [i for i in s.items if isinstance(i, Event)] == [], k
    finally:
        for _, s in resumed:
            s.close()


def test_past_500_missed_events_a_reset_follows_the_replay(spawn, tmp_path_factory):
    """A replay carries at most 500 events; then `reset` (id: the live
    position) tells the client to reload, and the stream goes on live."""
    t = talk_env(spawn, tmp_path_factory)
    srv, c, cid, cl, en = t["srv"], t["c"], t["cid"], t["client"], t["engineer"]
    with open_events(srv, cl["token"]) as live:
        hello(live)
        n, workers, errors = 520, 8, []

        def talk(k):
            with srv.client() as c2:
                try:
                    for i in range(k, n, workers):
                        post_message(c2, en["token"], cid, f"flood {i}")
                except BaseException as ex:  # reported by the main thread
                    errors.append(ex)

        threads = [threading.Thread(target=talk, args=(k,)) for k in range(workers)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert not errors, errors[:1]
        flood = live.events(n, timeout=20)  # the client's 520 message events, in commit order
        increasing(flood)
    # the whole history is 2 + 520 events: the replay stops at 500, then the reset
    with open_events(srv, cl["token"], headers={"Last-Event-ID": "0"}) as s:
        got = s.events(501, timeout=10)
        replayed, reset = got[:500], got[500]
        assert kinds(replayed[:2]) == ["conversation.created", "candidate.updated"]
        assert replayed[2:] == flood[:498]  # the oldest 500, oldest first
        assert (reset.event, reset.data) == ("reset", {"reason": "too many missed events"})
        assert reset.id >= flood[-1].id, (reset.id, flood[-1].id)  # the live position: nothing older follows
        no_events(s)
        m = post_message(c, en["token"], cid, "after the reset")
        e = s.event()
        assert (e.data, e.id > reset.id) == (created(cid, [m])[0], True)
    # 500 exactly is still a full replay (maybe more were missed): a reset too; 499 is not
    with open_events(srv, cl["token"], headers={"Last-Event-ID": str(flood[20].id)}) as s:
        got = s.events(501, timeout=10)
        assert got[:500] == flood[21:] + [e] and got[500].event == "reset"
    with open_events(srv, cl["token"], headers={"Last-Event-ID": str(flood[21].id)}) as s:
        assert s.events(499, timeout=10) == flood[22:] + [e]
        no_events(s)
    assert metric(c, "opx_sse_resets_total") == 2


def test_a_stranger_sees_none_of_a_conversations_events(spawn, tmp_path_factory):
    t = talk_env(spawn, tmp_path_factory)
    srv, c, cid, cl, en, p = t["srv"], t["c"], t["cid"], t["client"], t["engineer"], t["pair"]
    on_request = {k["engineer_id"] for k in get_request(c, cl["token"], p["request"]["id"])["candidates"]}
    stranger = next(e for e in (demo_login(c, f"engineer{n}@demo.opx") for n in range(1, 40))
                    if e["id"] not in on_request)
    outsiders = {"other client": signed_in(c, role="client", name="Other Client"), "engineer": stranger,
                 "vetter": demo_login(c, "vetter@demo.opx"), "admin": t["admin"]}
    streams = {name: open_events(srv, o["token"]) for name, o in outsiders.items()}
    try:
        with open_events(srv, cl["token"]) as cs, open_events(srv, en["token"]) as es:
            sent = [post_message(c, (cl, en)[i % 2]["token"], cid, f"private {i}") for i in range(4)]
            # another candidate of the same request moves: the client's news, no outsider's
            k1 = p["request"]["candidates"][1]
            e1 = demo_login(c, engineer_email(c, t["admin"]["token"], k1["engineer_id"]))
            accept(c, e1["token"], k1["id"])
            assert message_data(cs.events(4)) == created(cid, sent)
            assert kinds(cs.events(2)) == ["conversation.created", "candidate.updated"]
            assert message_data(es.events(4)) == created(cid, sent)
            no_events(es)
        for name, s in streams.items():
            hello(s)
            assert s.quiet_events(0.3) == [], name
        # nor in a replay of their own history, and the conversation itself is 404 to them
        for name, o in outsiders.items():
            if name == "admin":
                continue
            with open_events(srv, o["token"], headers={"Last-Event-ID": "0"}) as s:
                assert s.quiet_events(0.3) == [], name
            assert_problem(c.get(f"{CONVERSATIONS}/{cid}/messages", headers=bearer(o["token"])), 404, "not-found")
            assert all(v["id"] != cid for v in conversations(c, o["token"])), name
    finally:
        for s in streams.values():
            s.close()


# ---- invitations, candidates, requests, the SLA --------------------------------------------------


def test_an_invitation_reaches_the_engineer_live(spawn, tmp_path_factory):
    srv = demo(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    first = create_request(c, client["token"])  # the same request again ranks the same engineers
    top = demo_login(c, engineer_email(c, admin["token"], first["candidates"][0]["engineer_id"]))
    with open_events(srv, top["token"]) as es, open_events(srv, client["token"]) as cs:
        hello(es)
        req = create_request(c, client["token"], title="Second payments API")
        k = next((k for k in req["candidates"] if k["engineer_id"] == top["id"]), None)
        assert k is not None, ("the top engineer was not ranked again", req["candidates"])
        e = es.event()
        assert (e.event, e.data) == ("invitation.created",
                                     {"candidate_id": k["id"], "request_id": req["id"],
                                      "request_title": "Second payments API", "status": "invited",
                                      "expires_at": k["expires_at"]})
        no_events(es)
        no_events(cs)  # raising a request moves no state: nothing for the client
    # every engineer ranked got theirs (replayed here), and only theirs
    for k in req["candidates"][1:3]:
        eng = demo_login(c, engineer_email(c, admin["token"], k["engineer_id"]))
        with open_events(srv, eng["token"], headers={"Last-Event-ID": "0"}) as s:
            got = s.quiet_events()
        assert kinds(got) == ["invitation.created", "invitation.created"], got
        assert [e.data["request_id"] for e in got] == [first["id"], req["id"]]
        assert got[1].data["candidate_id"] == k["id"]


def test_accept_and_decline_reach_the_client_and_the_engineer(spawn, tmp_path_factory):
    srv = demo(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    req = create_request(c, client["token"])
    ks = req["candidates"]
    eng = [demo_login(c, engineer_email(c, admin["token"], k["engineer_id"])) for k in ks[:4]]

    def moved(k, e, status, conversation_id):
        return {"candidate_id": k["id"], "request_id": req["id"], "request_title": req["title"], "status": status,
                "engineer_id": e["id"], "engineer_name": k["engineer_name"], "client_id": client["id"],
                "conversation_id": conversation_id}

    with open_events(srv, client["token"]) as cs, open_events(srv, eng[0]["token"]) as e0, \
            open_events(srv, eng[1]["token"]) as e1:
        accept(c, eng[0]["token"], ks[0]["id"])
        conv = [v for v in conversations(c, client["token"]) if v["candidate_id"] == ks[0]["id"]][0]["id"]
        got = cs.events(2)
        assert kinds(got) == ["conversation.created", "candidate.updated"]
        assert got[1].data == moved(ks[0], eng[0], "accepted", conv)
        mine = e0.events(2)
        assert kinds(mine) == ["conversation.created", "invitation.updated"]
        assert [e.data for e in mine] == [got[0].data, got[1].data]
        no_events(e1)

        rep = decline(c, eng[1]["token"], ks[1]["id"], reason="Booked until May.")["replacement"]
        got = cs.events(1)[0]
        assert (got.event, got.data) == ("candidate.updated", moved(ks[1], eng[1], "declined", None))
        mine = e1.events(1)[0]
        assert (mine.event, mine.data) == ("invitation.updated", got.data)
        no_events(e0)
        no_events(cs)

        # the third acceptance moves the request to matched: request.updated, in the same transaction
        accept(c, eng[2]["token"], ks[2]["id"])
        accept(c, eng[3]["token"], ks[3]["id"])
        got = cs.events(5)
        assert kinds(got) == ["conversation.created", "candidate.updated",
                              "conversation.created", "request.updated", "candidate.updated"]
        assert got[3].data == {"request_id": req["id"], "title": req["title"], "from": "matching", "status": "matched"}
        assert [got[1].data["status"], got[4].data["status"]] == ["accepted", "accepted"]
        no_events(cs)
    # the engineer invited in the decliner's place got the invitation
    if rep is not None:
        newcomer = demo_login(c, engineer_email(c, admin["token"], rep["engineer_id"]))
        with open_events(srv, newcomer["token"], headers={"Last-Event-ID": "0"}) as s:
            got = s.quiet_events()
        assert [(e.event, e.data["candidate_id"]) for e in got] == [("invitation.created", rep["id"])]


def test_the_sla_breach_and_expiries_reach_the_client_and_every_admin(spawn, tmp_path_factory):
    srv = demo(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    req = create_request(c, client["token"])
    k0 = req["candidates"][0]
    e0 = demo_login(c, engineer_email(c, admin["token"], k0["engineer_id"]))
    with open_events(srv, client["token"]) as cs, open_events(srv, admin["token"]) as ad, \
            open_events(srv, e0["token"]) as es:
        advance_clock(c, SLA_S + 60)
        got = cs.events(2, timeout=10)
        assert [(e.event, e.data) for e in got] == [
            ("request.updated", {"request_id": req["id"], "title": req["title"], "from": "matching",
                                 "status": "breached"}),
            ("request.sla_breached", {"request_id": req["id"], "accepted": 0})]
        e = ad.event(timeout=10)
        assert (e.event, e.data) == ("admin.sla_breach", {"request_id": req["id"], "accepted": 0})
        no_events(ad)
        no_events(es)
        # the invitations run out: each a candidate.updated to the client, invitation.updated to its engineer
        advance_clock(c, INVITE_TTL_S - SLA_S + HOUR)
        mine = es.event(timeout=10)
        assert (mine.event, mine.data["candidate_id"], mine.data["status"]) == \
               ("invitation.updated", k0["id"], "expired")
        expired = wait_for(lambda: [e for e in cs.quiet_events(0.3)] or None, what="expiries")
        expired += cs.quiet_events(0.5)
        assert {e.event for e in expired} == {"candidate.updated"}, expired
        assert {e.data["candidate_id"] for e in expired if e.data["status"] == "expired"} >= \
               {k["id"] for k in req["candidates"]}
        assert mine.data in [e.data for e in expired]
        increasing(got + expired)


def test_interview_moves_reach_both_parties(spawn, tmp_path_factory):
    t = talk_env(spawn, tmp_path_factory)
    srv, c, cid, cl, en = t["srv"], t["c"], t["cid"], t["client"], t["engineer"]
    now = parse_time(advance_clock(c, 0)["now"])
    slots = [(now + datetime.timedelta(days=d)).strftime("%Y-%m-%dT%H:00:00Z") for d in (2, 3)]
    url = f"{CONVERSATIONS}/{cid}/interview"
    with open_events(srv, cl["token"]) as cs, open_events(srv, en["token"]) as es:
        steps = []
        r = c.post(url, json={"slots": slots, "video_url": "https://meet.example.test/opx-events"},
                   headers=bearer(cl["token"]))
        assert r.status_code == 201, r.text
        steps.append(("interview.proposed", r.json()))
        r = c.post(f"{url}/accept", json={"slot": slots[1]}, headers=bearer(en["token"]))
        assert r.status_code == 200, r.text
        steps.append(("interview.accepted", r.json()))
        r = c.post(f"{url}/cancel", headers=bearer(cl["token"]))
        assert r.status_code == 200, r.text
        steps.append(("interview.cancelled", r.json()))
        want = [(k, {"interview": iv}) for k, iv in steps]
        for s in (cs, es):
            got = s.events(3)
            assert [(e.event, e.data) for e in got] == want
            increasing(got)
            no_events(s)


# ---- transport: heartbeats, caps, bad input, HTTP versions -----------------------------------------


def test_heartbeats_come_on_every_stream(spawn):
    srv = spawn("--login-ip-burst", "1000", "--sse-heartbeat", "200")
    c = srv.client()
    a, b = signed_in(c), signed_in(c, role="engineer")
    with open_events(srv, a["token"]) as sa, open_events(srv, b["token"]) as sb:
        hello(sa)
        hello(sb)
        t0 = time.monotonic()
        items = sa.drain(quiet=1.0, limit=1.0)
        assert time.monotonic() - t0 < 1.5
        beats = [i for i in items if i == Comment("heartbeat")]
        assert len(beats) >= 3 and len(beats) == len(items), items  # ~5 in a second, nothing else
        assert ": heartbeat\n\n" * 3 in sa.transcript
        assert sb.next_item(1.0) == Comment("heartbeat")


def test_the_per_account_cap_is_429_with_retry_after_until_one_closes(spawn):
    srv = spawn("--login-ip-burst", "1000", "--streams-per-user", "2")
    c = srv.client()
    a, b = signed_in(c), signed_in(c, role="engineer")
    s1, s2 = open_events(srv, a["token"]), open_events(srv, a["token"])
    try:
        third = open_events(srv, a["token"], expect=429)
        third.close()
        p = assert_problem(third, 429, "too-many-streams")
        assert third.headers["retry-after"] == "5", third.headers
        assert p["instance"] == EVENTS
        # the account's other sessions and its cookie count as the same account
        again = demo_free_login(c, a)
        for kw in ({"token": again["token"]}, {"headers": cookie(a["token"])}):
            with open_events(srv, expect=429, **kw) as x:
                assert_problem(x, 429, "too-many-streams")
        # the cap is per account: another one opens
        with open_events(srv, b["token"]) as sb:
            hello(sb)
            assert metric(c, "opx_sse_streams") == 3
        # one closes: a new one opens (once the server has seen it go)
        s1.close()

        s3 = open_when_free(srv, again["token"], 429)
        with s3:
            hello(s3)
            with open_events(srv, a["token"], expect=429):
                pass
    finally:
        s1.close()
        s2.close()


def open_when_free(srv, token, refused):
    """A stream opened as soon as the server has seen another one close
    (until then it answers `refused`)."""
    def attempt():
        s = open_events(srv, token, expect=None)
        if s.status == 200:
            return s
        s.close()
        assert s.status == refused, (s.status, s.body)
        return None
    return wait_for(attempt, timeout=3, what="a stream after another closed")


def demo_free_login(c, person):
    """Another session of person's account."""
    r = c.post("/api/v1/auth/login", json={"email": person["email"], "password": person["password"]})
    assert r.status_code == 200, r.text
    return r.json()


def test_the_node_cap_is_503_overloaded_with_retry_after(spawn):
    srv = spawn("--login-ip-burst", "1000", "--max-streams", "1")
    c = srv.client()
    a, b = signed_in(c), signed_in(c)
    with open_events(srv, a["token"]) as sa:
        hello(sa)
        with open_events(srv, b["token"], expect=503) as x:
            assert_problem(x, 503, "overloaded")
            assert x.headers["retry-after"] == "1"
    # the slot is free once the server has seen the close
    s = open_when_free(srv, b["token"], 503)
    with s:
        hello(s)


BAD_IDS = ["abc", "-1", "1.5", "", " ", "+1", "0x10", "1e3", "1 2", "1,2", "١", "9" * 19, "1" * 40, "%31", "null"]
BAD_QUERY_IDS = ["abc", "-1", "1.5", "", "%2B1", "0x10", "1e3", "9" * 19, "%00"]


def test_a_bad_resume_point_is_400_naming_the_field_and_opens_no_stream(server, client):
    a = signed_in(client)
    h = bearer(a["token"])
    with server.raw() as r:  # one connection: after each 400 it still answers, so no stream was opened
        for v in BAD_IDS:
            raw = Raw.build("GET", EVENTS, [*h.items(), ("Last-Event-ID", "")])
            raw = raw.replace(b"Last-Event-ID: \r\n", b"Last-Event-ID: " + v.encode("utf-8") + b"\r\n")
            r.send(raw)
            resp = r.validate("GET", EVENTS, r.read_response())
            assert resp.status == 400, (v, resp)
            assert_problem(resp, 400, "bad-request", ["Last-Event-ID"])
            assert r.request("GET", "/healthz").status == 200, v
        for v in BAD_QUERY_IDS:
            resp = r.request("GET", f"{EVENTS}?last_event_id={v}", h)
            assert resp.status == 400, (v, resp)
            assert_problem(resp, 400, "bad-request", ["last_event_id"])
            assert r.request("GET", "/healthz").status == 200, v
        # both bad: the header is the one that counts
        resp = r.request("GET", f"{EVENTS}?last_event_id=abc", {**h, "Last-Event-ID": "x"})
        assert_problem(resp, 400, "bad-request", ["Last-Event-ID"])
        # a good query does not rescue a bad header
        resp = r.request("GET", f"{EVENTS}?last_event_id=5", {**h, "Last-Event-ID": "x"})
        assert_problem(resp, 400, "bad-request", ["Last-Event-ID"])
        # the same for HEAD, without a body
        resp = r.request("HEAD", EVENTS, {**h, "Last-Event-ID": "x"})
        assert (resp.status, resp.body) == (400, b"")
    # the bounds are fine
    for v in ("0", "1", "9" * 18, " 7 "):
        with open_events(server, a["token"], headers={"Last-Event-ID": v}) as s:
            hello(s)


def test_signing_in_is_required_and_a_session_cookie_will_do(server, client):
    with open_events(server, expect=401) as s:
        assert_problem(s, 401, "unauthorized")
    with open_events(server, "not-a-token", expect=401) as s:
        assert_problem(s, 401, "unauthorized")
    a = signed_in(client)
    with open_events(server, headers=cookie(a["token"])) as s:  # GET: no CSRF token needed
        hello(s)
        assert s.headers["cache-control"] == "no-store" and s.headers["x-accel-buffering"] == "no"
        assert s.chunked and s.headers.get("content-length") is None
    # the validated httpx client can stream it too: the contract hook does not wait for the end
    with client.stream("GET", EVENTS, headers=bearer(a["token"])) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
        first = next(r.iter_raw())
        assert HELLO.encode().startswith(first) or first.startswith(HELLO.encode()), first
    # a signed-out session is refused
    r = client.post("/api/v1/auth/logout", headers=bearer(a["token"]))
    assert r.status_code in (200, 204), r.text
    with open_events(server, a["token"], expect=401) as s:
        assert_problem(s, 401, "unauthorized")


def test_head_answers_the_gets_headers_without_a_body(server, client):
    a = signed_in(client)
    with server.raw() as r:
        resp = r.request("HEAD", EVENTS, bearer(a["token"]), validate=False)
        assert (resp.status, resp.body) == (200, b"")
        assert resp.headers["content-type"] == "text/event-stream; charset=utf-8"
        # RFC 9110 8.6: no Content-Length in a HEAD answer unless a GET would send that many bytes
        assert resp.headers.get("content-length") is None, resp.headers
        r.validate("HEAD", EVENTS, resp)  # Cache-Control: no-store and X-Accel-Buffering: no are required


def test_a_query_resume_point_with_spaces_is_400(server, client):
    a = signed_in(client)
    for v in ("+1", "%201", "1%20", "%091"):
        with open_events(server, a["token"], query=f"last_event_id={v}", expect=None) as s:
            assert s.status == 400, v
            assert_problem(s, 400, "bad-request", ["last_event_id"])


# ---- a slow reader; shutdown --------------------------------------------------------------------------


def slow_drops(c):
    """opx_http_streams_dropped_total{reason="slow"}; 0 before the first."""
    try:
        return metric(c, "opx_http_streams_dropped_total", 'reason="slow"')
    except AssertionError:
        return 0


def test_a_slow_reader_is_cut_off_and_everyone_else_goes_on(spawn, tmp_path_factory):
    t = talk_env(spawn, tmp_path_factory, "--sse-queue-bytes", "4096")
    srv, c, cid, cl, en = t["srv"], t["c"], t["cid"], t["client"], t["engineer"]
    assert slow_drops(c) == 0
    slow = open_events(srv, cl["token"], rcvbuf=1024)  # a tiny window, and it never reads
    try:
        with open_events(srv, en["token"]) as es:
            hello(es)
            sent, others = [], []
            for i in range(300):
                # 10000 characters, 40 kB of UTF-8 (sent unescaped: escaped it is past the 64 KiB limit)
                r = post_raw_message(c, en["token"], cid, json.dumps({"body": f"{i:05d}" + "😀" * 9995},
                                                                     ensure_ascii=False).encode())
                assert r.status_code == 201, r.text
                sent.append(r.json())
                others.append(es.event(timeout=10))  # a reader that keeps up gets each at once
                if i % 5 == 4 and slow_drops(c):
                    break
            assert slow_drops(c) == 1, f"not cut off after {len(sent)} messages of 10000 characters"
            # everyone else got everything, in order
            assert message_data(others) == created(cid, sent)
            no_events(es, 0.1)
            assert c.get("/healthz").status_code == 200
                    # the slow one: what it had been sent, then the end (no clean chunked ending: it was cut)
            got = slow.until_eof(timeout=10)
            assert not slow.terminated
            evs = [e for e in got if isinstance(e, Event)]
            assert len(evs) < len(sent)
            assert message_data(evs) == created(cid, sent[:len(evs)])  # a prefix, in order
            # the client may come back and resume where it was cut off
            missed = len(sent) - len(evs)
            with open_events(srv, cl["token"], headers={"Last-Event-ID": str(evs[-1].id if evs else 0)}) as back:
                replayed = back.events(missed + (0 if evs else 2), timeout=10)
                assert message_data(replayed[-missed:]) == created(cid, sent[len(evs):])
                m = post_message(c, en["token"], cid, "still here")
                assert message_data(back.events(1)) == created(cid, [m])
                assert message_data(es.events(1)) == created(cid, [m])
            assert metric(c, "opx_sse_streams") == 1
    finally:
        slow.close()


def test_shutdown_ends_every_stream_with_a_retry_hint_and_exits_0(spawn, tmp_path_factory):
    t = talk_env(spawn, tmp_path_factory)
    srv, c, cid, cl, en = t["srv"], t["c"], t["cid"], t["client"], t["engineer"]
    with open_events(srv, cl["token"]) as s11, open_events(srv, en["token"], version="HTTP/1.0") as s10:
        # HTTP/1.0: no chunked coding, the body runs until the connection closes
        assert s10.headers.get("transfer-encoding") is None and s10.headers["connection"].lower() == "close"
        assert not s10.chunked and s10.version == "HTTP/1.1"
        hello(s11)
        hello(s10)
        m = post_message(c, cl["token"], cid, "before the shutdown")
        assert message_data(s11.events(1)) == created(cid, [m])
        assert message_data(s10.events(1)) == created(cid, [m])
        srv.terminate()  # one signal only: a second one exits at once
        for s in (s11, s10):
            rest = s.until_eof(timeout=8)
            assert rest == [Retry(3000)] and type(rest[0]) is Retry, rest
            assert s.transcript.endswith("retry: 3000\n\n"), s.transcript[-40:]
        assert s11.terminated and s11.raw == b""  # the last chunk, then the end
        assert not s10.terminated
    assert srv.proc.wait(10) == 0
    stop_checked(srv)  # and a clean log
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=1).close()


def test_a_resume_point_past_the_newest_event_goes_on_from_the_newest(spawn, tmp_path_factory):
    """An id this server never sent (made up, or from another database) must not
    silently swallow every later event up to it: the stream resumes from the newest."""
    t = talk_env(spawn, tmp_path_factory)
    srv, c, cid, cl, en = t["srv"], t["c"], t["cid"], t["client"], t["engineer"]
    with open_events(srv, cl["token"], headers={"Last-Event-ID": "999999999"}) as s:
        hello(s)
        no_events(s, 0.2)  # nothing older is replayed
        m = post_message(c, en["token"], cid, "after a made-up id")
        assert message_data(s.events(1)) == created(cid, [m])
