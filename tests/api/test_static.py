"""Static files: the web app with ETags and 304s, content types, and path
traversal refused (raw sockets: httpx would normalise the dot segments)."""
import pytest

from opxtest import APP_CSS, INDEX_HTML, SECRET, assert_problem


def test_root_serves_index_html(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.content == INDEX_HTML
    assert r.headers["etag"].startswith('"')
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/index.html").content == INDEX_HTML
    assert client.get("/index.html").headers["etag"] == r.headers["etag"]


def test_if_none_match_gives_304_without_body(server, client):
    etag = client.get("/").headers["etag"]
    for inm in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        r = client.get("/", headers={"If-None-Match": inm})
        assert r.status_code == 304, inm
        assert r.content == b""
        assert r.headers["etag"] == etag
        assert "content-length" not in r.headers
    assert client.get("/", headers={"If-None-Match": '"other"'}).status_code == 200
    # raw: the 304 really ends at the blank line (a request behind it parses)
    with server.raw() as c:
        c.send(c.build("GET", "/", {"If-None-Match": etag}) + c.build("GET", "/healthz"))
        assert c.validate("GET", "/", c.read_response()).status == 304
        assert c.validate("GET", "/healthz", c.read_response()).body == b'{"status":"ok"}'


def test_css_type_and_caching(client):
    r = client.get("/app.css")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/css; charset=utf-8"
    assert r.content == APP_CSS
    assert "max-age" in r.headers["cache-control"]
    assert client.get("/app.css").headers["etag"] != client.get("/").headers["etag"]


def test_head_of_a_static_file(server):
    with server.raw() as c:
        r = c.request("HEAD", "/app.css")
        assert r.status == 200 and r.body == b""
        assert r.headers["content-length"] == str(len(APP_CSS))


@pytest.mark.parametrize("path", [
    "/../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/..%2fapp.h",
    "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/%2E%2E/secret.txt",
    "/../secret.txt",
    "/./index.html",
    "//etc/passwd",
    "/..%5csecret.txt",
    "/..\\secret.txt",
    "/index.html%00.css",
    "/%",
    "/%zz",
    "/web/../../secret.txt",
    "/....//secret.txt",
])
def test_path_traversal_is_404_never_file_contents(server, path):
    with server.raw() as c:
        r = c.request("GET", path)
        assert_problem(r, 404, "not-found")
        assert b"root:" not in r.body
        assert SECRET not in r.body


def test_unknown_file_and_unknown_api_path_are_404_problems(client):
    assert_problem(client.get("/nope.html"), 404, "not-found")
    assert_problem(client.get("/api/v1/x"), 404, "not-found")
    assert_problem(client.get("/api/index.html"), 404, "not-found")  # /api/ never falls back to files


def test_post_to_a_static_path_is_404(client):
    assert_problem(client.post("/index.html", content=b"x"), 404, "not-found")
