"""opx backup and opx restore, on SQLite and on PostgreSQL: a backup made
while the server writes is one consistent state of the database, a server
started on its restored copy serves what was there (sessions, money,
messages) and nothing written after, and the ledger still verifies. A
backup never overwrites a file; a restore never replaces a database that
has tables unless told to."""
import subprocess
import threading

from moneytest import active_contract, fund, ledger_verify
from opxtest import (all_messages, bearer, db_url, demo_login, opx_bin, post_message, seeded_workdir,
                     talk_pair, wait_for, workdir_db)


def opx(*args):
    return subprocess.run([opx_bin(), *args], capture_output=True, text=True, timeout=120)


def test_a_backup_made_while_serving_restores_to_a_server_that_has_what_it_held(spawn, tmp_path_factory):
    srv = spawn("--login-ip-burst", "1000", workdir=seeded_workdir(tmp_path_factory, "backup"))
    c = srv.client()
    admin, client = demo_login(c, "admin@demo.opx"), demo_login(c, "client@demo.opx")
    k, _ = active_contract(c, admin, client, amounts=(42000,))
    fund(c, client["token"], k["milestones"][0]["id"])
    p = talk_pair(c, admin, client)
    cid = p["conversation"]["id"]
    # a writer keeps going while the copy is made
    stop, sent = threading.Event(), []

    def write():
        w = srv.client()
        while not stop.is_set():
            sent.append(post_message(w, client["token"], cid, f"during the backup {len(sent)}")["id"])

    t = threading.Thread(target=write)
    t.start()
    try:
        wait_for(lambda: len(sent) >= 3, what="the writer to be writing")
        backup = tmp_path_factory.mktemp("backups") / "opx.backup"
        r = opx("backup", "--db", db_url(srv), str(backup))
        assert r.returncode == 0, r.stderr
        assert backup.stat().st_size > 0 and not backup.with_name(backup.name + ".partial").exists()
    finally:
        stop.set()
        t.join(30)
    after = post_message(c, client["token"], cid, "after the backup")
    # never over an existing file
    r = opx("backup", "--db", db_url(srv), str(backup))
    assert r.returncode == 1 and "exists" in r.stderr
    srv.stop()

    d = tmp_path_factory.mktemp("restored")
    target = workdir_db(d)
    r = opx("restore", "--db", target, str(backup))
    assert r.returncode == 0, r.stderr
    # a database with tables is not replaced without --force, and stays as it is
    users = db_rows_at(target, "SELECT count(*) FROM users")
    r = opx("restore", "--db", target, str(backup))
    assert r.returncode == 1 and "--force" in r.stderr, r.stderr
    assert db_rows_at(target, "SELECT count(*) FROM users") == users
    assert opx("restore", "--force", "--db", target, str(backup)).returncode == 0

    back = spawn("--login-ip-burst", "1000", workdir=d)
    assert back.db == target
    cb = back.client()
    # the session made before the backup still signs in: it is the same database
    assert cb.get("/api/v1/me", headers=bearer(client["token"])).status_code == 200
    r = cb.get(f"/api/v1/contracts/{k['id']}", headers=bearer(client["token"]))
    assert r.status_code == 200 and r.json()["milestones"][0]["status"] == "funded", r.text
    kept = [m["id"] for m in all_messages(cb, client["token"], cid)[0]]
    assert after["id"] not in kept
    # one consistent state: of the messages the writer sent, those the copy
    # holds are the first ones, with none missing in between
    held = [m for m in sent if m in kept]
    assert len(held) >= 3 and held == sent[:len(held)]
    rc, out = ledger_verify(back)
    assert rc == 0, out


def db_rows_at(url, sql):
    r = opx("inspect", "--db", url, "--json", sql)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_backup_and_restore_say_what_is_wrong(tmp_path):
    r = opx("backup", "--db", str(tmp_path / "missing.db"), str(tmp_path / "x.backup"))
    assert r.returncode == 1 and "missing.db" in r.stderr and not (tmp_path / "x.backup").exists()
    r = opx("restore", "--db", str(tmp_path / "new.db"), str(tmp_path / "no-such.backup"))
    assert r.returncode == 1 and "no-such.backup" in r.stderr and not (tmp_path / "new.db").exists()
    r = opx("backup")
    assert r.returncode == 2 and "FILE is missing" in r.stderr
    r = opx("restore", "--bogus", "x")
    assert r.returncode == 2 and "unknown option --bogus" in r.stderr
    assert opx("backup", "--help").returncode == 0
