"""opx copy: a marketplace that ran on SQLite moves to PostgreSQL whole
(skipped without a PostgreSQL, OPX_TEST_PG). After the copy a server on
PostgreSQL serves the same sessions, contracts, money and messages, every
table holds the same rows, new rows are numbered after the copied ones,
and the ledger verifies; a target with rows is refused."""
import json
import subprocess

import pytest

from moneytest import active_contract, approve, fund, ledger_verify, submit
from opxtest import (PG_SERVER, all_messages, bearer, demo_login, opx_bin, post_message, talk_pair, workdir_db)

pytestmark = pytest.mark.skipif(not PG_SERVER, reason="the copy's target is PostgreSQL (OPX_TEST_PG)")


def opx(*args):
    return subprocess.run([opx_bin(), *args], capture_output=True, text=True, timeout=120)


def counts(db):
    """Rows per table of db, every table but schema_migrations."""
    tables = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'" \
        if not db.startswith("postgres") else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    r = opx("inspect", "--db", db, "--json", tables)
    assert r.returncode == 0, r.stderr
    out = {}
    for (t,) in json.loads(r.stdout)["rows"]:
        if t != "schema_migrations":
            r = opx("inspect", "--db", db, "--json", f"SELECT count(*) FROM {t}")
            out[t] = json.loads(r.stdout)["rows"][0][0]
    return out


def test_a_sqlite_marketplace_moves_to_postgres_whole(spawn, tmp_path_factory):
    d = tmp_path_factory.mktemp("on-sqlite")
    source = str(d / "opx.db")
    assert opx("seed", "--demo", "--db", source).returncode == 0
    lite = spawn("--login-ip-burst", "1000", workdir=d, db=source)
    c = lite.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    k, en = active_contract(c, admin, client, amounts=(42000, 18000))
    m1, m2 = (m["id"] for m in k["milestones"])
    fund(c, client["token"], m1)
    submit(c, en["token"], m1)
    approve(c, client["token"], m1)
    p = talk_pair(c, admin, client)
    cid = p["conversation"]["id"]
    for i in range(3):
        post_message(c, client["token"], cid, f"before the move {i}")
    contract = c.get(f"/api/v1/contracts/{k['id']}", headers=bearer(client["token"])).json()
    said = all_messages(c, client["token"], cid)[0]
    lite.stop()

    pd = tmp_path_factory.mktemp("on-postgres")
    target = workdir_db(pd)  # a new, empty database
    r = opx("copy", "--from", source, "--to", target)
    assert r.returncode == 0, r.stderr
    assert "users" in r.stdout and "rows, schema version" in r.stdout, r.stdout
    assert counts(target) == counts(source)

    pg = spawn("--login-ip-burst", "1000", workdir=pd)
    assert pg.db == target
    cp = pg.client()
    # the same sessions, contract and messages
    assert cp.get("/api/v1/me", headers=bearer(client["token"])).json()["user"]["email"] == "client@demo.opx"
    assert cp.get(f"/api/v1/contracts/{k['id']}", headers=bearer(client["token"])).json() == contract
    assert all_messages(cp, client["token"], cid)[0] == said
    # new rows come after the copied ones (identity sequences moved past them)
    m = post_message(cp, client["token"], cid, "after the move")
    assert [x["id"] for x in all_messages(cp, client["token"], cid)[0]][-1] == m["id"]
    fund(cp, client["token"], m2)
    submit(cp, en["token"], m2)
    assert approve(cp, client["token"], m2).json()["status"] == "released"
    pg.stop()
    rc, out = ledger_verify(target)
    assert rc == 0, out
    # a target that has rows is never mixed into
    r = opx("copy", "--from", source, "--to", target)
    assert r.returncode == 1 and "not empty" in r.stderr, r.stderr


def test_copy_says_what_it_moves_and_refuses_the_rest(tmp_path):
    r = opx("copy", "--from", "postgres://x@127.0.0.1:1/a", "--to", str(tmp_path / "b.db"))
    assert r.returncode == 1 and "SQLite database into PostgreSQL" in r.stderr
    r = opx("copy", "--to", "postgres://x@127.0.0.1:1/a")
    assert r.returncode == 2 and "--from is missing" in r.stderr
    assert opx("copy", "--help").returncode == 0
