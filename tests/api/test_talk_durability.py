"""A message is stored and committed before its 201: after a SIGTERM (a
drained shutdown) or a SIGKILL (none at all) the server restarted on the
same database has every message it acknowledged, exactly, in order, and the
read markers with them."""
import threading

import httpx

from opxtest import (CONVERSATIONS, STOP_TIMEOUT_S, all_messages, bearer, conversations, demo_login, demo_server,
                     kill_hard, mark_read, post_message, talk_pair, validated_client, wait_for)


def restart(spawn, tmp_path_factory, srv):
    """The same database on a new server: (server, validated client)."""
    again = demo_server(spawn, tmp_path_factory, workdir=srv.dir)
    c = again.client()
    return again, c


def sigterm(srv):
    """One SIGTERM (a second one exits at once, undrained), then the usual checks."""
    srv.terminate()
    assert srv.proc.wait(STOP_TIMEOUT_S) == 0, srv.log_tail()
    assert srv.stop() == []


def chatter(srv, cid, people, until, stop_server):
    """Each of people posts in a loop (two connections each) until the
    server goes away; stop_server() is called once `until` messages were
    acknowledged. Returns the acknowledged messages, by sender thread."""
    acked, problems, stop = {}, [], threading.Event()
    url = f"{CONVERSATIONS}/{cid}/messages"

    def run(name, who):
        mine = acked.setdefault(name, [])
        with validated_client(srv.base_url, srv.contract, timeout=10) as c:
            post_until_gone(name, who, c, mine)

    def post_until_gone(name, who, c, mine):
        i = 0
        while not stop.is_set():
            try:
                r = c.post(url, json={"body": f"{name} #{i}"}, headers=bearer(who["token"]))
            except httpx.HTTPError:
                return  # the server went away mid-request: not acknowledged
            except Exception as ex:  # noqa: BLE001 - a contract failure, reported below
                problems.append(f"{name}: {type(ex).__name__}: {ex}")
                return
            if r.status_code == 503:
                return  # refused while draining: not acknowledged
            if r.status_code != 201:
                problems.append(f"{name}: {r.status_code} {r.text[:200]}")
                return
            mine.append(r.json())
            i += 1

    threads = [threading.Thread(target=run, args=(f"{who['email']}/{n}", who))
               for who in people for n in range(2)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: sum(len(v) for v in acked.values()) >= until, timeout=10, what=f"{until} messages")
        stop_server()
    finally:
        stop.set()
        for t in threads:
            t.join(15)
    assert not problems, problems
    assert not any(t.is_alive() for t in threads)
    return acked


def check_all_there(c, token, cid, acked, before):
    """Every acknowledged message is stored exactly, each sender's in the
    order they were sent, after the messages that were there before."""
    got, _ = all_messages(c, token, cid, limit=100)
    assert got[:len(before)] == before
    by_id = {m["id"]: m for m in got}
    assert len(by_id) == len(got), "a message id repeats"
    flat = [m for ms in acked.values() for m in ms]
    missing = [m for m in flat if m["id"] not in by_id]
    assert not missing, f"{len(missing)} of {len(flat)} acknowledged messages are gone: {missing[:3]}"
    assert all(by_id[m["id"]] == m for m in flat)
    pos = {m["id"]: i for i, m in enumerate(got)}
    for name, ms in acked.items():
        assert [pos[m["id"]] for m in ms] == sorted(pos[m["id"]] for m in ms), f"{name}: out of order"
    return got


def test_a_201_survives_sigterm_and_restart(spawn, tmp_path_factory):
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    p = talk_pair(c, admin, client)
    cid, eng = p["conversation"]["id"], p["engineer"]
    m1 = post_message(c, eng["token"], cid, "Sent just before the restart. ✓")
    mark_read(c, client["token"], cid, m1["id"])
    m2 = post_message(c, eng["token"], cid, "And one more, unread.")
    sigterm(srv)  # right after the 201

    srv2, c2 = restart(spawn, tmp_path_factory, srv)
    client, eng = demo_login(c2, "client@demo.opx"), demo_login(c2, eng["email"])
    assert all_messages(c2, client["token"], cid)[0] == [m1, m2]
    v = conversations(c2, client["token"])
    assert [(x["id"], x["unread"], x["last_message"]) for x in v] == [(cid, 1, m2)]  # the marker stayed at m1
    assert conversations(c2, eng["token"])[0]["id"] == cid

    # many writers at once, SIGTERM in the middle: every acknowledged message is there after a restart
    acked = chatter(srv2, cid, [client, eng], 30, lambda: sigterm(srv2))
    _, c3 = restart(spawn, tmp_path_factory, srv2)
    client = demo_login(c3, "client@demo.opx")
    got = check_all_there(c3, client["token"], cid, acked, [m1, m2])
    assert len(got) >= 2 + sum(len(v) for v in acked.values())


def test_a_201_survives_sigkill(spawn, tmp_path_factory):
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    p = talk_pair(c, admin, client)
    cid, eng = p["conversation"]["id"], p["engineer"]
    m0 = post_message(c, client["token"], cid, "before the writers")
    mark_read(c, eng["token"], cid, m0["id"])
    acked = chatter(srv, cid, [client, eng], 40, lambda: kill_hard(srv))
    assert srv.proc.returncode is not None

    _, c2 = restart(spawn, tmp_path_factory, srv)
    client, eng = demo_login(c2, "client@demo.opx"), demo_login(c2, eng["email"])
    got = check_all_there(c2, client["token"], cid, acked, [m0])
    # the server still works on it: a new message lands after all of them
    m = post_message(c2, eng["token"], cid, "after the crash")
    assert all_messages(c2, client["token"], cid)[0] == got + [m]
    assert conversations(c2, client["token"])[0]["last_message"] == m
