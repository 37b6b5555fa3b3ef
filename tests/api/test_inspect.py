"""`opx inspect`: one read-only query on the database, for support and for
these tests (db_rows goes through it instead of opening the SQLite file).
Columns and rows keep their types in --json, parameters are bound as text,
bad SQL and statements that would write exit 1 with the database's message
and change nothing, usage errors exit 2, and it reads beside a running
server."""
import json
import os
import subprocess
import threading

import pytest

from opxtest import PG_SERVER, DbError, db_rows, db_tamper, db_url, opx_bin, register, signed_in

# what each database answers in its own words (the suite runs on one of them)
PG = bool(PG_SERVER)

SELECT_TYPES = "SELECT 7 AS i, 2.5 AS d, 'tab\there' AS t, NULL AS n"


def inspect(*args, env=None):
    return subprocess.run([opx_bin(), "inspect", *args], capture_output=True, text=True, timeout=30,
                          env=env)


def as_json(db, sql, *params):
    out = inspect("--db", db, "--json", sql, *params)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def own(spawn):
    """A server of the test's own, its client and a signed-in client account."""
    srv = spawn()
    c = srv.client()
    return srv, c, signed_in(c)


def users(srv):
    return db_rows(srv, "SELECT count(*) FROM users")[0][0]


def test_columns_and_rows_keep_their_types(own):
    srv, _, _ = own
    doc = as_json(db_url(srv), SELECT_TYPES)
    assert doc == {"columns": ["i", "d", "t", "n"], "rows": [[7, 2.5, "tab\there", None]]}
    assert [type(v) for v in doc["rows"][0]] == [int, float, str, type(None)]
    # a table's rows, many of them, with the names the query gives
    doc = as_json(db_url(srv), "SELECT id, role, created_at AS made FROM users ORDER BY id")
    assert doc["columns"] == ["id", "role", "made"]
    assert len(doc["rows"]) == users(srv) >= 1
    assert all(isinstance(r[0], str) and isinstance(r[2], int) for r in doc["rows"]), doc
    # no rows: the columns still
    none = "SELECT email FROM users WHERE false" if PG else "SELECT email FROM users WHERE 0"
    assert as_json(db_url(srv), none) == {"columns": ["email"], "rows": []}


def test_text_output_is_a_header_and_tab_separated_rows(own):
    srv, _, _ = own
    out = inspect("--db", db_url(srv), SELECT_TYPES + ", 'back\\slash' AS b, 'two\nlines' AS l")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "i\td\tt\tn\tb\tl\n7\t2.5\ttab\\there\tNULL\tback\\\\slash\ttwo\\nlines\n"


def test_params_are_bound_as_text_in_order(own):
    srv, _, person = own
    uid, email = person["user"]["id"], person["email"]
    rows = db_rows(srv, "SELECT email, role FROM users WHERE id = ?", uid)
    assert rows == [(email, "client")]
    if PG:
        assert as_json(db_url(srv), "SELECT $1::text AS x, $2::text AS y", "b", "a") == \
            {"columns": ["x", "y"], "rows": [["b", "a"]]}
        # text the server types from where it goes
        assert db_rows(srv, "SELECT pg_typeof(?::text)::text", "5") == [("text",)]
    else:
        assert as_json(db_url(srv), "SELECT ?, ?", "b", "a") == {"columns": ["?", "?"], "rows": [["b", "a"]]}
        # text: typeof says so, and a number column still compares as a number
        assert db_rows(srv, "SELECT typeof(?)", "5") == [("text",)]
    made = db_rows(srv, "SELECT created_at FROM users WHERE id = ?", uid)[0][0]
    assert db_rows(srv, "SELECT count(*) FROM users WHERE id = ? AND created_at = ?", uid, made) == [(1,)]
    assert db_rows(srv, "SELECT count(*) FROM users WHERE id = ? AND created_at > ?", uid, made) == [(0,)]
    # a parameter that looks like an option is still a parameter
    pair = "SELECT ?::text, ?::text" if PG else "SELECT ?, ?"
    assert db_rows(srv, pair, "--json", "-x") == [("--json", "-x")]
    # too few or too many
    one, two = ("SELECT $1::text", "SELECT $1::text, $2::text") if PG else ("SELECT ?", "SELECT ?1, ?2")
    for sql, params, msg in ((one, [], "the query takes 1 parameter, 0 given"),
                             (two, ["a", "b", "c"], "the query takes 2 parameters, 3 given")):
        out = inspect("--db", db_url(srv), sql, *params)
        assert (out.returncode, out.stdout, out.stderr) == (1, "", f"opx inspect: {msg}\n")


@pytest.mark.parametrize("sql, message", [
    ("SELECT * FROM nope", 'relation "nope" does not exist'),
    ("SELEC 1", 'syntax error at or near "SELEC"'),
    ("SELECT nope FROM users", 'column "nope" does not exist'),
    ("SELECT abs(-9223372036854775808)", "bigint out of range"),  # fails while it runs
    ("SELECT 1; SELECT 2", "cannot insert multiple commands into a prepared statement"),
    ("", "no statement in the text given"),
    ("-- only a comment", "no statement in the text given"),
] if PG else [
    ("SELECT * FROM nope", "no such table: nope"),
    ("SELEC 1", 'near "SELEC": syntax error'),
    ("SELECT nope FROM users", "no such column: nope"),
    ("SELECT abs(-9223372036854775808)", "integer overflow"),  # fails while it steps, not when it prepares
    ("SELECT 1; SELECT 2", "only one statement may be given; text follows the first: SELECT 2"),
    ("", "no statement in the text given"),
    ("-- only a comment", "no statement in the text given"),
])
def test_bad_sql_exits_1_with_the_databases_message(own, sql, message):
    srv, _, _ = own
    out = inspect("--db", db_url(srv), "--", sql)  # -- : SQL that begins with - is not an option
    assert (out.returncode, out.stdout, out.stderr) == (1, "", f"opx inspect: {message}\n")


def test_trailing_semicolon_and_comment_are_one_statement(own):
    srv, _, _ = own
    assert as_json(db_url(srv), "SELECT 1 AS one; -- the end\n")["rows"] == [[1]]


@pytest.mark.parametrize("sql, why", [
    # a READ ONLY transaction refuses what would write when it runs; what
    # returns no rows is refused before
    ("DELETE FROM users", "the statement returns no rows"),
    ("DELETE FROM users RETURNING id", "cannot execute DELETE in a read-only transaction"),
    ("UPDATE users SET name = 'x' RETURNING id", "cannot execute UPDATE in a read-only transaction"),
    ("WITH gone AS (DELETE FROM users RETURNING id) SELECT count(*) FROM gone",
     "cannot execute SELECT in a read-only transaction"),
    ("CREATE TABLE t (x int)", "the statement returns no rows"),
    ("SELECT nextval('events_id_seq')", "cannot execute nextval() in a read-only transaction"),
    ("SET default_transaction_read_only = off", "the statement returns no rows"),
    ("COMMIT", "the statement returns no rows"),  # would end the job's snapshot
] if PG else [
    ("DELETE FROM users", "the statement writes"),
    ("DELETE FROM users RETURNING id", "the statement writes"),
    ("UPDATE users SET name = 'x'", "the statement writes"),
    ("WITH gone AS (SELECT id FROM users) DELETE FROM users WHERE id IN gone", "the statement writes"),
    ("CREATE TABLE t (x)", "the statement writes"),
    ("PRAGMA query_only = 0", "the statement returns no rows"),
    ("ATTACH 'other.db' AS other", "the statement returns no rows"),
    ("BEGIN IMMEDIATE", "the statement writes"),  # it would take the write lock
    ("COMMIT", "the statement returns no rows"),  # would end the job's snapshot
])
def test_a_statement_that_writes_is_refused_and_changes_nothing(own, sql, why):
    srv, _, _ = own
    before = db_rows(srv, "SELECT id, name FROM users ORDER BY id")
    out = inspect("--db", db_url(srv), sql)
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stderr == (f"opx inspect: not a read-only query: {why}"
                          " (opx inspect runs read-only queries)\n"), out.stderr
    assert db_rows(srv, "SELECT id, name FROM users ORDER BY id") == before
    tables = "pg_class WHERE relname" if PG else "sqlite_schema WHERE name"
    assert db_rows(srv, f"SELECT count(*) FROM {tables} = 't'") == [(0,)]
    assert not (srv.dir / "other.db").exists() and not (srv.dir.parent / "other.db").exists()


def test_usage_errors_exit_2(own, tmp_path):
    srv, _, _ = own
    for args, msg in ((["--db", db_url(srv)], "SQL is missing"),
                      ([], "SQL is missing"),
                      (["--db"], "--db is missing its value"),
                      (["--db", db_url(srv), "--csv", "SELECT 1"], "unknown option"),
                      (["--db=", "SELECT 1"], "--db is empty")):
        out = inspect(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stdout == "" and out.stderr.startswith(f"opx: {msg}\n\nusage: opx inspect "), out.stderr
    # a database that is not there is not created
    missing = tmp_path / "missing.db"
    out = inspect("--db", str(missing), "SELECT 1")
    assert (out.returncode, out.stderr) == (2, f"opx inspect: cannot open {missing}: No such file or directory\n")
    assert not missing.exists()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    out = inspect("--db", str(garbage), "SELECT 1")
    assert out.returncode == 2 and "file is not a database" in out.stderr, out.stderr
    # help
    out = inspect("--help")
    assert out.returncode == 0 and out.stdout.startswith("usage: opx inspect [--db PATH|URL] [--json] SQL"), out
    top = subprocess.run([opx_bin(), "--help"], capture_output=True, text=True, timeout=10)
    assert "  inspect SQL " in top.stdout
    again = subprocess.run([opx_bin(), "help", "inspect"], capture_output=True, text=True, timeout=10)
    assert again.stdout == out.stdout


def test_options_and_the_opx_db_default(own):
    srv, _, _ = own
    env = dict(os.environ, OPX_DB=db_url(srv))
    out = inspect("--json", "SELECT count(*) AS n FROM users", env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"columns": ["n"], "rows": [[users(srv)]]}
    # --db=URL, and -- ends the options
    out = inspect(f"--db={db_url(srv)}", "--", "SELECT 'x' AS v")
    assert (out.returncode, out.stdout) == (0, "v\nx\n"), out.stderr
    # --db wins over OPX_DB
    out = inspect("--db", db_url(srv), "SELECT 1 AS one", env=dict(os.environ, OPX_DB="/nonexistent/opx.db"))
    assert (out.returncode, out.stdout) == (0, "one\n1\n"), out.stderr


def test_reads_beside_a_running_server(own):
    srv, c, _ = own
    before = users(srv)
    # what the server committed is there at once
    body, r = register(c)
    uid = r.json()["user"]["id"] if "user" in r.json() else r.json()["id"]
    assert db_rows(srv, "SELECT email FROM users WHERE id = ?", uid) == [(body["email"],)]
    # queries while the server keeps writing: each sees a consistent count, never fewer
    done, seen, errors = threading.Event(), [], []

    def writer():
        try:
            for _ in range(10):
                register(c)
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(e)
        finally:
            done.set()

    t = threading.Thread(target=writer)
    t.start()
    while not done.is_set():
        seen.append(users(srv))
    t.join()
    assert not errors, errors
    assert seen == sorted(seen) and all(before + 1 <= n <= before + 11 for n in seen), seen
    assert users(srv) == before + 11
    assert srv.proc.poll() is None  # the server runs on


def test_db_tamper_changes_and_reports_the_databases_refusal(own):
    srv, _, person = own
    uid = person["user"]["id"]
    assert db_tamper(srv, f"UPDATE users SET name = 'Tampered' WHERE id = '{uid}'") == 1
    assert db_rows(srv, "SELECT name FROM users WHERE id = ?", uid) == [("Tampered",)]
    with pytest.raises(DbError, match='relation "nope" does not exist' if PG else "no such table: nope"):
        db_tamper(srv, "DELETE FROM nope")
    with pytest.raises(TypeError):
        db_rows(srv, "SELECT ?", None)
