"""Fixtures of the API tests. They run the REAL binary ($OPX_BIN, default
build/opx) -- the same suite runs against a sanitizer build, so every
server's log is checked for sanitizer reports when it stops.

  server    the session's main server (--test-clock --login-ip-burst 1000)
  contract  the OpenAPI document the server serves, as a response checker
  client    httpx client to the main server; EVERY response it gets is
            checked against the document (undocumented status, header or
            body shape fails the test)
  spawn     starts extra servers with other flags; each is stopped (and
            checked like the main one) when the test ends
"""
import json

import httpx
import pytest

from opxtest import PG_SERVER, Contract, Server, drop_test_databases, opx_bin, sanitized

MAIN_ARGS = ["--login-ip-burst", "1000"]


def _fail_on(problems):
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def test_databases():
    """On PostgreSQL (OPX_TEST_PG), the databases the session made go at its end."""
    yield
    if PG_SERVER:
        drop_test_databases()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("main"), MAIN_ARGS, test_clock=True)
    s.start()
    # the document the binary serves is the contract every response is held to
    r = httpx.get(s.base_url + "/api/v1/openapi.json", timeout=10)
    assert r.status_code == 200, r.text
    s.contract = Contract(json.loads(r.content))
    yield s
    _fail_on(s.stop())


@pytest.fixture(scope="session")
def contract(server):
    return server.contract


@pytest.fixture(scope="session")
def client(server):
    c = server.client()
    yield c
    c.close()


@pytest.fixture
def spawn(request, tmp_path_factory, contract):
    started = []
    known = request.node.get_closest_marker("sanitizer_bug") is not None

    def _spawn(*args, test_clock=True, workdir=None, web=True, port=None, db=None):
        """Starts `opx serve` with extra flags; workdir reuses another
        server's directory (and so its database) once that one stopped;
        port fixes the address (a restart behind nginx keeps it); db names
        the database instead of the directory's own."""
        s = Server(workdir or tmp_path_factory.mktemp("extra"), args, test_clock=test_clock, contract=contract,
                   web=web, port=port, db=db)
        started.append(s)
        return s.start()

    yield _spawn
    problems = []
    for s in started:
        problems += s.stop(known_sanitizer_bug=known)
    _fail_on(problems)


def pytest_configure(config):
    config.addinivalue_line("markers", "sanitizer_bug: an xfail for a known bug that a sanitizer build "
                                       "aborts on; spawn() then expects the report instead of failing")


def pytest_report_header(config):
    db = f"PostgreSQL at {PG_SERVER}" if PG_SERVER else "SQLite"
    return f"opx binary: {opx_bin()}{' (sanitizer build)' if sanitized() else ''}; database: {db}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    # which documented (operation, status) pairs the suite exercised
    s = getattr(config, "_opx_contract", None)
    if s is None or not config.getoption("verbose") > 0:
        return
    terminalreporter.write_sep("-", "contract coverage (operation, status) checked")
    for bucket, status in sorted(s.seen):
        terminalreporter.write_line(f"{bucket} {status}")


@pytest.fixture(scope="session", autouse=True)
def _remember_contract(request, contract):
    request.config._opx_contract = contract
