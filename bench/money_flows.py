"""money_flows: complete fund + submit + approve flows through the HTTP API
(the driver of bench/money.sh; /usr/bin/python3 + httpx).

Usage: money_flows.py BASE_URL SERVER_PID CONTRACTS MILESTONES CONCURRENCY [PROCESSES]

Setup (not timed), on a server running a demo database (`opx seed --demo`),
following active_contract() in tests/api/moneytest.py: for each of
CONTRACTS contracts, client@demo.opx posts the request of
opxtest.request_body(), the rank-1 candidate's engineer (email looked up as
admin@demo.opx) accepts the invitation, the client offers a fixed-price
contract of MILESTONES milestones (USD 100.00-340.00 each) and the engineer
accepts it. Every account signs in once (demo-pass-123).

Timed: every milestone is one flow, three requests in order:
  POST /api/v1/milestones/{id}/fund     client,   Idempotency-Key, {"payment_method":"tok_visa"}
  POST /api/v1/milestones/{id}/submit   engineer, {"note":"done"}
  POST /api/v1/milestones/{id}/approve  client,   Idempotency-Key
each answered 200 (the milestone funded, submitted, then released). The
flows are shuffled across contracts and run by CONCURRENCY threads, each
with its own keep-alive httpx.Client (TCP_NODELAY: see new_client), so
CONCURRENCY flows (and at most as many requests) are in flight; with
PROCESSES > 1 the threads are split over that many forked processes (no
shared GIL). A flow's latency is from its fund request's start to its
approve answer.

The CPU time of the server (from /proc/PID/stat, all its threads) and of
the driver over the timed phase is reported too: a driver core near 100 %
means the figure is bounded by the driver, not the server.

Prints one line:
  RESULT flows=N contracts=C milestones=M concurrency=K processes=P seconds=S
         rate=R p50_ms=.. p99_ms=.. max_ms=.. requests=3N errors=E
         server_cpu_pct=.. driver_cpu_pct=.. server_cpu_ms_per_flow=..
         server_write_kib_per_flow=.. (the server's write()/pwrite() bytes,
         /proc/PID/io wchar: WAL frames, checkpoints, responses, log lines)
         setup_s=.. fund_p50_ms=.. fund_p99_ms=.. (and submit_, approve_)
and exits non-zero on any unexpected answer."""
import datetime
import multiprocessing
import os
import queue
import random
import sys
import threading
import time
import uuid

import httpx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "api"))
from nodelay import nodelay_transport  # noqa: E402

PASSWORD = "demo-pass-123"
TICKS = os.sysconf("SC_CLK_TCK")
NODELAY = os.environ.get("BENCH_MONEY_NODELAY", "1") != "0"


def die(msg):
    print(f"money_flows: {msg}", file=sys.stderr)
    sys.exit(1)


def new_client(base):
    """A keep-alive httpx.Client whose sockets have TCP_NODELAY (tests/api/nodelay.py
    says why). BENCH_MONEY_NODELAY=0 keeps httpx's default, to see the difference."""
    if not NODELAY:
        return httpx.Client(base_url=base, timeout=30)
    return httpx.Client(base_url=base, timeout=30, transport=nodelay_transport())


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def expect(r, status, what):
    if r.status_code != status:
        die(f"{what}: expected {status}, got {r.status_code}: {r.text[:500]}")
    return r.json()


def login(c, email):
    return expect(c.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}), 200,
                  f"login {email}")


def request_body():
    """opxtest.request_body()"""
    start = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=7)
    return {
        "title": "Async payments API",
        "description": "Harden a FastAPI service on asyncpg: timeouts, cancellation, backpressure.",
        "frameworks": ["fastapi"], "must_have": ["asyncpg", "cancellation"], "nice_to_have": ["httpx"],
        "seniority": "senior", "engagement": "hourly", "budget": {"amount": 20000, "currency": "USD"},
        "hours_per_week": 20, "timezone": "Europe/Berlin", "min_overlap_hours": 2,
        "start_date": start.isoformat(),
    }


def days_from_today(n):
    return (datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=n)).isoformat()


def proc_cpu_s(pid):
    """user + system CPU seconds of a process, all threads (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def proc_wchar(pid):
    """bytes the process passed to write()/pwrite() so far (/proc/PID/io), or None."""
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def setup(base, ncontracts, nmilestones):
    c = new_client(base)
    admin = login(c, "admin@demo.opx")
    client = login(c, "client@demo.opx")
    engineers = {}  # email -> login
    flows, offered = [], []
    for i in range(ncontracts):
        req = expect(c.post("/api/v1/requests", json=request_body(), headers=bearer(client["token"])), 201,
                     "POST /api/v1/requests")
        cand = req["candidates"][0]
        eng = expect(c.get(f"/api/v1/engineers/{cand['engineer_id']}", headers=bearer(admin["token"])), 200,
                     "GET /api/v1/engineers/{id}")["engineer"]["email"]
        if eng not in engineers:
            engineers[eng] = login(c, eng)
        etok = engineers[eng]["token"]
        expect(c.post(f"/api/v1/candidates/{cand['id']}/accept", headers=bearer(etok)), 200,
               "POST /api/v1/candidates/{id}/accept")
        offer = {"candidate_id": cand["id"], "type": "fixed", "currency": "USD",
                 "milestones": [{"title": f"Milestone {m + 1}", "amount": 10000 + ((i * nmilestones + m) % 97) * 250,
                                 "due": days_from_today(10 * (m + 1))} for m in range(nmilestones)]}
        k = expect(c.post("/api/v1/contracts", json=offer, headers=bearer(client["token"])), 201,
                   "POST /api/v1/contracts")
        offered.append((k["id"], etok))
    # accepted only once every request is matched: an engineer with an active contract is busy,
    # and matching leaves busy engineers out of new requests
    for kid, etok in offered:
        k = expect(c.post(f"/api/v1/contracts/{kid}/accept", headers=bearer(etok)), 200,
                   "POST /api/v1/contracts/{id}/accept")
        if k["status"] != "active" or len(k["milestones"]) != nmilestones:
            die(f"contract {k['id']}: status {k['status']}, {len(k['milestones'])} milestones")
        for m in k["milestones"]:
            flows.append((m["id"], client["token"], etok))
    c.close()
    return flows, len(engineers)


def milestone_status(r, mid, want, what):
    body = expect(r, 200, what)
    # fund/approve answer the milestone; submit too (render_milestone)
    got = body.get("status") if isinstance(body, dict) else None
    if got is None and isinstance(body, dict) and "milestones" in body:
        got = next((m["status"] for m in body["milestones"] if m["id"] == mid), None)
    if got != want:
        die(f"{what} {mid}: status {got!r}, expected {want!r}: {str(body)[:300]}")


def worker(base, work, lat, steps, errors, lock):
    c = new_client(base)
    try:
        while True:
            try:
                mid, ctok, etok = work.get_nowait()
            except queue.Empty:
                return
            t0 = time.perf_counter()
            try:
                r = c.post(f"/api/v1/milestones/{mid}/fund", json={"payment_method": "tok_visa"},
                           headers={**bearer(ctok), "Idempotency-Key": f"bench-{uuid.uuid4()}"})
                t1 = time.perf_counter()
                milestone_status(r, mid, "funded", "fund")
                r = c.post(f"/api/v1/milestones/{mid}/submit", json={"note": "done"}, headers=bearer(etok))
                t2 = time.perf_counter()
                milestone_status(r, mid, "submitted", "submit")
                r = c.post(f"/api/v1/milestones/{mid}/approve",
                           headers={**bearer(ctok), "Idempotency-Key": f"bench-{uuid.uuid4()}"})
                t3 = time.perf_counter()
                milestone_status(r, mid, "released", "approve")
            except SystemExit:
                with lock:
                    errors.append(mid)
                raise
            except Exception as e:  # noqa: BLE001 -- a transport error is a failed flow
                with lock:
                    errors.append(mid)
                print(f"money_flows: flow {mid}: {e!r}", file=sys.stderr)
                continue
            with lock:
                lat.append(t3 - t0)
                steps["fund"].append(t1 - t0)
                steps["submit"].append(t2 - t1)
                steps["approve"].append(t3 - t2)
    finally:
        c.close()


def pct(v, p):
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))] * 1000 if v else 0.0


def run_shard(base, shard, nthreads, ready=None):
    """Runs the flows of shard on nthreads threads: (latencies, steps, errors).
    ready (a multiprocessing.Barrier) is passed once the threads' clients exist."""
    work = queue.Queue()
    for f in shard:
        work.put(f)
    lat, errors, lock = [], [], threading.Lock()
    steps = {"fund": [], "submit": [], "approve": []}
    threads = [threading.Thread(target=worker, args=(base, work, lat, steps, errors, lock), daemon=True)
               for _ in range(nthreads)]
    if ready is not None:
        ready.wait()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return lat, steps, errors


def child(base, shard, nthreads, ready, results):
    try:
        results.put(run_shard(base, shard, nthreads, ready))
    except BaseException as e:  # noqa: BLE001 -- the parent reports it
        results.put(([], {"fund": [], "submit": [], "approve": []}, [f"driver process: {e!r}"]))


def main():
    if len(sys.argv) not in (6, 7):
        die("usage: money_flows.py BASE_URL SERVER_PID CONTRACTS MILESTONES CONCURRENCY [PROCESSES]")
    base, pid = sys.argv[1], int(sys.argv[2])
    ncontracts, nmilestones, conc = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    nprocs = int(sys.argv[6]) if len(sys.argv) == 7 else 1
    if conc < 1 or nprocs < 1 or conc % nprocs:
        die("CONCURRENCY must be a positive multiple of PROCESSES")
    t = time.perf_counter()
    flows, nengineers = setup(base, ncontracts, nmilestones)
    setup_s = time.perf_counter() - t
    print(f"money_flows: {len(flows)} milestones on {ncontracts} active contracts"
          f" ({nengineers} engineer(s)), set up in {setup_s:.1f} s; {conc} flows in flight"
          f" ({nprocs} process(es) x {conc // nprocs} threads)", file=sys.stderr)
    random.Random(6).shuffle(flows)
    if nprocs == 1:
        w0, s0, d0, t0 = proc_wchar(pid), proc_cpu_s(pid), time.process_time(), time.perf_counter()
        lat, steps, errors = run_shard(base, flows, conc)
        el = time.perf_counter() - t0
        s1, d1, w1 = proc_cpu_s(pid), time.process_time(), proc_wchar(pid)
    else:
        # processes, not only threads: one interpreter's GIL hand-offs add
        # latency once many threads wait on answers
        ctx = multiprocessing.get_context("fork")
        ready, results = ctx.Barrier(nprocs + 1), ctx.Queue()
        procs = [ctx.Process(target=child, args=(base, flows[i::nprocs], conc // nprocs, ready, results))
                 for i in range(nprocs)]
        for p in procs:
            p.start()
        c0 = os.times()
        ready.wait()
        w0, s0, t0 = proc_wchar(pid), proc_cpu_s(pid), time.perf_counter()
        parts = [results.get() for _ in procs]
        el = time.perf_counter() - t0
        s1, w1 = proc_cpu_s(pid), proc_wchar(pid)
        for p in procs:
            p.join()
        c1 = os.times()
        # the children's CPU time includes their (short) start before the barrier
        d0, d1 = 0.0, (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
        lat = [x for part in parts for x in part[0]]
        steps = {k: [x for part in parts for x in part[1][k]] for k in ("fund", "submit", "approve")}
        errors = [x for part in parts for x in part[2]]
    lat.sort()
    for v in steps.values():
        v.sort()
    wkib = -1.0 if w0 is None or w1 is None or not lat else (w1 - w0) / 1024 / len(lat)
    per_step = " ".join(f"{k}_p50_ms={pct(v, 0.5):.2f} {k}_p99_ms={pct(v, 0.99):.2f}" for k, v in steps.items())
    print(f"RESULT flows={len(lat)} contracts={ncontracts} milestones={nmilestones} concurrency={conc}"
          f" processes={nprocs} seconds={el:.3f} rate={len(lat) / el:.1f} p50_ms={pct(lat, 0.5):.2f}"
          f" p99_ms={pct(lat, 0.99):.2f} max_ms={pct(lat, 1.0):.2f} requests={3 * len(lat)} errors={len(errors)}"
          f" server_cpu_pct={100 * (s1 - s0) / el:.0f} driver_cpu_pct={100 * (d1 - d0) / el:.0f}"
          f" server_cpu_ms_per_flow={1000 * (s1 - s0) / max(1, len(lat)):.2f} server_write_kib_per_flow={wkib:.0f}"
          f" setup_s={setup_s:.1f} {per_step}")
    if errors or len(lat) != len(flows):
        for e in errors[:5]:
            print(f"money_flows: failed: {e}", file=sys.stderr)
        die(f"{len(errors)} flow(s) failed, {len(lat)} of {len(flows)} completed")


if __name__ == "__main__":
    main()
