"""Email: every mail is an outbox row sent by a job. The log transport
marks it sent; the SMTP transport hands it to a relay (here an aiosmtpd
sink), retrying a failing relay with backoff up to --email-max-attempts,
then "failed" until an admin retries it; the breaker stops trying a relay
that keeps failing without using the mails' attempts. Messages still
unread after --email-digest-delay become ONE digest mail per conversation
and recipient. Admins read the outbox (newest first, paged by cursor);
nobody else may. Each test runs on a server of its own."""
import json
import re
import time

import httpx
import pytest

from mailtest import OUTBOX, SmtpSink, mail_detail, outbox, outbox_page, poll, settled
from opxtest import (accept, advance_clock, assert_problem, bearer, create_request, demo_login, demo_server,
                     engineer_email, free_port, mark_read, metric, post_message, seeded_workdir, signed_in,
                     talk_pair)

MAIL_FIELDS = {"id", "to", "to_name", "user_id", "kind", "subject", "status", "attempts", "last_error",
               "created_at", "next_attempt_at", "sent_at"}
FROM = "no-reply@offline-pixel.localhost"


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


def demo(spawn, tmp_path_factory, *args):
    """A demo server with extra flags, and a validated client: (srv, c, admin, client)."""
    srv = spawn("--login-ip-burst", "1000", *args, workdir=seeded_workdir(tmp_path_factory))
    c = srv.client()
    return srv, c, demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")


def retry(c, token, mail_id, expect=202, **kw):
    r = c.post(f"{OUTBOX}/{mail_id}/retry", headers=bearer(token), **kw)
    assert r.status_code == expect, r.text
    return r


# ---- the log transport and the admin view -------------------------------------------------------


def test_the_log_transport_sends_and_admins_see_rendered_mails(spawn, tmp_path_factory):
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    p = talk_pair(c, admin, client, title="Outbox walk-through")
    en, req = p["engineer"], p["request"]

    mails = settled(c, admin["token"])
    invitations = [m for m in mails if m["kind"] == "invitation"]
    accepted = [m for m in mails if m["kind"] == "candidate.accepted"]
    assert len(invitations) == len(req["candidates"]) and len(accepted) == 1 and len(mails) == len(invitations) + 1
    for m in mails:
        assert set(m) == MAIL_FIELDS
        assert (m["status"], m["attempts"], m["last_error"], m["next_attempt_at"]) == ("sent", 1, None, None), m
        assert m["sent_at"] >= m["created_at"]
    assert sorted(m["user_id"] for m in invitations) == sorted(k["engineer_id"] for k in req["candidates"])
    assert all(m["subject"] == "You are invited: Outbox walk-through" for m in invitations), invitations
    [a] = accepted
    assert (a["to"], a["to_name"], a["user_id"]) == (client["email"], client["user"]["name"], client["id"])
    assert a["subject"] == f"{en['user']['name']} accepted your invitation: Outbox walk-through"

    d = mail_detail(c, admin["token"], a["id"])
    assert {k: d[k] for k in MAIL_FIELDS} == a and d["calendar"] is None
    assert d["text"].startswith(f"Hello {client['user']['name']},") and p["conversation"]["id"] in d["text"]
    mine = [m for m in invitations if m["user_id"] == en["id"]]
    assert len(mine) == 1 and mail_detail(c, admin["token"], mine[0]["id"])["text"].startswith(
        f"Hello {en['user']['name']},")

    # the log transport wrote one line per mail (the log has its own writer thread: its lines
    # may reach the file a moment after the mails are marked sent)
    deadline = time.monotonic() + 5
    while True:
        logged = {}
        for line in srv.log_text().splitlines():
            try:
                j = json.loads(line)
            except ValueError:
                continue
            if j.get("msg") == "email (log transport)":
                logged[j["mail_id"]] = j
        if sorted(logged) == sorted(m["id"] for m in mails) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert sorted(logged) == sorted(m["id"] for m in mails)
    assert all(logged[m["id"]]["subject"] == m["subject"] and logged[m["id"]]["to"] == m["to"] for m in mails)
    assert metric(c, "opx_email_sent_total", 'kind="invitation"') == len(invitations)
    assert metric(c, "opx_email_sent_total", 'kind="candidate.accepted"') == 1
    assert metric(c, "opx_email_delivered_total") == len(mails)

    # admins only
    vetter = demo_login(c, "vetter@demo.opx")
    for who in (client, en, vetter):
        h = bearer(who["token"])
        assert_problem(c.get(OUTBOX, headers=h), 403, "forbidden")
        assert_problem(c.get(OUTBOX, params={"status": "failed"}, headers=h), 403, "forbidden")
        assert_problem(c.get(f"{OUTBOX}/{a['id']}", headers=h), 403, "forbidden")
        assert_problem(c.post(f"{OUTBOX}/{a['id']}/retry", headers=h), 403, "forbidden")
    assert_problem(c.get(OUTBOX), 401, "unauthorized")
    assert_problem(c.get(f"{OUTBOX}/{a['id']}"), 401, "unauthorized")
    assert_problem(c.post(f"{OUTBOX}/{a['id']}/retry"), 401, "unauthorized")
    # unknown mails, and a sent one cannot be retried
    for ghost in ("mail_00000000000000000000", "nope", p["conversation"]["id"]):
        assert_problem(mail_detail(c, admin["token"], ghost, expect=404), 404, "not-found")
        assert_problem(retry(c, admin["token"], ghost, expect=404), 404, "not-found")
    pr = assert_problem(retry(c, admin["token"], a["id"], expect=409), 409, "mail-state")
    assert pr["state"] == "sent"
    assert_problem(retry(c, admin["token"], a["id"], expect=422, json={"force": True}), 422, "validation", ["force"])
    assert mail_detail(c, admin["token"], a["id"]) == d


# ---- the message digest -------------------------------------------------------------------------


def digests(c, admin):
    return [m for m in outbox(c, admin["token"]) if m["kind"] == "message.digest"]


def test_unread_messages_become_one_digest_and_read_ones_none(spawn, tmp_path_factory):
    srv, c, admin, client = demo(spawn, tmp_path_factory, "--email-digest-delay", "60")
    unread_pair = talk_pair(c, admin, client, title="Digest: left unread")
    read_pair = talk_pair(c, admin, client, title="Digest: read in time")
    a, b = unread_pair["conversation"]["id"], read_pair["conversation"]["id"]
    ea, eb = unread_pair["engineer"], read_pair["engineer"]

    for n in (1, 2, 3):
        post_message(c, ea["token"], a, f"Update {n} on the payments API")
    advance_clock(c, 5)
    post_message(c, eb["token"], b, "A question about the queue")
    last_b = post_message(c, eb["token"], b, "And one about retries")
    # before the delay: nothing
    advance_clock(c, 30)
    mark_read(c, client["token"], b, last_b["id"])
    settled(c, admin["token"])
    assert digests(c, admin) == []

    # past it: one digest for the unread burst, none for what was read
    advance_clock(c, 31)
    [dg] = poll(lambda: digests(c, admin), 10, "the digest")
    assert (dg["to"], dg["user_id"]) == (client["email"], client["id"])
    assert dg["subject"] == f"3 new messages from {ea['user']['name']}"
    text = mail_detail(c, admin["token"], dg["id"])["text"]
    assert "Digest: left unread" in text and "(3 unread)" in text and "Update 3 on the payments API" in text
    assert a in text
    settled(c, admin["token"], kind="message.digest")
    advance_clock(c, 30)  # b's digest job (due 5 s after a's) has run by now
    settled(c, admin["token"])
    assert len(digests(c, admin)) == 1
    # and the burst is not mailed again, however long it stays unread
    advance_clock(c, 3600)
    settled(c, admin["token"])
    [again] = digests(c, admin)
    assert again["id"] == dg["id"] and again["status"] == "sent"
    # the engineers read nothing of the client's, and had nothing to read
    assert all(m["to"] == client["email"] for m in digests(c, admin))


# ---- a failing relay --------------------------------------------------------------------------------


def test_a_failing_relay_is_retried_then_failed_then_retried_by_an_admin(spawn, tmp_path_factory, sinks):
    sink = sinks("451 4.3.0 try later")
    srv, c, admin, client = demo(spawn, tmp_path_factory, *sink.server_args(), "--email-max-attempts", "3",
                                 "--email-retry-base", "1", "--smtp-breaker", "100,1")
    req = create_request(c, client["token"], title="Relay trouble")
    n = len(req["candidates"])
    assert n >= 2

    mails = settled(c, admin["token"], timeout=30, advance=1)
    assert len(mails) == n and all(m["kind"] == "invitation" for m in mails)
    for m in mails:
        assert (m["status"], m["attempts"], m["next_attempt_at"], m["sent_at"]) == ("failed", 3, None, None), m
        assert "451" in m["last_error"], m
    ids = sorted(m["id"] for m in mails)
    # each was tried exactly three times, and is not tried again
    advance_clock(c, 3600)
    poll(lambda: len(sink.all()) >= 3 * n, 5, "the attempts at the sink")
    time.sleep(1.2)
    assert sorted(r.mail_id for r in sink.all()) == sorted(ids * 3)
    assert not any(r.accepted for r in sink.all())
    assert metric(c, "opx_email_failed_total", 'kind="invitation"') == n
    assert metric(c, "opx_email_retries_total") == 2 * n

    # admins find them by status; nobody else may look
    assert sorted(m["id"] for m in outbox(c, admin["token"], status="failed")) == ids
    assert outbox(c, admin["token"], status="queued") == [] and outbox(c, admin["token"], status="sent") == []
    for who in (client, demo_login(c, "vetter@demo.opx")):
        assert_problem(c.get(OUTBOX, params={"status": "failed"}, headers=bearer(who["token"])), 403, "forbidden")
        assert_problem(c.post(f"{OUTBOX}/{ids[0]}/retry", headers=bearer(who["token"])), 403, "forbidden")

    # the relay recovers; an admin sends one again: queued with 0 attempts, then sent, once
    sink.reply = "250 OK"
    target = mails[0]
    # the 202's body is checked for its shape by test_a_retry_answers_with_the_mail
    raw = httpx.post(srv.base_url + f"{OUTBOX}/{target['id']}/retry", headers=bearer(admin["token"]), timeout=10)
    assert raw.status_code == 202, raw.text
    q = raw.json()
    assert (q["id"], q["status"], q["attempts"], q["last_error"], q["sent_at"]) == \
        (target["id"], "queued", 0, None, None), q
    assert q["next_attempt_at"] is not None
    [sent] = settled(c, admin["token"], timeout=10, id=target["id"])
    assert (sent["status"], sent["attempts"], sent["last_error"], sent["next_attempt_at"]) == ("sent", 1, None, None)
    [got] = sink.of(mail_id=target["id"], accepted=True)
    m = got.msg
    assert got.rcpt_tos == [target["to"]] and got.mail_from == FROM
    assert (m["Subject"], m["X-Opx-Kind"], m["Auto-Submitted"], m["MIME-Version"]) == \
        (target["subject"], "invitation", "auto-generated", "1.0")
    assert m["From"].addresses[0].addr_spec == FROM and m["From"].addresses[0].display_name == "Offline Pixel"
    assert m["To"].addresses[0].addr_spec == target["to"] and m["To"].addresses[0].display_name == target["to_name"]
    assert m["Message-ID"] == f"<{target['id']}@offline-pixel.localhost>" and m["Date"] is not None
    assert m.get_content_type() == "text/plain" and got.text() == mail_detail(c, admin["token"], target["id"])["text"]
    # the others stay failed; the sent one cannot be retried again
    time.sleep(1.2)
    assert len(sink.of(mail_id=target["id"])) == 4 and len(sink.all()) == 3 * n + 1
    assert sorted(m["id"] for m in outbox(c, admin["token"], status="failed")) == sorted(set(ids) - {target["id"]})
    assert assert_problem(retry(c, admin["token"], target["id"], expect=409), 409, "mail-state")["state"] == "sent"


def test_a_retry_answers_with_the_mail(spawn, tmp_path_factory):
    closed = free_port()  # nothing listens here: every attempt fails at once
    srv, c, admin, client = demo(spawn, tmp_path_factory, "--email-transport", "smtp", "--smtp-url",
                                 f"smtp://127.0.0.1:{closed}", "--smtp-tls", "off", "--email-max-attempts", "1")
    create_request(c, client["token"])
    mails = settled(c, admin["token"], timeout=15)
    assert all(m["status"] == "failed" and m["attempts"] == 1 and m["last_error"] for m in mails), mails
    r = c.post(f"{OUTBOX}/{mails[0]['id']}/retry", json={}, headers=bearer(admin["token"]))
    assert r.status_code == 202
    assert set(r.json()) == MAIL_FIELDS


def test_the_breaker_holds_mails_without_using_their_attempts(spawn, tmp_path_factory, sinks):
    sink = sinks("554 5.7.1 refused")
    srv, c, admin, client = demo(spawn, tmp_path_factory, *sink.server_args(), "--smtp-breaker", "2,3600",
                                 "--email-max-attempts", "5", "--email-retry-base", "10")
    first = create_request(c, client["token"], title="Breaker one")
    n = len(first["candidates"])
    assert n >= 2
    # the first failures open the breaker
    poll(lambda: metric(c, "opx_smtp_breaker_state") == 1, 10, "the breaker to open")
    time.sleep(0.5)  # the results of exchanges still under way
    tried = len(sink.all())
    snapshot = {m["id"]: m["attempts"] for m in outbox(c, admin["token"])}
    assert len(snapshot) == n and set(snapshot.values()) <= {0, 1} and sum(snapshot.values()) == tried >= 2
    assert not any(r.accepted for r in sink.all())

    # their retries come due: held back for the cooldown, attempts untouched, the relay not asked
    advance_clock(c, 120)
    poll(lambda: metric(c, "opx_email_deferred_total") >= n, 10, "the retries to be deferred")
    # and mails queued meanwhile wait the same way, with no attempt used
    create_request(c, client["token"], title="Breaker two")
    poll(lambda: metric(c, "opx_email_deferred_total") >= 2 * n, 10, "the new mails to be deferred")
    mails = outbox(c, admin["token"])
    assert len(mails) == 2 * n and all(m["status"] == "queued" for m in mails), mails
    assert all(m["attempts"] == snapshot.get(m["id"], 0) for m in mails), (snapshot, mails)
    now = advance_clock(c, 0)["now"]
    assert all(m["next_attempt_at"] > now for m in mails), (now, mails)
    assert len(sink.all()) == tried
    assert metric(c, "opx_smtp_breaker_state") == 1

    # the relay is back and the cooldown over: a trial, then everything goes, each mail once
    sink.reply = "250 OK"
    advance_clock(c, 3600)
    final = settled(c, admin["token"], timeout=20, advance=1)
    assert len(final) == 2 * n and all(m["status"] == "sent" for m in final), final
    assert metric(c, "opx_smtp_breaker_state") == 0
    delivered = [r.mail_id for r in sink.all() if r.accepted]
    assert sorted(delivered) == sorted(m["id"] for m in final)
    assert all(m["attempts"] == snapshot.get(m["id"], 0) + 1 for m in final), (snapshot, final)


# ---- the outbox query -------------------------------------------------------------------------------

BAD_STATUS = ["bogus", "", "SENT", "sent,failed", " sent"]
BAD_LIMITS = ["0", "101", "-1", "abc", "", "1.5", "10x", "1e1", "0x10", "99999999999999999999"]
BAD_BEFORE = ["garbage", "", "o", "o0", "o-1", "o1x", "7", "null", "mail_00000000000000000000"]


def test_the_outbox_query_is_checked_and_pages_follow_next_cursor(spawn, tmp_path_factory):
    srv, c, admin, client = demo(spawn, tmp_path_factory)
    for n in range(3):
        create_request(c, client["token"], title=f"Paging #{n}")
    full = settled(c, admin["token"])
    total = len(full)
    assert total >= 10
    h = bearer(admin["token"])
    for v in BAD_STATUS:
        assert_problem(c.get(OUTBOX, params={"status": v}, headers=h), 400, "bad-query", ["status"])
    for v in BAD_LIMITS:
        assert_problem(c.get(OUTBOX, params={"limit": v}, headers=h), 400, "bad-query", ["limit"])
    for v in BAD_BEFORE + [full[0]["id"]]:
        assert_problem(c.get(OUTBOX, params={"before": v}, headers=h), 400, "bad-query", ["before"])
    assert_problem(c.get(OUTBOX, params={"status": "x", "limit": "0", "before": "x"}, headers=h), 400,
                   "bad-query", ["before", "limit", "status"])

    # newest first, every mail once
    assert len({m["id"] for m in full}) == total
    assert all(a["created_at"] >= b["created_at"] for a, b in zip(full, full[1:]))
    assert outbox_page(c, admin["token"]) == {"items": full, "next_cursor": None}  # the default limit holds them
    for limit in (1, 4, total, 100):
        got, sizes, before = [], [], None
        while True:
            page = outbox_page(c, admin["token"], limit=limit, **({"before": before} if before else {}))
            got += page["items"]
            sizes.append(len(page["items"]))
            before = page["next_cursor"]
            assert (before is not None) == (len(page["items"]) == limit), (limit, sizes, before)
            if before is None:
                break
        assert got == full, limit
        whole, rest = divmod(total, limit)
        assert sizes == [limit] * whole + [rest], (limit, sizes)

    # a cursor stays good while newer mail arrives: the rest follows, nothing repeats
    first = outbox_page(c, admin["token"], limit=4)
    assert first["items"] == full[:4]
    create_request(c, client["token"], title="Paging, later")
    newer = settled(c, admin["token"])
    assert len(newer) > total and newer[len(newer) - total:] == full
    rest, before = [], first["next_cursor"]
    while before:
        page = outbox_page(c, admin["token"], limit=4, before=before)
        rest += page["items"]
        before = page["next_cursor"]
    assert rest == full[4:]

    # by status
    assert outbox(c, admin["token"], status="sent") == newer
    assert outbox(c, admin["token"], status="failed") == [] and outbox(c, admin["token"], status="queued") == []
    one = outbox_page(c, admin["token"], status="sent", limit=1)
    assert one["items"] == newer[:1] and one["next_cursor"]


# ---- non-ASCII names and subjects ------------------------------------------------------------------


def header_lines(received):
    """The physical lines of the message's header block (bytes)."""
    return received.content.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def non_ascii_walk(spawn, tmp_path_factory, sinks, name, title):
    """A client called name raises a request called title; the rank-1
    engineer accepts. Returns (sink, client, the candidate.accepted mail)."""
    sink = sinks()
    srv, c, admin, _ = demo(spawn, tmp_path_factory, *sink.server_args())
    client = signed_in(c, role="client", name=name)
    req = create_request(c, client["token"], title=title)
    eng = demo_login(c, engineer_email(c, admin["token"], req["candidates"][0]["engineer_id"]))
    accept(c, eng["token"], req["candidates"][0]["id"])
    [got] = sink.wait(kind="candidate.accepted")
    return sink, client, eng, got


def test_non_ascii_names_and_subjects_are_rfc_2047_encoded(spawn, tmp_path_factory, sinks):
    name, title = "Zoë Ågren-Łukasz", "Café API ✓ für 東京"
    sink, client, eng, got = non_ascii_walk(spawn, tmp_path_factory, sinks, name, title)
    m = got.msg
    assert got.rcpt_tos == [client["email"]]
    assert m["To"].addresses[0].display_name == name and m["To"].addresses[0].addr_spec == client["email"]
    assert m["Subject"] == f"{eng['user']['name']} accepted your invitation: {title}"
    assert got.text().startswith(f"Hello {name},") and title in got.text()
    for line in header_lines(got):
        line.decode("ascii")  # the header block itself is ASCII
        assert len(line) <= 998, line[:100]
    assert b"=?UTF-8?B?" in b"".join(header_lines(got))
    invitations = sink.wait(kind="invitation")
    assert all(i.msg["Subject"] == f"You are invited: {title}" for i in invitations)


def test_long_non_ascii_subjects_are_split_into_short_encoded_words(spawn, tmp_path_factory, sinks):
    name, title = "Zoë " * 24 + "Zoë", "Café ✓ " * 17
    sink, client, eng, got = non_ascii_walk(spawn, tmp_path_factory, sinks, name, title.strip())
    assert got.msg["Subject"] == f"{eng['user']['name']} accepted your invitation: {title.strip()}"
    assert got.msg["To"].addresses[0].display_name == name
    # the Subject is split into encoded words of at most 75 characters on lines of at most 78; a display
    # name stays one encoded word (readers disagree on spaces between encoded words inside a phrase)
    subject = [ln for ln in b"\r\n".join(header_lines(got)).split(b"\r\n") if ln.startswith((b"Subject:", b" "))]
    words = re.findall(rb"=\?[^?]+\?[BbQq]\?[^?]*\?=", b"\r\n".join(subject))
    assert len(words) > 1 and all(len(w) <= 75 for w in words), sorted(len(w) for w in words)
    assert all(len(line) <= 78 for line in subject), [len(x) for x in subject]
    assert all(len(line) <= 998 for line in header_lines(got))
