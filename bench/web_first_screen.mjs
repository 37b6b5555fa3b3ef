// web_first_screen: what the first screen of the web app costs a browser,
// cold (empty cache) and warm (a reload: every file revalidated by ETag).
//   node bench/web_first_screen.mjs            (OPX_BIN=... for another binary)
// For the landing page (signed out) and the client's home (signed in) it
// prints, as KEY=value lines: requests, bytes of bodies received, 304s, and
// the median milliseconds from navigation to the page's h1 with no skeleton
// left, over RUNS (default 7) fresh contexts; and the app's size on disk.
// NAV_FLOOR_MS_MEDIAN is the ceiling: a fresh context navigating to a page
// with no sub-resources (/healthz). A real opx on a temp database with demo
// data, Debian's chromium headless.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, launch, signIn, startServer } from '../tests/browser/harness.mjs';

const RUNS = Number(process.env.RUNS || 7);

function webSize(dir) {
  let files = 0; let bytes = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { const s = webSize(p); files += s.files; bytes += s.bytes; } else { files += 1; bytes += fs.statSync(p).size; }
  }
  return { files, bytes };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function drawn(page) {
  await page.waitForFunction(() => {
    const v = document.getElementById('view');
    return v && v.querySelector('h1') && !v.querySelector('.skeleton') && !v.querySelector('[aria-busy="true"]');
  }, null, { timeout: 10000 });
}

/** One cold load then one warm reload of `to`, in a fresh context. */
async function measure(browser, base, to, who) {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  if (who) await signIn(page, who);
  // signed-in runs sign in first, then start from a cold cache in a new page of a new context with the cookies
  let ctx2 = context; let p2 = page;
  if (who) {
    const state = await context.storageState();
    await context.close();
    ctx2 = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 }, storageState: state });
    p2 = await ctx2.newPage();
  }
  const out = {};
  for (const phase of ['cold', 'warm']) {
    const seen = { requests: 0, bytes: 0, notModified: 0 };
    const pending = [];
    const onResp = (r) => {
      seen.requests += 1;
      if (r.status() === 304) seen.notModified += 1;
      if (r.url().includes('/api/v1/events')) return; // the stream never ends
      pending.push(r.request().sizes().then((z) => { seen.bytes += z.responseBodySize; }, () => {}));
    };
    p2.on('response', onResp);
    const t0 = Date.now();
    if (phase === 'cold') await p2.goto(to); else await p2.reload();
    await drawn(p2);
    const ms = Date.now() - t0;
    await p2.waitForLoadState('networkidle').catch(() => {});
    p2.off('response', onResp);
    await Promise.all(pending);
    out[phase] = { ms, ...seen };
  }
  await ctx2.close();
  return out;
}

const srv = await startServer();
const browser = await launch();
try {
  const size = webSize(path.join(ROOT, 'web'));
  console.log(`WEB_FILES=${size.files}`);
  console.log(`WEB_BYTES=${size.bytes}`);
  // the ceiling: a navigation in a fresh context to a page of no
  // sub-resources at all (/healthz), what any first screen pays
  const floor = [];
  for (let i = 0; i < RUNS; i++) {
    const c = await browser.newContext({ baseURL: srv.base });
    const p = await c.newPage();
    const t0 = Date.now();
    await p.goto('/healthz');
    floor.push(Date.now() - t0);
    await c.close();
  }
  console.log(`NAV_FLOOR_MS_MEDIAN=${median(floor)}`);
  for (const [name, to, who] of [['landing', '/', null], ['client_home', '/', 'client@demo.opx']]) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await measure(browser, srv.base, to, who));
    for (const phase of ['cold', 'warm']) {
      const k = `${name.toUpperCase()}_${phase.toUpperCase()}`;
      const last = runs[runs.length - 1][phase];
      console.log(`${k}_REQUESTS=${last.requests}`);
      console.log(`${k}_BYTES=${last.bytes}`);
      console.log(`${k}_304=${last.notModified}`);
      console.log(`${k}_MS_MEDIAN=${median(runs.map((r) => r[phase].ms))}`);
      console.log(`${k}_MS_MAX=${Math.max(...runs.map((r) => r[phase].ms))}`);
    }
  }
} finally {
  await browser.close();
  await srv.stop();
}
