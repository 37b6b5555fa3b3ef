"""Many nodes over one PostgreSQL (skipped on SQLite): two `opx serve`
processes on the same database are one service. Live events cross them
through LISTEN/NOTIFY, each to whom it concerns and each once, and a node
whose listener was cut off catches up from the events table."""
import pytest

from opxtest import PG_SERVER, db_tamper, demo_login, open_events, post_message, seeded_workdir, talk_pair

pytestmark = pytest.mark.skipif(not PG_SERVER, reason="many nodes need PostgreSQL (OPX_TEST_PG)")
HELLO = "retry: 3000\n: connected\n\n"


def two_nodes(spawn, tmp_path_factory):
    """Nodes a and b on one demo database, with one conversation between
    the demo client and an engineer (made through a)."""
    a = spawn("--login-ip-burst", "1000", workdir=seeded_workdir(tmp_path_factory, "nodes"))
    d = tmp_path_factory.mktemp("node-b")
    (d / "pg.url").write_text(a.db + "\n")  # the same database, a directory of its own
    b = spawn("--login-ip-burst", "1000", workdir=d)
    assert b.db == a.db
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
    with open_events(a, cl["token"]) as on_a:
        hello(on_a)
        # every listening session of the database goes; a's workers too,
        # which reconnect on their own
        db_tamper(a, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                     " WHERE application_name = 'opx-listen' AND pid <> pg_backend_pid()")
        sent = post_message(cb, en["token"], cid, "while a was not listening")
        evs = on_a.events(1, timeout=15)  # the listener's backoff, then the catch-up
        assert [e.data["message"]["id"] for e in evs] == [sent["id"]]
