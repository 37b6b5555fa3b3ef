"""The OpenAPI document itself: it matches the route table, the binary
serves the file in the tree, and it is internally sound."""
import json
import re
import subprocess

import pytest
from jsonschema import Draft202012Validator

from opxtest import OPENAPI_FILE, opx_bin

TRANSPORT_STATUSES = {"400", "408", "413", "414", "417", "431", "500", "503", "505"}


def route_table():
    out = subprocess.run([opx_bin(), "routes"], capture_output=True, text=True, timeout=10, check=True)
    rows = []
    for line in out.stdout.splitlines():
        parts = line.split()
        assert len(parts) >= 3, line
        rows.append({"method": parts[0], "path": parts[1], "roles": parts[2], "test_only": "test-only" in parts[3:]})
    assert rows, "opx routes printed nothing"
    return rows


def test_every_route_is_documented_and_nothing_else(contract):
    routes = {(r["method"], r["path"]) for r in route_table()}
    documented = {(m, p) for m, p, _ in contract.operations()}
    assert routes - documented == set(), "routes missing from openapi.json"
    assert documented - routes == set(), "openapi.json documents routes the server does not have"


def test_roles_body_limits_and_test_only_flags_agree(contract):
    ops = {(m, p): op for m, p, op in contract.operations()}
    for r in route_table():
        op = ops[(r["method"], r["path"])]
        assert op.get("x-roles") == r["roles"], (r, op.get("x-roles"))
        assert bool(op.get("x-test-only")) == r["test_only"], r
        if r["roles"] == "anyone":
            assert op.get("security") == [], f"{r['path']} is public: security must be []"
        else:
            assert op.get("security"), f"{r['path']} needs credentials: document security"
            schemes = {k for req in op["security"] for k in req}
            assert {"bearerAuth", "cookieAuth"} <= schemes
            assert "401" in op["responses"], r
            if r["method"] not in ("GET", "HEAD"):
                assert any(set(req) == {"cookieAuth", "csrfToken"} for req in op["security"]), r
                assert "403" in op["responses"], r


def test_served_document_is_the_file_in_the_tree(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert json.loads(r.content) == json.loads(OPENAPI_FILE.read_bytes()), \
        "build/opx serves a stale openapi.json: rebuild with ninja -C build"


def test_document_is_sound(contract):
    doc = contract.doc
    assert doc["openapi"].startswith("3.1.")
    # every $ref resolves
    def walk(x, where):
        if isinstance(x, dict):
            if "$ref" in x:
                assert x["$ref"].startswith("#/"), where
                contract.resolver.resolve(x["$ref"])
            for k, v in x.items():
                walk(v, f"{where}/{k}")
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{where}/{i}")
    walk(doc, "")
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert (schemes["cookieAuth"]["in"], schemes["cookieAuth"]["name"]) == ("cookie", "opx_session")
    assert (schemes["csrfToken"]["in"], schemes["csrfToken"]["name"]) == ("header", "X-CSRF-Token")
    ids = set()
    for m, p, op in contract.operations():
        assert op.get("operationId") and op["operationId"] not in ids, (m, p)
        ids.add(op["operationId"])
        codes = set(op["responses"])
        assert TRANSPORT_STATUSES <= codes, (m, p, TRANSPORT_STATUSES - codes)
        assert any(c.startswith("2") for c in codes), (m, p)
        for code, resp in op["responses"].items():
            assert re.fullmatch(r"[1-5][0-9][0-9]", code), (m, p, code)
            resp = contract.deref(resp)
            assert resp.get("description"), (m, p, code)
            if int(code) >= 400:
                assert list(resp["content"]) == ["application/problem+json"], (m, p, code)
        if "requestBody" in op:
            body = op["requestBody"]["content"]["application/json"]["schema"]
            body = contract.deref(body)
            assert body.get("additionalProperties") is False, (m, p)
            assert {"415", "422"} <= codes, (m, p)


def test_core_schemas_have_the_contract_fields(contract):
    s = contract.doc["components"]["schemas"]
    assert set(s["User"]["required"]) == {"id", "email", "name", "role", "created_at"}
    assert set(s["Problem"]["properties"]) == {"type", "title", "status", "detail", "instance", "request_id", "errors"}
    assert set(s["FieldError"]["required"]) == {"field", "message"}
    assert set(s["LoginResponse"]["required"]) == {"token", "expires_at", "user"}
    assert set(s["Me"]["required"]) == {"user", "csrf_token"}
    assert s["Healthz"]["required"] == ["status"]


@pytest.mark.parametrize("status,ok", [(200, True), (299, False), (418, False)])
def test_the_checker_itself_rejects_undocumented_statuses(contract, status, ok):
    """Guards the guard: an undocumented status must fail the check."""
    hdr = {"x-request-id": "abc", "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01",
           "content-type": "application/json"}
    get = lambda k, d=None: hdr.get(k.lower(), d)  # noqa: E731
    H = type("H", (), {"get": staticmethod(get)})
    if ok:
        contract.check("GET", "/healthz", status, H, b'{"status":"ok"}')
    else:
        with pytest.raises(AssertionError):
            contract.check("GET", "/healthz", status, H, b'{"status":"ok"}')


def test_the_checker_itself_rejects_wrong_bodies(contract):
    hdr = {"x-request-id": "abc", "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01",
           "content-type": "application/json"}
    H = type("H", (), {"get": staticmethod(lambda k, d=None: hdr.get(k.lower(), d))})
    with pytest.raises(AssertionError):
        contract.check("GET", "/healthz", 200, H, b'{"status":"ok","extra":1}')
    with pytest.raises(AssertionError):
        contract.check("GET", "/api/v1/me", 200, H, b'{"user":{}}')
    with pytest.raises(AssertionError):  # a documented path answering 404 for another method
        contract.check("DELETE", "/healthz", 404, H, b'{}')


def _ops_with_limits():
    import json as _json
    doc = _json.loads(OPENAPI_FILE.read_bytes())
    out = []
    for path, item in doc["paths"].items():
        for m, op in item.items():
            if isinstance(op, dict) and "x-max-body-bytes" in op:
                out.append((m.upper(), path, op["x-max-body-bytes"]))
    return out


@pytest.mark.parametrize("method,path,limit", _ops_with_limits(), ids=lambda x: str(x))
def test_documented_body_limits_are_the_real_ones(server, method, path, limit):
    """x-max-body-bytes is what the server enforces: limit+1 bytes is 413
    before the body is read; limit bytes is not refused for its size."""
    with server.raw() as c:
        r = c.request(method, path, {"Content-Type": "text/plain"}, b"x" * (limit + 1))
        assert r.status == 413, r
    if limit:
        with server.raw() as c:
            r = c.request(method, path, {"Content-Type": "text/plain"}, b"x" * limit)
            assert r.status != 413, r
