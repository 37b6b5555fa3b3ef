"""Operations: /healthz, /readyz, /metrics (Prometheus text), request ids,
W3C traceparent, and the access log."""
import json
import re
import time

import pytest

from opxtest import PG_SERVER, bearer, signed_in


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["content-type"].startswith("application/json")


def test_readyz(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert {k: body[k] for k in ("status", "database")} == {"status": "ready", "database": "ok"}
    # SQLite: the writer and two readers, and none of them breaks
    assert body["pool"] >= 2 and body["connections"] == body["pool"], body
    assert r.headers["cache-control"] == "no-store"


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)?\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')


def parse_metrics(text):
    """{(name, labels-string): value}, checking the exposition format."""
    samples, types = {}, {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert name not in types, f"duplicate TYPE for {name}"
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        key = (m.group(1), m.group(3) or "")
        assert key not in samples, f"duplicate sample {line!r}"
        samples[key] = float(m.group(4))
    return samples, types


def test_metrics_are_prometheus_text(client):
    client.get("/healthz")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "version=0.0.4" in r.headers["content-type"]
    text = r.text
    samples, types = parse_metrics(text)
    assert 'opx_http_requests_total{route="/healthz",status="200"}' in text
    assert samples[("opx_http_requests_total", 'route="/healthz",status="200"')] >= 1
    assert "opx_http_request_duration_seconds_bucket" in text
    assert types["opx_http_request_duration_seconds"] == "histogram"
    assert types["opx_http_requests_total"] == "counter"
    assert ("opx_http_requests_in_flight", "") in samples
    assert samples[("opx_http_requests_in_flight", "")] >= 1  # this very request
    assert ("opx_event_loop_lag_seconds", "") in samples
    assert types["opx_event_loop_lag_seconds"] == "gauge"
    # the store's pool and what it refused, from the start
    for name in ("refused", "expired", "retries", "reconnects"):
        assert types[f"opx_store_{name}_total"] == "counter"
        # PostgreSQL retries what SERIALIZABLE refused; SQLite never has to
        assert samples[(f"opx_store_{name}_total", "")] == 0 or (PG_SERVER and name == "retries")
    assert samples[("opx_store_connections", "")] == samples[("opx_store_pool_size", "")] >= 2
    # histogram sanity: cumulative buckets, +Inf equals count
    b = {k[1]: v for k, v in samples.items() if k[0] == "opx_http_request_duration_seconds_bucket"
         and k[1].startswith('route="/healthz"')}
    les = sorted(((float(re.search(r'le="([^"]+)"', k).group(1).replace("+Inf", "inf")), v) for k, v in b.items()))
    assert [v for _, v in les] == sorted(v for _, v in les)
    assert les[-1][0] == float("inf")
    assert les[-1][1] == samples[("opx_http_request_duration_seconds_count", 'route="/healthz"')]


def test_metrics_count_by_route_and_status(client):
    def count(route, status):
        s, _ = parse_metrics(client.get("/metrics").text)
        return s.get(("opx_http_requests_total", f'route="{route}",status="{status}"'), 0)

    before = count("/api/v1/me", 401)
    for _ in range(3):
        client.get("/api/v1/me")
    assert count("/api/v1/me", 401) == before + 3
    before = count("static", 200)
    client.get("/")
    assert count("static", 200) == before + 1


def test_request_id_is_echoed(client):
    r = client.get("/healthz", headers={"X-Request-Id": "req-abc.123:XYZ_9"})
    assert r.headers["x-request-id"] == "req-abc.123:XYZ_9"
    r = client.get("/api/v1/me", headers={"X-Request-Id": "prob-1"})
    assert r.json()["request_id"] == "prob-1"


def test_request_id_is_generated_when_missing_or_unsafe(client):
    ids = set()
    for h in ({}, {"X-Request-Id": ""}, {"X-Request-Id": "has space"}, {"X-Request-Id": "x" * 65},
              {"X-Request-Id": "quote\"inject"}, {"X-Request-Id": "new\\nline"}):
        r = client.get("/healthz", headers=h)
        rid = r.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{16,64}", rid), (h, rid)
        ids.add(rid)
    assert len(ids) == 6


TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_traceparent_keeps_the_trace_with_a_new_span(client):
    r = client.get("/healthz", headers={"traceparent": TP})
    v, trace, span, flags = r.headers["traceparent"].split("-")
    assert (v, trace, flags) == ("00", "4bf92f3577b34da6a3ce929d0e0e4736", "01")
    assert re.fullmatch(r"[0-9a-f]{16}", span) and span != "00f067aa0ba902b7"
    r2 = client.get("/healthz", headers={"traceparent": TP})
    assert r2.headers["traceparent"].split("-")[2] != span
    # unsampled flag is kept
    r = client.get("/healthz", headers={"traceparent": TP[:-2] + "00"})
    assert r.headers["traceparent"].endswith("-00")


@pytest.mark.parametrize("tp", [
    "garbage",
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero parent
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
    "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",   # short
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version ff
    "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
])
def test_invalid_traceparent_starts_a_new_trace(client, tp):
    r = client.get("/healthz", headers={"traceparent": tp})
    v, trace, span, flags = r.headers["traceparent"].split("-")
    assert v == "00" and re.fullmatch(r"[0-9a-f]{32}", trace) and trace != "0" * 32
    assert trace != "4bf92f3577b34da6a3ce929d0e0e4736"


def test_every_response_gets_a_fresh_trace_when_none_is_sent(client):
    a = client.get("/healthz").headers["traceparent"].split("-")[1]
    b = client.get("/healthz").headers["traceparent"].split("-")[1]
    assert a != b


def _log_lines(server, since):
    time.sleep(0.15)  # the log writer flushes every 20 ms
    return server.log_text()[since:].splitlines()


def test_access_log_is_one_json_object_per_line(server, client):
    start = len(server.log_text())
    u = signed_in(client)
    client.get("/api/v1/me", headers={**bearer(u["token"]), "X-Request-Id": "log-probe-1",
                                      "traceparent": TP})
    client.get("/healthz", headers={"X-Request-Id": "log-probe-2"})
    lines = _log_lines(server, start)
    recs = [json.loads(ln) for ln in lines]
    me = [x for x in recs if x.get("request_id") == "log-probe-1"]
    assert len(me) == 1, lines
    me = me[0]
    assert me["msg"] == "request" and me["method"] == "GET" and me["path"] == "/api/v1/me"
    assert me["route"] == "/api/v1/me" and me["status"] == 200
    assert me["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert me["user_id"] == u["user"]["id"]
    assert u["token"] not in server.log_text()[start:], "the session token leaked into the log"
    assert u["password"] not in server.log_text()[start:], "the password leaked into the log"


def test_access_log_line_of_a_long_path_is_valid_json(server, client):
    """Regression: lines were cut at 1024 bytes into invalid JSON."""
    start = len(server.log_text())
    with server.raw() as c:  # raw: quotes and backslashes reach the log unencoded
        r = c.request("GET", "/nope/" + 'a"\\' * 2600, {"X-Request-Id": "long-path-log"})
        assert r.status == 404, r
    lines = [ln for ln in _log_lines(server, start) if "long-path-log" in ln]
    assert lines, "no access log line"
    for ln in lines:
        assert json.loads(ln)["path"] == "/nope/" + 'a"\\' * 2600
