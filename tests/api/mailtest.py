"""Helpers of the interview and email tests: an SMTP sink (Debian's
python3-aiosmtpd) that records what the server sends and answers as told,
parsing those messages and their calendar parts (python3-icalendar), and
reading the admin outbox.

Test modules start sinks through a fixture that stops them at teardown."""
import datetime
import email
import email.policy
import threading
import time

import icalendar
from aiosmtpd.controller import Controller

from opxtest import bearer, free_port, wait_for

OUTBOX = "/api/v1/admin/outbox"


# ---- the SMTP sink ----------------------------------------------------------------------


class Received:
    """One DATA the sink saw: the envelope, the reply it gave, the parsed message."""

    def __init__(self, mail_from, rcpt_tos, content, reply):
        self.mail_from, self.rcpt_tos, self.content, self.reply = mail_from, list(rcpt_tos), content, reply
        self.msg = email.message_from_bytes(content, policy=email.policy.default)

    @property
    def accepted(self):
        return self.reply.startswith("250")

    @property
    def kind(self):
        return self.msg["X-Opx-Kind"]

    @property
    def mail_id(self):
        """The outbox id: Message-ID is <mail id@from-domain>."""
        return str(self.msg["Message-ID"]).strip("<>").split("@", 1)[0]

    def parts(self, content_type):
        return [p for p in self.msg.walk() if p.get_content_type() == content_type]

    def text(self):
        return self.parts("text/plain")[0].get_content()

    def calendar_part(self):
        cal = self.parts("text/calendar")
        return cal[0] if cal else None

    def __repr__(self):
        return f"<Received {self.kind} to {self.rcpt_tos} {self.reply!r}>"


class SmtpSink:
    """An SMTP server on 127.0.0.1:<free port>. Each DATA is recorded and
    answered with self.reply ("250 OK" accepts; "451 ..." or "554 ..."
    makes that attempt fail)."""

    def __init__(self, reply="250 OK"):
        self.reply = reply
        self.received = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def url(self):
        return f"smtp://127.0.0.1:{self.port}"

    def server_args(self):
        """The `opx serve` flags that send mail here."""
        return ["--email-transport", "smtp", "--smtp-url", self.url, "--smtp-tls", "off"]

    async def handle_DATA(self, server, session, envelope):
        reply = self.reply
        with self._lock:
            self.received.append(Received(envelope.mail_from, envelope.rcpt_tos, envelope.content, reply))
        return reply

    def all(self):
        with self._lock:
            return list(self.received)

    def of(self, mail_id=None, kind=None, to=None, accepted=None):
        return [r for r in self.all()
                if (mail_id is None or r.mail_id == mail_id) and (kind is None or r.kind == kind)
                and (to is None or r.rcpt_tos == [to]) and (accepted is None or r.accepted == accepted)]

    def wait(self, n=1, timeout=10.0, **match):
        """Waits until at least n received messages match; returns them."""
        return wait_for(lambda: (lambda got: got if len(got) >= n else None)(self.of(**match)), timeout,
                        f"{n} mail(s) {match} at the sink")

    def stop(self):
        self.controller.stop()


# ---- calendars ------------------------------------------------------------------------------


def zone_name(tz):
    """The IANA name of a tzinfo (pytz's .zone, zoneinfo's .key)."""
    return getattr(tz, "zone", None) or getattr(tz, "key", None) or str(tz)


class Invite:
    """A text/calendar part parsed by icalendar: the calendar and its one VEVENT."""

    def __init__(self, ics_text):
        if isinstance(ics_text, bytes):
            ics_text = ics_text.decode("utf-8")
        self.text = ics_text
        self.cal = icalendar.Calendar.from_ical(ics_text)
        events = list(self.cal.walk("VEVENT"))
        assert len(events) == 1, ics_text
        self.ev = events[0]

    @property
    def method(self):
        return str(self.cal["METHOD"])

    @property
    def start(self):
        return self.ev.decoded("DTSTART")

    @property
    def end(self):
        return self.ev.decoded("DTEND")

    def prop(self, name):
        return str(self.ev[name])

    @property
    def sequence(self):
        return int(self.ev["SEQUENCE"])

    def vtimezones(self):
        return [str(z["TZID"]) for z in self.cal.walk("VTIMEZONE")]


def utc(d):
    return d.astimezone(datetime.timezone.utc)


# ---- the admin outbox ------------------------------------------------------------------------


def outbox_page(c, admin_token, expect=200, **params):
    r = c.get(OUTBOX, params=params, headers=bearer(admin_token))
    assert r.status_code == expect, r.text
    return r.json()


def outbox(c, admin_token, **params):
    """Every mail (newest first), following next_cursor."""
    out, before = [], None
    for _ in range(1000):
        q = dict(params, limit=100)
        if before:
            q["before"] = before
        page = outbox_page(c, admin_token, **q)
        out += page["items"]
        before = page["next_cursor"]
        if not before:
            return out
    raise AssertionError("next_cursor never ran out")


def mail_detail(c, admin_token, mail_id, expect=200):
    r = c.get(f"{OUTBOX}/{mail_id}", headers=bearer(admin_token))
    assert r.status_code == expect, r.text
    return r.json() if expect == 200 else r


def poll(fn, timeout=10.0, what="the condition", every=0.1):
    """Like wait_for, at a gentler pace (for checks that move the clock)."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {v!r}")
        time.sleep(every)


def settled(c, admin_token, timeout=10.0, advance=0, **match):
    """Waits until every mail matching match (kind=..., to=...) has left
    "queued"; returns them (newest first). advance: seconds the test clock
    moves on each poll, so retries come sooner."""
    def check():
        if advance:
            c.post("/api/v1/_test/clock", json={"advance_seconds": advance})
        mails = [m for m in outbox(c, admin_token) if all(m.get(k) == v for k, v in match.items())]
        return mails if mails and all(m["status"] != "queued" for m in mails) else None
    return poll(check, timeout, f"mails {match} to settle", every=0.25 if advance else 0.1)
