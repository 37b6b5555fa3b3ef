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


# ---- refunds ------------------------------------------------------------------------------


def post(client, path, data, key, secret=SECRET, timeout=None):
    headers = {"Authorization": f"Bearer {secret}", "Stripe-Version": "2024-06-20"}
    if key is not None:
        headers["Idempotency-Key"] = key
    extra = {} if timeout is None else {"timeout": timeout}
    return client.post(path, data=data, headers=headers, **extra)


def refund(client, pi, amount=5000, key="r1", **kw):
    data = {"payment_intent": pi, "amount": str(amount), "metadata[opx_refund_id]": "ref_1"}
    data.update(kw.pop("extra", {}))
    return post(client, "/v1/refunds", data, key, **kw)


def charged(client, key="c1", amount=5000, currency="usd"):
    r = charge(client, key=key, amount=amount, currency=currency)
    assert r.status_code == 200
    return r.json()


def test_full_refund_succeeds_and_is_recorded(fake, client):
    pi = charged(client)
    r = refund(client, pi["id"], extra={"reason": "requested_by_customer"})
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    b = r.json()
    assert b["id"].startswith("re_") and abs(b["created"] - time.time()) < 5
    assert b == {"id": b["id"], "object": "refund", "amount": 5000, "currency": "usd",
                 "payment_intent": pi["id"], "charge": pi["latest_charge"], "status": "succeeded",
                 "metadata": {"opx_refund_id": "ref_1"}, "created": b["created"],
                 "reason": "requested_by_customer"}
    assert fake.refunds == 1 and fake.charges == 1 and fake.transfers == 0
    assert fake.refund_list == [{"id": b["id"], "payment_intent": pi["id"], "amount": 5000, "currency": "usd",
                                 "status": "succeeded", "metadata": {"opx_refund_id": "ref_1"},
                                 "idempotency_key": "r1"}]
    assert fake.log[-1]["status"] == 200 and fake.log[-1]["outcome"] == "refunded"


def test_partial_refund_takes_the_intents_currency_and_reason_defaults_to_null(fake, client):
    pi = charged(client, amount=700, currency="eur")
    r = refund(client, pi["id"], amount=300)
    assert r.status_code == 200
    b = r.json()
    assert (b["amount"], b["currency"], b["reason"], b["status"]) == (300, "eur", None, "succeeded")
    assert fake.refunds == 1 and fake.refund_list[0]["amount"] == 300


def test_partial_refunds_up_to_the_amount_then_amount_too_large(fake, client):
    pi = charged(client)["id"]
    assert refund(client, pi, amount=2000, key="p1").status_code == 200
    r = refund(client, pi, amount=4000, key="p2")
    assert r.status_code == 400
    assert r.json() == {"error": {"type": "invalid_request_error", "code": "amount_too_large", "param": "amount",
                                  "message": "Refund amount ($40.00) is greater than unrefunded amount "
                                             "on charge ($30.00)"}}
    assert refund(client, pi, amount=3000, key="p3").status_code == 200
    r = refund(client, pi, amount=1, key="p4")
    assert r.status_code == 400 and r.json()["error"]["code"] == "amount_too_large"
    assert r.json()["error"]["message"] == ("Refund amount ($0.01) is greater than unrefunded amount "
                                            "on charge ($0.00)")
    assert fake.refunds == 2 and sum(x["amount"] for x in fake.refund_list) == 5000
    # decided after validation, so stored: the same key replays it
    again = refund(client, pi, amount=1, key="p4")
    assert again.content == r.content and again.headers["Idempotent-Replayed"] == "true"


def test_refund_amount_too_large_in_a_zero_decimal_currency(fake, client):
    pi = charged(client, amount=500, currency="jpy")["id"]
    r = refund(client, pi, amount=501)
    assert r.json()["error"]["message"] == "Refund amount ($501) is greater than unrefunded amount on charge ($500)"


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_refund_status_is_echoed(fake, client, status):
    pi = charged(client)["id"]
    fake.refund_status = status
    r = refund(client, pi, amount=1000)
    assert r.status_code == 200 and r.json()["status"] == status
    assert fake.refund_list[0]["status"] == status and fake.refunds == 1


def test_failed_refunds_do_not_count_against_the_refundable_amount(fake, client):
    pi = charged(client)["id"]
    fake.refund_status = "failed"
    assert refund(client, pi, amount=5000, key="f1").status_code == 200
    fake.refund_status = "pending"
    assert refund(client, pi, amount=5000, key="f2").status_code == 200
    assert refund(client, pi, amount=1, key="f3").json()["error"]["code"] == "amount_too_large"
    assert fake.refunds == 2


def test_refund_set_status_changes_the_record_not_the_replay(fake, client):
    pi = charged(client)["id"]
    fake.refund_status = "pending"
    first = refund(client, pi, amount=5000, key="s")
    rid = first.json()["id"]
    fake.refund_set_status(rid, "failed")
    assert fake.refund_list[0]["status"] == "failed"
    again = refund(client, pi, amount=5000, key="s")
    assert again.content == first.content and again.json()["status"] == "pending"
    # the failed refund no longer holds the amount
    assert refund(client, pi, amount=5000, key="s2").status_code == 200
    assert fake.refunds == 2
    with pytest.raises(KeyError):
        fake.refund_set_status("re_nope", "succeeded")


def test_get_refund_reads_its_current_status(fake, client):
    pi = charged(client)["id"]
    fake.refund_status = "pending"
    rid = refund(client, pi, amount=3000, key="g").json()["id"]
    auth = {"Authorization": f"Bearer {SECRET}"}
    r = client.get(f"/v1/refunds/{rid}", headers=auth)
    assert r.status_code == 200
    assert r.json() == {"id": rid, "object": "refund", "amount": 3000, "currency": "usd", "payment_intent": pi,
                        "status": "pending", "metadata": {"opx_refund_id": "ref_1"}}
    fake.refund_set_status(rid, "succeeded")
    assert client.get(f"/v1/refunds/{rid}", headers=auth).json()["status"] == "succeeded"
    assert fake.refunds == 1 and [x["method"] for x in fake.log].count("GET") == 2


def test_get_refund_checks_auth_knows_only_its_refunds_and_takes_injected_failures(fake, client):
    pi = charged(client)["id"]
    rid = refund(client, pi, key="g2").json()["id"]
    assert client.get(f"/v1/refunds/{rid}").status_code == 401
    auth = {"Authorization": f"Bearer {SECRET}"}
    r = client.get("/v1/refunds/re_nope", headers=auth)
    assert r.status_code == 404 and r.json()["error"]["code"] == "resource_missing"
    assert client.get("/v1/refunds", headers=auth).status_code == 404
    fake.fail_next(1, 503)
    assert client.get(f"/v1/refunds/{rid}", headers=auth).status_code == 503
    assert client.get(f"/v1/refunds/{rid}", headers=auth).status_code == 200


def test_refund_of_an_intent_not_charged_is_resource_missing(fake, client):
    declined = charge(client, key="d", pm="pm_card_chargeDeclined").json()["error"]["payment_intent"]["id"]
    for pi in ("pi_x", declined):
        r = refund(client, pi, key="u" + pi)
        assert r.status_code == 400
        assert r.json() == {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                      "param": "payment_intent", "message": f"No such payment_intent: '{pi}'"}}
    again = refund(client, "pi_x", key="upi_x")  # stored, like an unknown payment method
    assert again.status_code == 400 and again.headers["Idempotent-Replayed"] == "true"
    assert fake.refunds == 0


def test_refund_replay_is_counted_once(fake, client):
    pi = charged(client)["id"]
    first = refund(client, pi, amount=1500, key="rr")
    again = refund(client, pi, amount=1500, key="rr")
    assert first.status_code == again.status_code == 200 and again.content == first.content
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert fake.refunds == 1 and fake.by_key == {"c1": 1, "rr": 2}
    assert [e["outcome"] for e in fake.log] == ["charged", "refunded", "replayed"]


def test_refund_same_key_other_amount_is_idempotency_error(fake, client):
    pi = charged(client)["id"]
    assert refund(client, pi, amount=1500, key="ra").status_code == 200
    r = refund(client, pi, amount=1600, key="ra")
    assert r.status_code == 400 and r.json()["error"]["type"] == "idempotency_error"
    assert fake.refunds == 1


def test_keys_are_global_across_paths(fake, client):
    pi = charged(client, key="g")["id"]
    r = refund(client, pi, key="g")
    assert r.status_code == 400 and r.json()["error"]["type"] == "idempotency_error"
    assert "/v1/refunds" in r.json()["error"]["message"] and "/v1/payment_intents" in r.json()["error"]["message"]
    r = transfer(client, key="g")
    assert r.status_code == 400 and r.json()["error"]["type"] == "idempotency_error"
    assert refund(client, pi, key="g2").status_code == 200
    r = transfer(client, key="g2")
    assert r.status_code == 400 and r.json()["error"]["type"] == "idempotency_error"
    assert charge(client, key="g").headers["Idempotent-Replayed"] == "true"
    assert (fake.charges, fake.refunds, fake.transfers) == (1, 1, 0)


@pytest.mark.parametrize("data,param,code", [
    ({"amount": "5000"}, "payment_intent", "parameter_missing"),
    ({"payment_intent": None}, "amount", "parameter_missing"),
    ({"payment_intent": None, "amount": "0"}, "amount", "parameter_invalid_integer"),
    ({"payment_intent": None, "amount": "12.5"}, "amount", "parameter_invalid_integer"),
])
def test_refund_validation_errors_are_not_stored(fake, client, data, param, code):
    pi = charged(client)["id"]
    data = {k: (pi if v is None else v) for k, v in data.items()}
    r = post(client, "/v1/refunds", data, "v")
    assert r.status_code == 400
    err = r.json()["error"]
    assert (err["type"], err["param"], err["code"]) == ("invalid_request_error", param, code)
    r = refund(client, pi, key="v")  # nothing stored for "v": the fixed request refunds
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    assert fake.refunds == 1 and fake.by_key == {"c1": 1, "v": 2}


def test_refund_delay_timeout_then_retry_refunds_once(fake, client):
    pi = charged(client)["id"]
    fake.delay(0.5)
    with pytest.raises(httpx.ReadTimeout):
        refund(client, pi, key="dl", timeout=0.1)
    fake.delay(0)
    r = refund(client, pi, key="dl")
    assert r.status_code == 200 and r.headers["Idempotent-Replayed"] == "true"
    assert fake.refunds == 1


# ---- transfers -----------------------------------------------------------------------------


def transfer(client, key="t1", amount=2500, currency="usd", destination="acct_1Dev", extra=None, **kw):
    data = {"amount": str(amount), "currency": currency, "transfer_group": "mst_1",
            "metadata[opx_payout_id]": "po_1"}
    if destination is not None:
        data["destination"] = destination
    data.update(extra or {})
    return post(client, "/v1/transfers", data, key, **kw)


def test_transfer_succeeds_and_is_recorded(fake, client):
    r = transfer(client, extra={"description": "Payout 1"})
    assert r.status_code == 200
    b = r.json()
    assert b["id"].startswith("tr_") and abs(b["created"] - time.time()) < 5
    assert b == {"id": b["id"], "object": "transfer", "amount": 2500, "currency": "usd", "destination": "acct_1Dev",
                 "transfer_group": "mst_1", "description": "Payout 1", "metadata": {"opx_payout_id": "po_1"},
                 "reversed": False, "amount_reversed": 0, "created": b["created"], "livemode": False}
    assert fake.transfers == 1 and fake.charges == 0 and fake.refunds == 0
    assert fake.transfer_list == [{"id": b["id"], "amount": 2500, "currency": "usd", "destination": "acct_1Dev",
                                   "transfer_group": "mst_1", "metadata": {"opx_payout_id": "po_1"},
                                   "idempotency_key": "t1"}]
    assert fake.log[0]["outcome"] == "transferred"


def test_transfer_without_group_or_description_has_nulls(fake, client):
    r = post(client, "/v1/transfers", {"amount": "1", "currency": "gbp", "destination": "acct_2"}, "t")
    b = r.json()
    assert r.status_code == 200 and (b["transfer_group"], b["description"], b["metadata"]) == (None, None, {})
    assert fake.transfer_list[0]["transfer_group"] is None


def test_transfer_replay_is_counted_once(fake, client):
    first = transfer(client, key="tr")
    again = transfer(client, key="tr")
    assert first.status_code == again.status_code == 200 and again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert fake.transfers == 1 and fake.by_key == {"tr": 2}
    r = transfer(client, key="tr", amount=2600)
    assert r.status_code == 400 and r.json()["error"]["type"] == "idempotency_error"
    assert fake.transfers == 1


@pytest.mark.parametrize("dest", ["acct_missing", "ba_123", "x"])
def test_transfer_to_a_missing_destination(fake, client, dest):
    r = transfer(client, key="m", destination=dest)
    assert r.status_code == 400
    assert r.json() == {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                  "param": "destination", "message": f"No such destination: '{dest}'"}}
    again = transfer(client, key="m", destination=dest)  # stored like a decline
    assert again.content == r.content and again.headers["Idempotent-Replayed"] == "true"
    assert fake.transfers == 0


def test_transfer_with_insufficient_balance(fake, client):
    r = transfer(client, key="i", destination="acct_insufficient")
    assert r.status_code == 400
    assert r.json() == {"error": {"type": "invalid_request_error", "code": "balance_insufficient",
                                  "message": "You have insufficient available funds in your Stripe account."}}
    again = transfer(client, key="i", destination="acct_insufficient")
    assert again.content == r.content and again.headers["Idempotent-Replayed"] == "true"
    # another key to a good destination goes through
    assert transfer(client, key="i2").status_code == 200
    assert fake.transfers == 1


@pytest.mark.parametrize("kw,param,code", [
    ({"destination": None}, "destination", "parameter_missing"),
    ({"destination": ""}, "destination", "parameter_missing"),
    ({"currency": "USD"}, "currency", "parameter_invalid"),
    ({"currency": "usdx"}, "currency", "parameter_invalid"),
    ({"amount": "-5"}, "amount", "parameter_invalid_integer"),
])
def test_transfer_validation_errors_are_not_stored(fake, client, kw, param, code):
    r = transfer(client, key="tv", **kw)
    assert r.status_code == 400
    err = r.json()["error"]
    assert (err["type"], err["param"], err["code"]) == ("invalid_request_error", param, code)
    r = transfer(client, key="tv")
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    assert fake.transfers == 1


def test_transfer_missing_currency(fake, client):
    r = post(client, "/v1/transfers", {"amount": "10", "destination": "acct_1"}, "tc")
    assert r.status_code == 400 and r.json()["error"]["code"] == "parameter_missing"
    assert r.json()["error"]["param"] == "currency" and fake.transfers == 0


def test_transfer_fail_next_then_retry_transfers_once(fake, client):
    fake.fail_next(1, 503)
    r = transfer(client, key="tf")
    assert r.status_code == 503 and r.json()["error"]["type"] == "api_error"
    assert fake.transfers == 0
    r = transfer(client, key="tf")
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    assert transfer(client, key="tf").headers["Idempotent-Replayed"] == "true"
    assert fake.transfers == 1 and fake.by_key == {"tf": 3}


def test_transfer_hang_next_then_retry_transfers_once(fake, client):
    fake.hang_next(1)
    with pytest.raises(httpx.ReadTimeout):
        transfer(client, key="th", timeout=0.2)
    assert fake.transfers == 0
    r = transfer(client, key="th")
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers
    assert fake.transfers == 1 and fake.by_key == {"th": 2}
    assert [e["outcome"] for e in fake.log] == ["hang", "transferred"]


@pytest.mark.parametrize("path", ["/v1/refunds", "/v1/transfers"])
@pytest.mark.parametrize("secret", ["sk_test_wrong", None])
def test_auth_is_checked_on_refunds_and_transfers(fake, client, path, secret):
    pi = charged(client)["id"]
    data = ({"payment_intent": pi, "amount": "100"} if path == "/v1/refunds"
            else {"amount": "100", "currency": "usd", "destination": "acct_1"})
    headers = {"Idempotency-Key": "a"}
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    r = client.post(path, data=data, headers=headers)
    assert r.status_code == 401 and r.json()["error"]["type"] == "invalid_request_error"
    assert (fake.refunds, fake.transfers) == (0, 0)
    assert post(client, path, data, "a").status_code == 200  # a 401 is not stored
    assert fake.refunds + fake.transfers == 1


def test_subpaths_stay_unknown(fake, client):
    for path in ("/v1/refunds/re_1", "/v1/transfers/tr_1/reversals", "/v1/payouts"):
        r = post(client, path, {"amount": "1"}, None)
        assert r.status_code == 404 and r.json()["error"]["type"] == "invalid_request_error"


def test_reset_forgets_refunds_and_transfers(fake, client):
    pi = charged(client)["id"]
    fake.refund_status = "pending"
    assert refund(client, pi, key="rz").status_code == 200
    assert transfer(client, key="tz").status_code == 200
    fake.reset()
    assert (fake.refunds, fake.transfers, fake.refund_list, fake.transfer_list) == (0, 0, [], [])
    assert fake.refund_status == "succeeded"
    r = refund(client, pi, key="rz")  # the intent is forgotten too
    assert r.status_code == 400 and r.json()["error"]["code"] == "resource_missing"
    r = transfer(client, key="tz")
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers


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
