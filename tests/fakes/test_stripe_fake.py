"""Tests of the fake Stripe itself (tests/fakes/stripe_fake.py); no opx needed."""
import hashlib
import hmac
import json
import socket
import threading
import time

import httpx
import pytest

from stripe_fake import StripeFake, sign

SECRET = "sk_test_unit"
WHSEC = "whsec_unit"


@pytest.fixture
def fake():
    f = StripeFake(SECRET, WHSEC, slow_s=0.5, hang_max_s=5.0).start()
    yield f
    f.stop()


@pytest.fixture
def client(fake):
    with httpx.Client(base_url=fake.url, timeout=5.0) as c:
        yield c


def form(amount=5000, pm="pm_card_visa", currency="usd", **extra):
    d = {"amount": str(amount), "currency": currency, "payment_method": pm, "confirm": "true",
         "description": "Milestone 1", "metadata[opx_payment_id]": "pay_1",
         "metadata[opx_milestone_id]": "mst_1"}
    d.update(extra)
    return d


def charge(client, key="k1", secret=SECRET, timeout=None, **kw):
    headers = {"Authorization": f"Bearer {secret}", "Stripe-Version": "2024-06-20"}
    if key is not None:
        headers["Idempotency-Key"] = key
    extra = {} if timeout is None else {"timeout": timeout}
    return client.post("/v1/payment_intents", data=form(**kw), headers=headers, **extra)


# ---- charges and payment methods -----------------------------------------------------------


def test_visa_succeeds_and_is_recorded(fake, client):
    r = charge(client)
    assert r.status_code == 200
    b = r.json()
    assert b["object"] == "payment_intent" and b["status"] == "succeeded"
    assert b["id"].startswith("pi_") and b["amount"] == 5000 and b["currency"] == "usd"
    assert b["metadata"] == {"opx_payment_id": "pay_1", "opx_milestone_id": "mst_1"}
    assert fake.charges == 1 and fake.requests == 1 and fake.by_key == {"k1": 1}
    c = fake.charge_list[0]
    assert (c["id"], c["amount"], c["currency"], c["payment_method"]) == (b["id"], 5000, "usd", "pm_card_visa")
    assert c["metadata"] == {"opx_payment_id": "pay_1", "opx_milestone_id": "mst_1"}
    assert c["idempotency_key"] == "k1"
    e = fake.log[0]
    assert e["headers"]["stripe-version"] == "2024-06-20" and e["form"]["confirm"] == "true"
    assert e["status"] == 200 and e["outcome"] == "charged"


def test_declined_card(fake, client):
    r = charge(client, pm="pm_card_chargeDeclined")
    assert r.status_code == 402
    err = r.json()["error"]
    assert (err["type"], err["code"]) == ("card_error", "card_declined")
    assert err["message"] == "Your card was declined."
    assert fake.charges == 0 and fake.requests == 1


def test_unknown_payment_method_is_invalid_request(fake, client):
    r = charge(client, pm="pm_card_nonsense")
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert fake.charges == 0


def test_slow_card_answers_after_slow_s_and_charges(fake, client):
    t0 = time.monotonic()
    r = charge(client, pm="pm_card_slow")
    took = time.monotonic() - t0
    assert r.status_code == 200 and r.json()["status"] == "succeeded"
    assert 0.45 <= took < 2.0
    assert fake.charges == 1


def test_slow_card_timeout_then_retry_replays_without_second_charge(fake, client):
    with pytest.raises(httpx.ReadTimeout):
        charge(client, key="slow1", pm="pm_card_slow", timeout=0.1)
    t0 = time.monotonic()
    r = charge(client, key="slow1", pm="pm_card_slow")
    assert time.monotonic() - t0 < 0.4  # the replay does not wait again
    assert r.status_code == 200 and r.headers["Idempotent-Replayed"] == "true"
    assert fake.charges == 1 and fake.by_key == {"slow1": 2}


def test_validation_errors_are_400_and_not_stored(fake, client):
    assert charge(client, key="v", currency="USD").status_code == 400
    assert charge(client, key="v", amount="12.5").status_code == 400
    # nothing was stored for "v": a valid request with it now charges
    assert charge(client, key="v").status_code == 200
    assert fake.charges == 1 and fake.by_key == {"v": 3}


def test_unknown_path_is_404(fake, client):
    r = client.post("/v1/charges", data=form(), headers={"Authorization": f"Bearer {SECRET}"})
    assert r.status_code == 404 and r.json()["error"]["type"] == "invalid_request_error"
    assert fake.requests == 1 and fake.charges == 0


# ---- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk_test_wrong"},
                                     {"Authorization": SECRET}, {"Authorization": f"Basic {SECRET}"}])
def test_auth_is_checked(fake, client, headers):
    r = client.post("/v1/payment_intents", data=form(), headers={"Idempotency-Key": "a", **headers})
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert fake.charges == 0 and fake.requests == 1 and fake.by_key == {"a": 1}
    # a 401 is not stored: the same key with the right secret charges
    assert charge(client, key="a").status_code == 200
    assert fake.charges == 1


# ---- idempotency ---------------------------------------------------------------------------


def test_replay_returns_first_response_and_does_not_charge_twice(fake, client):
    first = charge(client, key="same")
    again = charge(client, key="same")
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert fake.charges == 1 and len(fake.charge_list) == 1
    assert fake.requests == 2 and fake.by_key == {"same": 2}
    assert [e["outcome"] for e in fake.log] == ["charged", "replayed"]


def test_replay_of_a_decline_is_the_decline(fake, client):
    first = charge(client, key="d", pm="pm_card_chargeDeclined")
    again = charge(client, key="d", pm="pm_card_chargeDeclined")
    assert first.status_code == again.status_code == 402 and again.content == first.content
    assert fake.charges == 0


def test_parameter_order_does_not_matter(fake, client):
    charge(client, key="o")
    body = "&".join(f"{k}={v}" for k, v in reversed(list(form().items())))
    r = client.post("/v1/payment_intents", content=body.replace("[", "%5B").replace("]", "%5D"),
                    headers={"Authorization": f"Bearer {SECRET}", "Idempotency-Key": "o",
                             "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and r.headers["Idempotent-Replayed"] == "true"
    assert fake.charges == 1


def test_reused_key_with_different_parameters_is_idempotency_error(fake, client):
    assert charge(client, key="k", amount=5000).status_code == 200
    r = charge(client, key="k", amount=6000)
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "idempotency_error"
    r = charge(client, key="k", pm="pm_card_chargeDeclined")
    assert r.status_code == 400 and r.json()["error"]["type"] == "idempotency_error"
    assert fake.charges == 1 and fake.by_key == {"k": 3}


def test_distinct_keys_charge_separately_and_no_key_always_charges(fake, client):
    charge(client, key="x1")
    charge(client, key="x2")
    charge(client, key=None)
    charge(client, key=None)
    assert fake.charges == 4 and fake.requests == 4 and fake.by_key == {"x1": 1, "x2": 1}
    assert len({c["id"] for c in fake.charge_list}) == 4


def test_concurrent_requests_with_one_key_charge_once(fake):
    results = []

    def go():
        with httpx.Client(base_url=fake.url, timeout=5.0) as c:
            results.append(charge(c, key="race"))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200] * 8
    assert len({r.json()["id"] for r in results}) == 1
    assert fake.charges == 1 and fake.by_key == {"race": 8}


# ---- failure injection ---------------------------------------------------------------------


def test_fail_next_answers_status_without_charging_then_recovers(fake, client):
    fake.fail_next(2)
    r1, r2 = charge(client, key="f"), charge(client, key="f")
    assert r1.status_code == r2.status_code == 500
    assert r1.json()["error"]["type"] == "api_error"
    r3 = charge(client, key="f")  # a retry with the same key now goes through
    assert r3.status_code == 200 and "Idempotent-Replayed" not in r3.headers
    assert fake.charges == 1 and fake.requests == 3 and fake.by_key == {"f": 3}
    assert [e["outcome"] for e in fake.log] == ["injected", "injected", "charged"]


@pytest.mark.parametrize("status,etype", [(429, "invalid_request_error"), (503, "api_error"),
                                          (409, "idempotency_error")])
def test_fail_next_with_status(fake, client, status, etype):
    fake.fail_next(1, status=status)
    r = charge(client)
    assert r.status_code == status and r.json()["error"]["type"] == etype
    assert fake.charges == 0
    assert charge(client).status_code == 200


def test_fail_next_with_body(fake, client):
    body = {"id": "pi_x", "object": "payment_intent", "status": "requires_action", "amount": 5000,
            "currency": "usd"}
    fake.fail_next(1, status=200, body=body)
    r = charge(client)
    assert r.status_code == 200 and r.json() == body
    assert fake.charges == 0


def test_injections_queue_in_order(fake, client):
    fake.fail_next(1, 502)
    fake.fail_next(1, 429)
    assert [charge(client).status_code for _ in range(3)] == [502, 429, 200]


def test_hang_next_never_answers_and_does_not_charge(fake, client):
    fake.hang_next(1)
    t0 = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        charge(client, key="h", timeout=0.2)
    assert time.monotonic() - t0 < 1.0
    r = charge(client, key="h")  # the retry is a fresh request: charged once
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    assert fake.charges == 1 and fake.by_key == {"h": 2}
    assert fake.log[0]["status"] is None and fake.log[0]["outcome"] == "hang"


def test_hang_closes_the_connection_after_hang_max_s(client, fake):
    fake.hang_max_s = 0.3
    fake.hang_next(1)
    t0 = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        charge(client, timeout=5.0)
    assert 0.25 <= time.monotonic() - t0 < 2.0
    assert fake.charges == 0


def test_stop_releases_a_hung_request_promptly():
    fake = StripeFake(SECRET, WHSEC).start()  # hang_max_s is the default 30 s
    fake.hang_next(1)
    errors = []

    def go():
        try:
            with httpx.Client(base_url=fake.url, timeout=10.0) as c:
                charge(c)
        except httpx.HTTPError as e:
            errors.append(e)

    t = threading.Thread(target=go)
    t.start()
    deadline = time.monotonic() + 2
    while fake.requests < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.requests == 1
    t0 = time.monotonic()
    fake.stop()
    assert time.monotonic() - t0 < 1.0
    t.join(2)
    assert not t.is_alive() and len(errors) == 1
    assert fake.charges == 0


def test_stop_releases_a_slow_request_promptly():
    fake = StripeFake(SECRET, WHSEC, slow_s=30).start()
    errors = []

    def go():
        try:
            with httpx.Client(base_url=fake.url, timeout=10.0) as c:
                charge(c, pm="pm_card_slow")
        except httpx.HTTPError as e:
            errors.append(e)

    t = threading.Thread(target=go)
    t.start()
    deadline = time.monotonic() + 2
    while fake.requests < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    t0 = time.monotonic()
    fake.stop()
    assert time.monotonic() - t0 < 1.0
    t.join(2)
    assert not t.is_alive() and len(errors) == 1
    assert fake.charges == 1  # the charge was made on arrival; only the answer was lost


def test_delay_holds_every_answer(fake, client):
    fake.delay(0.3)
    t0 = time.monotonic()
    assert charge(client, key="a").status_code == 200
    fake.fail_next(1, 503)
    assert charge(client, key="b").status_code == 503
    assert time.monotonic() - t0 >= 0.6
    fake.delay(0)
    t0 = time.monotonic()
    assert charge(client, key="c").status_code == 200
    assert time.monotonic() - t0 < 0.25


def test_delay_timeout_then_retry_is_charged_once(fake, client):
    fake.delay(0.5)
    with pytest.raises(httpx.ReadTimeout):
        charge(client, key="dl", timeout=0.1)
    fake.delay(0)
    r = charge(client, key="dl")
    assert r.status_code == 200 and r.headers["Idempotent-Replayed"] == "true"
    assert fake.charges == 1


def test_reset_forgets_everything(fake, client):
    charge(client, key="r")
    fake.fail_next(3)
    fake.delay(5)
    fake.reset()
    assert (fake.charges, fake.requests, fake.by_key, fake.charge_list, fake.log) == (0, 0, {}, [], [])
    r = charge(client, key="r")
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    assert fake.charges == 1


# ---- webhooks ------------------------------------------------------------------------------


def _verify(payload, header, secret, tolerance=300):
    parts = dict(p.split("=", 1) for p in header.split(","))
    t = int(parts["t"])
    want = hmac.new(secret.encode(), f"{t}.{payload.decode()}".encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, parts["v1"]) and abs(time.time() - t) <= tolerance


def test_webhook_is_a_signed_stripe_event(fake):
    obj = {"id": "pi_1", "object": "payment_intent", "metadata": {"opx_payment_id": "pay_1"}}
    payload, header = fake.webhook("charge.refunded", obj)
    assert isinstance(payload, bytes) and isinstance(header, str)
    ev = json.loads(payload)
    assert ev["id"].startswith("evt_") and ev["type"] == "charge.refunded"
    assert ev["data"] == {"object": obj} and abs(ev["created"] - time.time()) < 5
    assert header.startswith(f"t={ev['created']},v1=")
    assert _verify(payload, header, WHSEC)
    assert not _verify(payload + b" ", header, WHSEC)
    assert not _verify(payload, header, "whsec_other")


def test_webhook_with_wrong_secret_or_old_timestamp(fake):
    payload, header = fake.webhook("charge.dispute.created", {"id": "dp_1"}, secret="whsec_wrong")
    assert not _verify(payload, header, WHSEC) and _verify(payload, header, "whsec_wrong")
    old = int(time.time()) - 3600
    payload, header = fake.webhook("charge.refunded", {"id": "ch_1"}, t=old, event_id="evt_fixed")
    assert header.startswith(f"t={old},v1=") and json.loads(payload)["id"] == "evt_fixed"
    assert not _verify(payload, header, WHSEC)  # outside the tolerance
    assert _verify(payload, header, WHSEC, tolerance=10**9)  # but correctly signed
    assert header == sign(payload, WHSEC, old)


# ---- life ------------------------------------------------------------------------------------


def _conns_to(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_stop_leaves_no_thread_or_socket_behind():
    before = set(threading.enumerate())
    fake = StripeFake(SECRET, WHSEC).start()
    port = fake.port
    assert port != 0 and fake.url == f"http://127.0.0.1:{port}"
    c = httpx.Client(base_url=fake.url, timeout=5.0)  # an idle keep-alive connection stays open
    assert charge(c).status_code == 200
    assert charge(c, key="k2").status_code == 200
    fake.stop()
    assert set(threading.enumerate()) - before == set()
    assert not _conns_to(port)
    fake.stop()  # idempotent
    c.close()


def test_restart_keeps_port_and_state(client, fake):
    assert charge(client, key="p").status_code == 200
    port = fake.port
    fake.stop()
    with pytest.raises(httpx.TransportError):
        charge(client, key="p")
    fake.start()
    assert fake.port == port
    r = charge(client, key="p")
    assert r.status_code == 200 and r.headers["Idempotent-Replayed"] == "true"
    assert fake.charges == 1


def test_context_manager_and_opx_wiring():
    with StripeFake("sk_test_a", "whsec_b") as fake:
        assert fake.server_args() == ["--gateway", "stripe", "--stripe-api-base", fake.url]
        assert fake.env() == {"OPX_STRIPE_SECRET_KEY": "sk_test_a", "OPX_STRIPE_WEBHOOK_SECRET": "whsec_b"}
        assert _conns_to(fake.port)
    assert not _conns_to(fake.port)
