"""`opx seed --demo`: the demo population looks like people who signed up
over the past year, not at the epoch (the web app shows "member since")."""
import datetime as dt

from opxtest import bearer, demo_login, demo_server


def _when(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_demo_accounts_signed_up_in_the_past_year_before_their_vetting(spawn, tmp_path_factory):
    s = demo_server(spawn, tmp_path_factory)
    with s.client() as c:
        now = dt.datetime.now(dt.timezone.utc)
        for email in ("admin@demo.opx", "vetter@demo.opx", "client@demo.opx", "engineer1@demo.opx"):
            made = _when(demo_login(c, email)["user"]["created_at"])
            assert now - dt.timedelta(days=500) < made < now - dt.timedelta(days=1), (email, made)
        eng = demo_login(c, "engineer1@demo.opx")
        admin = demo_login(c, "admin@demo.opx")
        r = c.get(f"/api/v1/engineers/{eng['id']}/audit", headers=bearer(admin["token"]))
        assert r.status_code == 200, r.text
        first = min(_when(e["at"]) for e in r.json()["items"])
        assert _when(eng["user"]["created_at"]) <= first
