"""Talking: messages come back in the order they were sent with unique ids
and non-decreasing times; unread counts the other party's messages after
my read marker, which only ever moves forward; the message pages follow
next_cursor without gaps or repeats; a bad query is 400 naming the
parameter; a bad body is refused (400/413/415/422) and stores nothing,
while 10000 characters of any script are fine. Each test runs on a demo
population of its own."""
import json
import re

import pytest

from opxtest import (CONVERSATIONS, advance_clock, all_messages, assert_problem, bearer, conversations,
                     demo_login, demo_server, mark_read, messages_page, post_message, post_raw_message,
                     seconds_between, talk_pair, unread)


@pytest.fixture
def talk(spawn, tmp_path_factory):
    """A demo server with one conversation: dict(srv, c, admin, client, engineer, cid)."""
    srv = demo_server(spawn, tmp_path_factory)
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    p = talk_pair(c, admin, client)
    return {"srv": srv, "c": c, "admin": admin, "client": client, "engineer": p["engineer"],
            "cid": p["conversation"]["id"], "pair": p}


def sane(msgs):
    """Unique ids and non-decreasing created_at."""
    assert len({m["id"] for m in msgs}) == len(msgs), msgs
    assert all(seconds_between(a["created_at"], b["created_at"]) >= 0 for a, b in zip(msgs, msgs[1:])), msgs


def test_two_users_chat_with_unread_counts_and_a_forward_only_marker(talk):
    c, cid, cl, en = talk["c"], talk["cid"], talk["client"], talk["engineer"]

    m1 = post_message(c, cl["token"], cid, "Hi! Can you start on Monday?")
    assert (m1["conversation_id"], m1["sender_id"], m1["body"]) == (cid, cl["id"], "Hi! Can you start on Monday?")
    # my own messages are never unread for me
    assert (unread(c, cl["token"], cid), unread(c, en["token"], cid)) == (0, 1)
    assert conversations(c, en["token"])[0]["last_message"] == m1

    mark_read(c, en["token"], cid, m1["id"])
    assert unread(c, en["token"], cid) == 0
    m2 = post_message(c, en["token"], cid, "Yes, Monday works.")
    advance_clock(c, 5)
    m3 = post_message(c, en["token"], cid, "What is the repository?")
    assert seconds_between(m2["created_at"], m3["created_at"]) >= 5  # the server's clock stamps them
    assert (unread(c, cl["token"], cid), unread(c, en["token"], cid)) == (2, 0)

    # the marker moves forward to m3; marking the older m2 afterwards does not move it back
    mark_read(c, cl["token"], cid, m3["id"])
    assert unread(c, cl["token"], cid) == 0
    mark_read(c, cl["token"], cid, m2["id"])
    assert unread(c, cl["token"], cid) == 0
    m4 = post_message(c, en["token"], cid, "Also: which Python version?")
    assert unread(c, cl["token"], cid) == 1  # only m4: the marker stayed at m3
    mark_read(c, cl["token"], cid, m2["id"])
    assert unread(c, cl["token"], cid) == 1
    mark_read(c, cl["token"], cid, m4["id"])
    mark_read(c, cl["token"], cid, m4["id"])  # again: fine, nothing changes
    assert unread(c, cl["token"], cid) == 0
    mark_read(c, cl["token"], cid, m1["id"])  # my own (older) message: a message of this conversation
    assert unread(c, cl["token"], cid) == 0

    # what is not a message of this conversation is 422 naming message_id, and moves nothing
    other = talk_pair(c, talk["admin"], cl)  # a second conversation of the same client
    mo = post_message(c, other["engineer"]["token"], other["conversation"]["id"], "elsewhere")
    url = f"{CONVERSATIONS}/{cid}/read"
    h = bearer(en["token"])
    m5 = post_message(c, cl["token"], cid, "Python 3.12.")
    assert unread(c, en["token"], cid) == 1
    for body, fields in [({"message_id": "msg_00000000000000000000"}, ["message_id"]),
                         ({"message_id": mo["id"]}, ["message_id"]),
                         ({"message_id": cid}, ["message_id"]),
                         ({"message_id": ""}, ["message_id"]),
                         ({"message_id": 5}, ["message_id"]),
                         ({}, ["message_id"]),
                         ({"message_id": m5["id"], "also": m1["id"]}, ["also"])]:
        assert_problem(c.post(url, json=body, headers=h), 422, "validation", fields)
    assert_problem(c.post(url, content=b'{"message_id": ', headers={**h, "Content-Type": "application/json"}),
                   400, "malformed-json")
    assert_problem(c.post(url, content=m5["id"].encode(), headers={**h, "Content-Type": "text/plain"}),
                   415, "unsupported-media-type")
    assert_problem(c.post(url, content=b"x" * 1025, headers={**h, "Content-Type": "application/json"}),
                   413, "body-too-large")
    assert unread(c, en["token"], cid) == 1
    assert unread(c, cl["token"], other["conversation"]["id"]) == 1  # the other conversation is untouched

    # both parties and an admin read the same messages, in the order they were sent
    sent = [m1, m2, m3, m4, m5]
    for who in (cl, en, talk["admin"]):
        page = messages_page(c, who["token"], cid)
        assert page == {"items": sent, "next_cursor": None}, who["email"]
    sane(sent)
    assert [m["sender_id"] for m in sent] == [cl["id"], en["id"], en["id"], en["id"], cl["id"]]
    top = [v for v in conversations(c, cl["token"]) if v["id"] == cid][0]
    assert (top["last_message"], top["last_message_at"]) == (m5, m5["created_at"])


def test_replying_does_not_mark_the_other_partys_messages_read(talk):
    c, cid, cl, en = talk["c"], talk["cid"], talk["client"], talk["engineer"]
    post_message(c, cl["token"], cid, "Question one?")
    m2 = post_message(c, cl["token"], cid, "Question two?")
    assert unread(c, en["token"], cid) == 2
    post_message(c, en["token"], cid, "Typing an answer to the first one...")
    # the engineer never moved the marker: the client's two messages are still after it
    assert unread(c, en["token"], cid) == 2
    mark_read(c, en["token"], cid, m2["id"])
    assert unread(c, en["token"], cid) == 0


def test_pages_follow_next_cursor_without_gaps_or_repeats(talk):
    c, cid, cl, en = talk["c"], talk["cid"], talk["client"], talk["engineer"]
    sent = [post_message(c, (cl, en)[i % 2]["token"], cid, f"message {i:02d}") for i in range(25)]
    sane(sent)
    assert [m["body"] for m in sent] == [f"message {i:02d}" for i in range(25)]

    got, sizes = all_messages(c, cl["token"], cid, limit=10)
    assert (got, sizes) == (sent, [10, 10, 5])
    for limit, want in [(1, [1] * 25 + [0]), (7, [7, 7, 7, 4]), (25, [25, 0]), (100, [25])]:
        assert all_messages(c, en["token"], cid, limit=limit) == (sent, want), limit
    assert all_messages(c, talk["admin"]["token"], cid) == (sent, [25])  # the default limit holds 25

    # a cursor stays good while the conversation grows: what was sent since follows, nothing repeats
    first = messages_page(c, cl["token"], cid, limit=10)
    assert first["items"] == sent[:10] and first["next_cursor"]
    more = [post_message(c, en["token"], cid, "late 1"), post_message(c, cl["token"], cid, "late 2")]
    rest, after = [], first["next_cursor"]
    while after:
        page = messages_page(c, cl["token"], cid, after=after, limit=10)
        rest += page["items"]
        after = page["next_cursor"]
    assert rest == sent[10:] + more
    # the last full page's cursor leads to an empty page with no cursor
    tail = messages_page(c, cl["token"], cid, limit=27)
    assert tail["items"] == sent + more and tail["next_cursor"]
    assert messages_page(c, cl["token"], cid, after=tail["next_cursor"], limit=27) == \
        {"items": [], "next_cursor": None}


BAD_LIMITS = ["0", "101", "-1", "abc", "", "1.5", "10x", "1e1", "0x10", "99999999999999999999"]
BAD_AFTERS = ["garbage", "", " ", "null", "%00", "0"]


def test_a_bad_limit_or_after_is_400_naming_the_parameter(talk):
    c, cid, cl = talk["c"], talk["cid"], talk["client"]
    m = post_message(c, cl["token"], cid, "one")
    url = f"{CONVERSATIONS}/{cid}/messages"
    h = bearer(cl["token"])
    for lim in BAD_LIMITS:
        assert_problem(c.get(url, params={"limit": lim}, headers=h), 400, "bad-query", ["limit"])
    for after in BAD_AFTERS:
        assert_problem(c.get(url, params={"after": after}, headers=h), 400, "bad-query", ["after"])
    assert_problem(c.get(url, params={"after": "nope", "limit": "0"}, headers=h), 400, "bad-query",
                   ["after", "limit"])
    # a cursor is opaque: a message id or the conversation id is not one
    for after in (m["id"], cid):
        assert_problem(c.get(url, params={"after": after}, headers=h), 400, "bad-query", ["after"])
    # the bounds themselves are fine
    one = messages_page(c, cl["token"], cid, limit=1)
    assert one["items"] == [m] and one["next_cursor"]  # a full page
    assert messages_page(c, cl["token"], cid, limit=100) == {"items": [m], "next_cursor": None}


# ---- the body --------------------------------------------------------------------------------

MIX = "aé€😀"  # 1, 2, 3 and 4 bytes of UTF-8


def chars(n):
    return (MIX * (n // len(MIX) + 1))[:n]


def raw_json(obj):
    """The UTF-8 bytes of obj as JSON, non-ASCII unescaped."""
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def test_a_bad_body_is_refused_and_stores_nothing(talk):
    c, cid, cl = talk["c"], talk["cid"], talk["client"]
    url = f"{CONVERSATIONS}/{cid}/messages"
    h = bearer(cl["token"])
    assert len(chars(10001)) == 10001 and len(raw_json({"body": chars(10001)})) < 65536

    unprocessable = [
        ("empty", {"body": ""}, ["body"]),
        ("10001 characters, multibyte", {"body": chars(10001)}, ["body"]),
        ("10001 ASCII characters", {"body": "x" * 10001}, ["body"]),
        ("a number", {"body": 5}, ["body"]),
        ("a boolean", {"body": True}, ["body"]),
        ("an array", {"body": ["hi"]}, ["body"]),
        ("an object", {"body": {"text": "hi"}}, ["body"]),
        ("null", {"body": None}, ["body"]),
        ("missing", {}, ["body"]),
        ("an unknown field", {"body": "hi", "to": "everyone"}, ["to"]),
        ("unknown and wrong", {"body": 5, "subject": "x"}, ["body", "subject"]),
    ]
    for name, body, fields in unprocessable:
        r = post_raw_message(c, cl["token"], cid, raw_json(body))
        assert r.status_code == 422, (name, r.text)
        assert_problem(r, 422, "validation", fields)

    # malformed JSON: 400, the detail names line and column
    for content, line in [(b'{"body": "hi"', 1), (b'{\n  "body": "hi",\n}', 3), (b"{\n\n  body: 1}", 3)]:
        p = assert_problem(post_raw_message(c, cl["token"], cid, content), 400, "malformed-json")
        assert re.search(rf"\bline {line}\b", p["detail"]) and "column" in p["detail"], (content, p)
    for content in (b"", b"[]", b'"hi"', b"null", b'{"body": "hi", "body": "twice"}',
                    b'{"body": "\xff\xfe"}', b'{"body": "\xc3"}', b'{"body": "a\\u0000b"}'):
        assert_problem(post_raw_message(c, cl["token"], cid, content), 400, "malformed-json")

    # not sent as JSON: 415
    ok = raw_json({"body": "hi"})
    for ct in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx", None):
        assert_problem(post_raw_message(c, cl["token"], cid, ok, ct), 415, "unsupported-media-type")

    # larger than 64 KiB: 413, even when every character would count
    assert_problem(post_raw_message(c, cl["token"], cid, raw_json({"body": "x" * 70000})), 413, "body-too-large")
    big = b'{"body": "' + b"x" * (65536 - 11) + b'"}'
    assert len(big) == 65537
    assert_problem(post_raw_message(c, cl["token"], cid, big), 413, "body-too-large")
    # 10000 emoji escaped as \ud83d\ude00 pairs is 120 kB on the wire
    assert_problem(c.post(url, json={"body": "😀" * 10000}, headers=h), 413, "body-too-large")

    # nothing of that was stored, for anyone
    for who in (cl, talk["engineer"], talk["admin"]):
        assert messages_page(c, who["token"], cid) == {"items": [], "next_cursor": None}
    v = [x for x in conversations(c, talk["engineer"]["token"]) if x["id"] == cid][0]
    assert (v["unread"], v["last_message"], v["last_message_at"]) == (0, None, None)
    assert talk["srv"].proc.poll() is None


def test_up_to_10000_characters_of_any_script_are_stored_exactly(talk):
    c, cid, cl, en = talk["c"], talk["cid"], talk["client"], talk["engineer"]
    bodies = [
        chars(10000),                  # the limit counts characters, not bytes (~25 kB here)
        "😀" * 10000,                   # 40000 bytes
        "x" * 10000,
        "y",
        "line one\nline two\r\n\ttabbed",
        'quotes " and \\ backslashes \\" and </script><script>alert(1)</script> & &amp;',
        "עברית ومرحبا 中文 Ελληνικά 👩‍👩‍👧‍👦 e\u0301",  # RTL, CJK, a ZWJ sequence, a combining accent
        "   spaces kept   ",
    ]
    sent = []
    for i, b in enumerate(bodies):
        who = (cl, en)[i % 2]
        r = post_raw_message(c, who["token"], cid, raw_json({"body": b}), "application/json; charset=utf-8")
        assert r.status_code == 201, (i, r.text[:300])
        m = r.json()
        assert r.headers["location"].startswith(f"{CONVERSATIONS}/{cid}/messages"), r.headers["location"]
        assert (m["body"], m["sender_id"], m["conversation_id"]) == (b, who["id"], cid), i
        sent.append(m)
    # escaped JSON is the same text
    r = c.post(f"{CONVERSATIONS}/{cid}/messages", json={"body": chars(4000)}, headers=bearer(en["token"]))
    assert r.status_code == 201 and r.json()["body"] == chars(4000), r.text[:300]
    sent.append(r.json())
    got, _ = all_messages(c, en["token"], cid)
    assert got == sent
    assert [len(m["body"]) for m in got[:3]] == [10000, 10000, 10000]
    sane(got)


def test_last_message_is_the_whole_message(talk):
    c, cid, cl, en = talk["c"], talk["cid"], talk["client"], talk["engineer"]
    m = post_message(c, cl["token"], cid, chars(1000))
    for who in (cl, en, talk["admin"]):
        v = [x for x in conversations(c, who["token"]) if x["id"] == cid][0]
        assert v["last_message"] == m, (who["email"], len(v["last_message"]["body"]))


def test_a_message_is_not_mangled_on_the_way(talk):
    """Control characters: the contract asks only for valid UTF-8, so either
    the text is stored exactly or the field is refused (422 naming body);
    never stored cut or changed."""
    c, cid, cl = talk["c"], talk["cid"], talk["client"]
    stored = []
    for b in ("bell \u0007 ring", "esc \u001b[31m red", "del \u007f", "nbsp\u00a0and bom \ufeff", "\u2028sep"):
        r = post_raw_message(c, cl["token"], cid, raw_json({"body": b}))
        if r.status_code == 201:
            assert r.json()["body"] == b
            stored.append(r.json())
        else:
            assert_problem(r, 422, "validation", ["body"])
    assert all_messages(c, cl["token"], cid)[0] == stored
