"""Many nodes over one PostgreSQL (skipped on SQLite): two `opx serve`
processes on the same database are one service. Live events cross them
through LISTEN/NOTIFY, each to whom it concerns and each once, and a node
whose listener was cut off catches up from the events table. What a node
caches follows the other's commits: a session ended on one is refused on
the other at once (not after the session cache's TTL), and an engineer
vetted or suspended through one is matched, or not, by the other. An
Idempotency-Key running on one node is in use on the other."""
import os
import sys
import threading
import time

import httpx
import pytest

from moneytest import active_contract, fund, new_key, replayed
from opxtest import (PG_SERVER, assert_problem, bearer, create_request, create_staff, db_tamper, demo_login, kill_hard,
                     login,
                     metric, open_events, post_message, request_body, seeded_workdir, signed_in, talk_pair,
                     vetted_engineer, wait_for)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fakes"))
from stripe_fake import StripeFake  # noqa: E402

pytestmark = pytest.mark.skipif(not PG_SERVER, reason="many nodes need PostgreSQL (OPX_TEST_PG)")
HELLO = "retry: 3000\n: connected\n\n"
ME = "/api/v1/me"


def node_pair(spawn, tmp_path_factory, *args, demo=True):
    """Nodes a and b on one database (the demo's, or an empty one)."""
    a = spawn("--login-ip-burst", "1000", *args, workdir=seeded_workdir(tmp_path_factory, "nodes") if demo else None)
    d = tmp_path_factory.mktemp("node-b")
    (d / "pg.url").write_text(a.db + "\n")  # the same database, a directory of its own
    b = spawn("--login-ip-burst", "1000", *args, workdir=d)
    assert b.db == a.db
    return a, b


def two_nodes(spawn, tmp_path_factory):
    """Nodes a and b on one demo database, with one conversation between
    the demo client and an engineer (made through a)."""
    a, b = node_pair(spawn, tmp_path_factory)
    ca, cb = a.client(), b.client()
    admin, client = demo_login(ca, "admin@demo.opx"), demo_login(ca, "client@demo.opx")
    p = talk_pair(ca, admin, client)
    return a, b, ca, cb, client, p["engineer"], p["conversation"]["id"]


def hello(s):
    s.next_item(), s.next_item()
    assert s.transcript.startswith(HELLO), s.transcript[:80]


def test_messages_sent_through_either_node_reach_streams_on_both(spawn, tmp_path_factory):
    a, b, ca, cb, cl, en, cid = two_nodes(spawn, tmp_path_factory)
    # a session made on one node signs in on the other: the database is one
    assert cb.get("/api/v1/me", headers={"Authorization": f"Bearer {cl['token']}"}).status_code == 200
    with open_events(a, cl["token"]) as cl_on_a, open_events(b, en["token"]) as en_on_b, \
            open_events(b, cl["token"]) as cl_on_b:
        for s in (cl_on_a, en_on_b, cl_on_b):
            hello(s)
        # each message is seen on both nodes before the next is sent: no
        # later commit on the receiving node carries it along
        for node, sender, text in ((cb, cl, "sent through b"), (ca, en, "sent through a"),
                                   (cb, en, "through b again")):
            m = post_message(node, sender["token"], cid, text)
            for name, s in (("client on a", cl_on_a), ("engineer on b", en_on_b), ("client on b", cl_on_b)):
                (e,) = s.events(1, timeout=3)
                assert (e.event, e.data["message"]["id"]) == ("message.created", m["id"]), name
        for name, s in (("client on a", cl_on_a), ("engineer on b", en_on_b), ("client on b", cl_on_b)):
            assert s.quiet_events(0.3) == [], name  # each once: the own node's poke and NOTIFY agree


def test_a_node_whose_listener_was_cut_catches_up(spawn, tmp_path_factory):
    a, b, ca, cb, cl, en, cid = two_nodes(spawn, tmp_path_factory)
    ended, kept = demo_login(ca, "client@demo.opx")["token"], demo_login(ca, "client@demo.opx")["token"]
    for t in (ended, kept):
        assert ca.get(ME, headers=bearer(t)).status_code == 200  # cached on a
    with open_events(a, cl["token"]) as on_a:
        hello(on_a)
        # every listening session of the database goes; a's workers too,
        # which reconnect on their own
        db_tamper(a, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE application_name = 'opx-listen' AND pid <> pg_backend_pid()")
        sent = post_message(cb, en["token"], cid, "while a was not listening")
        assert cb.post("/api/v1/auth/logout", headers=bearer(ended)).status_code == 204
        evs = on_a.events(1, timeout=15)  # the listener's backoff, then the catch-up
        assert [e.data["message"]["id"] for e in evs] == [sent["id"]]
    # notices have no table to catch up from: a forgot every session it
    # had cached, so the one ended meanwhile is refused and the other is
    # asked of the database again
    assert ca.get(ME, headers=bearer(ended)).status_code == 401
    misses = metric(ca, "opx_session_cache_misses_total")
    assert ca.get(ME, headers=bearer(kept)).status_code == 200
    assert metric(ca, "opx_session_cache_misses_total") == misses + 1


@pytest.fixture
def stripe(monkeypatch):
    """The fake Stripe, in the environment of the nodes spawned after."""
    fake = StripeFake().start()
    for k, v in fake.env().items():
        monkeypatch.setenv(k, v)
    yield fake
    fake.stop()


def funding_nodes(spawn, tmp_path_factory, fake, amount):
    """Nodes a and b charging through fake, with one milestone of amount
    to fund: (a, b, the client, the milestone's id, a new key)."""
    a, b = node_pair(spawn, tmp_path_factory, *fake.server_args())
    ca = a.client()
    admin, cl = demo_login(ca, "admin@demo.opx"), demo_login(ca, "client@demo.opx")
    k, _ = active_contract(ca, admin, cl, amounts=(amount,))
    return a, b, cl, k["milestones"][0]["id"], new_key()


def at_stripe(fake):
    """Waits until a charge has reached the fake (which holds its answer back)."""
    give_up = time.monotonic() + 5
    while not fake.charge_list and time.monotonic() < give_up:
        time.sleep(0.01)
    assert fake.charge_list, "the charge never reached Stripe"


def test_a_key_running_on_one_node_is_in_use_on_the_other(spawn, tmp_path_factory, stripe):
    stripe.slow_s = 2.0
    a, b, cl, mid, key = funding_nodes(spawn, tmp_path_factory, stripe, 31000)
    ca, cb = a.client(), b.client()
    first = {}
    t = threading.Thread(target=lambda: first.update(r=fund(ca, cl["token"], mid, key=key, expect=None,
                                                             payment_method="pm_card_slow")))
    t.start()
    try:
        at_stripe(stripe)  # a's charge, answered in 2 s
        r = fund(cb, cl["token"], mid, key=key, expect=None, payment_method="pm_card_slow")
        assert_problem(r, 409, "idempotency-key-in-use")
        assert r.headers["retry-after"] == "1"
    finally:
        t.join(15)
    assert first["r"].status_code == 200 and not replayed(first["r"]), first["r"].text
    again = fund(cb, cl["token"], mid, key=key, expect=None, payment_method="pm_card_slow")
    assert again.status_code == 200 and replayed(again) and again.json() == first["r"].json()
    assert len(stripe.charge_list) == 1


def refused_within(client, token, seconds):
    """The session's requests get 401 within seconds (it was ended elsewhere)."""
    wait_for(lambda: client.get(ME, headers=bearer(token)).status_code == 401, timeout=seconds,
             what="the session refused")


def test_a_session_ended_on_one_node_is_refused_on_the_other_at_once(spawn, tmp_path_factory):
    # a minute of session cache: without the notice, b would trust the
    # sessions it verified for that long
    a, b = node_pair(spawn, tmp_path_factory, "--session-cache-ttl", "60", demo=False)
    ca, cb = a.client(), b.client()
    u = signed_in(ca)
    mine, other, third = u["token"], login(ca, u["email"], u["password"]).json()["token"], \
        login(ca, u["email"], u["password"]).json()["token"]
    for t in (mine, other, third):
        assert cb.get(ME, headers=bearer(t)).status_code == 200  # now cached on b
    # logout on a: that session, on b
    assert ca.post("/api/v1/auth/logout", headers=bearer(third)).status_code == 204
    refused_within(cb, third, 3)
    # a password change on a ends the other sessions on b, and their live streams there
    with open_events(b, other) as stream, open_events(b, mine) as kept:
        stream.next_item()
        kept.next_item()
        r = ca.post("/api/v1/me/password", headers=bearer(mine),
                    json={"current_password": u["password"], "new_password": "another long passphrase 42"})
        assert r.status_code == 200 and r.json() == {"sessions_ended": 1}, r.text
        refused_within(cb, other, 3)
        stream.until_eof(timeout=3)
        assert not kept.eof
    assert cb.get(ME, headers=bearer(mine)).status_code == 200  # the one that changed it stays
    # an admin's suspension on b ends the account's sessions cached on a
    admin = create_staff(a, ca, "admin")
    assert ca.get(ME, headers=bearer(mine)).status_code == 200
    r = cb.post(f"/api/v1/admin/users/{u['user']['id']}/suspend", json={"reason": "Testing nodes."},
                headers=bearer(admin["token"]))
    assert r.status_code == 200, r.text
    refused_within(ca, mine, 3)


def test_an_engineer_vetted_through_one_node_is_matched_by_the_other(spawn, tmp_path_factory):
    a, b = node_pair(spawn, tmp_path_factory, demo=False)
    ca, cb = a.client(), b.client()
    admin, vetter = create_staff(a, ca, "admin"), create_staff(a, ca, "vetter")
    client = signed_in(ca, role="client")
    assert metric(ca, "opx_matching_engineers") == 0
    e = vetted_engineer(cb, vetter)  # the profile and the scorecard go through b
    wait_for(lambda: metric(ca, "opx_matching_engineers") == 1, timeout=3, what="a's index to hold the engineer")
    r = create_request(ca, client["token"], request_body())
    assert [k["engineer_id"] for k in r["candidates"]] == [e["id"]]
    # suspended through b: a matches nobody
    r = cb.post(f"/api/v1/admin/users/{e['id']}/suspend", json={"reason": "Testing nodes."},
                headers=bearer(admin["token"]))
    assert r.status_code == 200, r.text
    wait_for(lambda: metric(ca, "opx_matching_engineers") == 0, timeout=3, what="a's index to drop the engineer")
    assert create_request(ca, client["token"], request_body(title="Another async API"))["candidates"] == []


def test_wrong_passwords_on_one_node_count_on_the_other(spawn, tmp_path_factory):
    a, b = node_pair(spawn, tmp_path_factory, "--login-account-burst", "4", demo=False)
    ca, cb = a.client(), b.client()
    u = signed_in(ca)
    wrong = {"email": u["email"], "password": "not the password"}
    for i, (here, there) in enumerate(((ca, cb), (cb, ca), (ca, cb), (cb, ca))):
        assert here.post("/api/v1/auth/login", json=wrong).status_code == 401
        # told to the other node, which charges the same buckets
        wait_for(lambda: metric(there, "opx_login_failures_heard_total") == i // 2 + 1, timeout=3,
                 what="the other node to hear of the failure")
    # four wrong in all: both nodes are out of tokens for the account, even
    # for the right password
    for c in (ca, cb):
        assert_problem(c.post("/api/v1/auth/login", json=wrong), 429, "rate-limited")
        assert_problem(c.post("/api/v1/auth/login", json={"email": u["email"], "password": u["password"]}),
                       429, "rate-limited")
    assert metric(ca, "opx_login_failures_total") == metric(cb, "opx_login_failures_total") == 2


def test_a_key_whose_node_died_is_carried_on_by_another_within_seconds(spawn, tmp_path_factory, stripe):
    stripe.slow_s = 1.0
    a, b, cl, mid, key = funding_nodes(spawn, tmp_path_factory, stripe, 27000)
    cb = b.client()

    def first():
        try:
            fund(a.client(), cl["token"], mid, key=key, expect=None, payment_method="pm_card_slow")
        except httpx.TransportError:
            pass  # a was killed under it
    t = threading.Thread(target=first)
    t.start()
    at_stripe(stripe)
    kill_hard(a)  # mid-charge: the key is a's, and a is gone
    t.join(10)
    died = time.monotonic()
    while True:
        r = fund(cb, cl["token"], mid, key=key, expect=None, payment_method="pm_card_slow")
        if r.status_code != 409:
            break
        assert_problem(r, 409, "idempotency-key-in-use")
        assert time.monotonic() - died < 10, "b never took the key over"
        time.sleep(0.2)
    took = time.monotonic() - died
    assert r.status_code == 200 and not replayed(r), r.text
    assert r.json()["status"] == "funded"
    assert took < 8, f"took {took:.1f} s"  # a's heartbeat lapses within 5 s of its last beat
    # the card was charged once: b's retry of the charge carried a's gateway key
    assert len(stripe.charge_list) == 1
