"""Static files: the web app with ETags and 304s, content types, and path
traversal refused (raw sockets: httpx would normalise the dot segments);
the app's own pages fall back to index.html; without --web the binary
serves the copy of web/ built into it."""
import pytest

from opxtest import APP_CSS, INDEX_HTML, ROOT, SECRET, assert_problem


def test_root_serves_index_html(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.content == INDEX_HTML
    assert r.headers["etag"].startswith('"')
    assert r.headers["x-content-type-options"] == "nosniff"
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
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
    # revalidated every time: a deploy never mixes one version's modules with another's
    assert r.headers["cache-control"] == "no-cache"
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


@pytest.mark.parametrize("path", ["/hire/fastapi", "/requests/req_123", "/signin", "/admin/users"])
def test_app_pages_get_index_html(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.content == INDEX_HTML
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_a_missing_file_with_an_extension_is_404_not_the_page(client):
    for path in ("/js/nope.js", "/hire/fastapi.css", "/favicon.ico"):
        assert_problem(client.get(path), 404, "not-found")


def test_without_web_the_binary_serves_the_app_built_into_it(spawn):
    s = spawn(web=False)
    files = sorted(p for p in (ROOT / "web").rglob("*") if p.is_file() and not p.name.startswith("."))
    assert len(files) >= 3
    with s.client() as c:
        assert c.get("/").content == (ROOT / "web" / "index.html").read_bytes()
        for p in files:
            r = c.get("/" + p.relative_to(ROOT / "web").as_posix())
            assert r.status_code == 200, p
            assert r.content == p.read_bytes(), p
        assert c.get("/hire/sanic").content == (ROOT / "web" / "index.html").read_bytes()
        assert_problem(c.get("/nope.js"), 404, "not-found")


def test_a_web_dir_that_is_not_a_directory_refuses_to_start(tmp_path):
    import subprocess
    from opxtest import opx_bin
    r = subprocess.run([opx_bin(), "serve", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "x.db"),
                        "--web", str(tmp_path / "missing")], capture_output=True, timeout=20)
    assert r.returncode != 0
    assert b"not a directory" in r.stdout + r.stderr
