"""The stripe gateway adapter against the fake Stripe (tests/fakes): a charge
is one PaymentIntent with the client's key turned into Stripe's
Idempotency-Key; 5xx and timeouts are retried with that same key and charge
once; a declined card is a final 402; a Stripe that keeps failing opens the
circuit (503 at once, Stripe not called); a charge whose answer was lost is
recorded from the signed webhook, and the client's retry then gets the
funded milestone without a second charge; bad signatures change nothing."""
import json
import pathlib
import sys
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "fakes"))
from stripe_fake import StripeFake  # noqa: E402

from moneytest import active_contract, new_key  # noqa: E402
from opxtest import assert_problem, bearer, demo_login, demo_server, metric  # noqa: E402

WEBHOOK = "/api/v1/webhooks/stripe"


@pytest.fixture
def stripe(spawn, tmp_path_factory, monkeypatch):
    fake = StripeFake().start()
    for k, v in fake.env().items():
        monkeypatch.setenv(k, v)
    srv = spawn("--login-ip-burst", "1000", *fake.server_args(), "--stripe-timeout", "400",
                workdir=_seeded(tmp_path_factory))
    c = srv.client()
    admin, cl = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    yield {"fake": fake, "srv": srv, "c": c, "admin": admin, "client": cl}
    fake.stop()


def _seeded(tmp_path_factory):
    from opxtest import seeded_workdir
    return seeded_workdir(tmp_path_factory)


def fund(env, mid, key, pm="pm_card_visa"):
    return env["c"].post(f"/api/v1/milestones/{mid}/fund", json={"payment_method": pm},
                         headers={**bearer(env["client"]["token"]), "Idempotency-Key": key})


def milestone(env, kid, i=0):
    r = env["c"].get(f"/api/v1/contracts/{kid}", headers=bearer(env["client"]["token"]))
    assert r.status_code == 200, r.text
    return r.json()["milestones"][i]


def test_a_charge_is_one_payment_intent_and_a_replay_never_reaches_stripe(stripe):
    fake = stripe["fake"]
    k, _ = active_contract(stripe["c"], stripe["admin"], stripe["client"], amounts=(150000, 50000))
    mid, key = k["milestones"][0]["id"], new_key()
    r = fund(stripe, mid, key)
    assert r.status_code == 200 and r.json()["status"] == "funded", r.text
    assert fake.charges == 1 and fake.requests == 1
    [ch] = fake.charge_list
    assert (ch["amount"], ch["currency"], ch["payment_method"]) == (150000, "usd", "pm_card_visa")
    assert ch["metadata"]["opx_milestone_id"] == mid and ch["metadata"]["opx_payment_id"].startswith("pay_")
    assert ch["idempotency_key"] == f"fund:{mid}:{key}"
    log = fake.log[-1]
    assert log["headers"]["authorization"] == f"Bearer {fake.secret}" and log["headers"]["stripe-version"]
    again = fund(stripe, mid, key)
    assert (again.status_code, again.content) == (200, r.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert fake.requests == 1, "a replay is answered from our own table"


def test_5xx_is_retried_with_the_same_key_and_charges_once(stripe):
    fake = stripe["fake"]
    k, _ = active_contract(stripe["c"], stripe["admin"], stripe["client"])
    mid = k["milestones"][0]["id"]
    fake.fail_next(2, 503)
    r = fund(stripe, mid, new_key())
    assert r.status_code == 200, r.text
    keys = [x["key"] for x in fake.log]
    assert len(keys) == 3 and len(set(keys)) == 1, keys  # three attempts, one Stripe key
    assert fake.charges == 1
    assert metric(stripe["c"], "opx_gateway_retries_total", 'gateway="stripe"') == 2


def test_a_declined_card_is_a_final_402(stripe):
    fake = stripe["fake"]
    k, _ = active_contract(stripe["c"], stripe["admin"], stripe["client"])
    mid, key = k["milestones"][0]["id"], new_key()
    r = fund(stripe, mid, key, pm="pm_card_chargeDeclined")
    assert_problem(r, 402, "payment-declined")
    assert "card_declined" in r.json()["detail"] and fake.charges == 0
    assert milestone(stripe, k["id"])["status"] == "pending"
    assert fund(stripe, mid, key, pm="pm_card_chargeDeclined").status_code == 402
    assert fake.requests == 1, "the decline is replayed from our table"


def test_timeouts_answer_503_and_a_retry_with_the_key_charges_once(stripe):
    fake = stripe["fake"]
    k, _ = active_contract(stripe["c"], stripe["admin"], stripe["client"])
    mid, key = k["milestones"][0]["id"], new_key()
    fake.hang_next(3)
    r = fund(stripe, mid, key)
    assert_problem(r, 503, "gateway-unavailable")
    assert r.headers["retry-after"] and fake.charges == 0
    assert milestone(stripe, k["id"])["status"] == "pending"
    # the client retries with its key: the same Stripe key, charged once, funded
    r = fund(stripe, mid, key)
    assert r.status_code == 200 and r.json()["status"] == "funded", r.text
    assert fake.charges == 1 and len({x["key"] for x in fake.log}) == 1


def test_the_circuit_opens_after_repeated_failures_and_stripe_is_not_called(stripe):
    fake = stripe["fake"]
    c, admin, cl = stripe["c"], stripe["admin"], stripe["client"]
    mids = []
    for _ in range(3):
        k, _ = active_contract(c, admin, cl, amounts=(1000, 1000, 1000))
        mids += [m["id"] for m in k["milestones"]]
    fake.fail_next(100, 500)
    for mid in mids[:5]:  # five charges fail after their retries: the circuit opens
        assert_problem(fund(stripe, mid, new_key()), 503, "gateway-unavailable")
    assert metric(c, "opx_gateway_breaker_state") == 1
    seen = fake.requests
    t0 = time.monotonic()
    assert_problem(fund(stripe, mids[5], new_key()), 503, "gateway-unavailable")
    assert fake.requests == seen, "an open circuit does not call Stripe"
    assert time.monotonic() - t0 < 0.5
    assert fake.charges == 0


def test_a_lost_answer_is_recorded_from_the_signed_webhook(stripe):
    fake, c = stripe["fake"], stripe["c"]
    k, _ = active_contract(c, stripe["admin"], stripe["client"])
    mid, key = k["milestones"][0]["id"], new_key()
    fake.hang_next(3)
    assert fund(stripe, mid, key).status_code == 503
    pid = fake.log[-1]["form"]["metadata[opx_payment_id]"]
    payload, sig = fake.webhook("payment_intent.succeeded",
                                {"id": "pi_late", "object": "payment_intent", "status": "succeeded",
                                 "metadata": {"opx_payment_id": pid, "opx_milestone_id": mid}})
    r = c.post(WEBHOOK, content=payload, headers={"Stripe-Signature": sig, "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json() == {"received": True, "applied": True}, r.text
    m = milestone(stripe, k["id"])
    assert (m["status"], m["escrow"]) == ("funded", m["amount"])
    # the same event again moves nothing; the client's retry gets the funded milestone without a charge
    r = c.post(WEBHOOK, content=payload, headers={"Stripe-Signature": sig, "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["applied"] is False
    seen = fake.requests
    r = fund(stripe, mid, key)
    assert r.status_code == 200 and r.json()["status"] == "funded", r.text
    assert fake.requests == seen and fake.charges == 0


def test_webhooks_with_a_bad_signature_change_nothing(stripe):
    fake, c = stripe["fake"], stripe["c"]
    k, _ = active_contract(c, stripe["admin"], stripe["client"])
    mid = k["milestones"][0]["id"]
    fake.hang_next(3)
    fund(stripe, mid, new_key())
    pid = fake.log[-1]["form"]["metadata[opx_payment_id]"]
    obj = {"id": "pi_x", "object": "payment_intent", "status": "succeeded", "metadata": {"opx_payment_id": pid}}
    wrong, wrong_sig = fake.webhook("payment_intent.succeeded", obj, secret="whsec_not_ours")
    old, old_sig = fake.webhook("payment_intent.succeeded", obj, t=int(time.time()) - 600)
    good, good_sig = fake.webhook("payment_intent.succeeded", obj)
    tampered = good.replace(b'"pi_x"', b'"pi_y"')
    for body, sig in [(wrong, wrong_sig), (old, old_sig), (tampered, good_sig), (good, None), (good, "t=1"),
                      (good, "v1=abc"), (good, "garbage")]:
        h = {"Content-Type": "application/json"}
        if sig is not None:
            h["Stripe-Signature"] = sig
        r = c.post(WEBHOOK, content=body, headers=h)
        assert_problem(r, 400, "bad-signature", ["Stripe-Signature"])
    assert milestone(stripe, k["id"])["status"] == "pending"
    other, other_sig = fake.webhook("charge.refunded", {"id": "ch_1"})
    r = c.post(WEBHOOK, content=other, headers={"Stripe-Signature": other_sig, "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json() == {"received": True, "applied": False}
    assert json.loads(good)["type"] == "payment_intent.succeeded"


def test_without_a_webhook_secret_the_endpoint_is_404(spawn, tmp_path_factory, monkeypatch):
    monkeypatch.delenv("OPX_STRIPE_WEBHOOK_SECRET", raising=False)
    srv = demo_server(spawn, tmp_path_factory)
    r = srv.client().post(WEBHOOK, content=b"{}", headers={"Stripe-Signature": "t=1,v1=00",
                                                            "Content-Type": "application/json"})
    assert_problem(r, 404, "not-found")
