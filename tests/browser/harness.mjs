// harness: what every browser test needs. A fresh server of its own on a
// free port (a copy of the binary, a migrated and demo-seeded database, the
// web app embedded in the binary, the test clock), Debian's chromium through
// playwright-core (never a downloaded browser), sign-in by clicking, an axe
// run, screenshots under build/test-logs/screens/, and API calls for
// preconditions only. OPX_DEV_WEB=1 serves ./web instead of the embedded
// copy (no rebuild while editing); OPX_BIN picks another binary.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
const PW = process.env.PLAYWRIGHT_DIR || path.join(ROOT, 'node_modules');
const { chromium } = await import(path.join(PW, 'playwright-core/index.mjs'));
const AXE = fs.readFileSync(path.join(PW, 'axe-core/axe.min.js'), 'utf8');
export const PASSWORD = 'demo-pass-123';

// every server this process started: stopped on exit whatever happened
const servers = new Set();
process.once('exit', () => { for (const c of servers) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitHealthy(base, child, ms = 15000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`opx serve exited with ${child.exitCode}`);
    try { if ((await fetch(`${base}/healthz`)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('opx serve did not become healthy');
}

/** A fresh server: {base, dir, stop()}. */
export async function startServer() {
  const src = process.env.OPX_BIN || path.join(ROOT, 'build/opx');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opx-browser-'));
  const bin = path.join(dir, 'opx');
  fs.copyFileSync(src, bin);
  fs.chmodSync(bin, 0o755);
  const db = path.join(dir, 'opx.db');
  execFileSync(bin, ['migrate', '--db', db], { stdio: 'ignore' });
  execFileSync(bin, ['seed', '--demo', '--db', db], { stdio: 'ignore' });
  const port = await freePort();
  const log = fs.openSync(path.join(dir, 'log'), 'w');
  const web = process.env.OPX_DEV_WEB === '1' ? ['--web', path.join(ROOT, 'web')] : [];
  const child = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--db', db, ...web,
    '--test-clock', '--access-log', 'off'], { stdio: ['ignore', log, log] });
  servers.add(child);
  child.once('exit', () => servers.delete(child));
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(base, child);
  return {
    base, dir,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => { const t = setTimeout(() => { child.kill('SIGKILL'); r(); }, 5000); child.once('exit', () => { clearTimeout(t); r(); }); });
      }
    },
  };
}

export async function launch() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu',
    '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
}

/**
 * A page that records what went wrong: page errors, console errors, and
 * responses >= 500. Network 4xx (an anonymous /api/v1/me is a 401 by
 * design) are kept apart in `http4xx`, since Chromium logs each as a
 * console "Failed to load resource" error.
 */
export async function newPage(browser, base, { width = 1280, height = 800 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, baseURL: base, timezoneId: 'Europe/Berlin', locale: 'en-GB' });
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  const problems = { pageErrors: [], consoleErrors: [], http5xx: [], http4xx: [] };
  page.on('pageerror', (e) => problems.pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/^Failed to load resource/.test(m.text())) return; // see the response listener
    problems.consoleErrors.push(m.text());
  });
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (r.status() >= 500) problems.http5xx.push(`${r.status()} ${u.pathname}`);
    else if (r.status() >= 400) problems.http4xx.push(`${r.status()} ${r.request().method()} ${u.pathname}`);
  });
  return { context, page, problems };
}

/**
 * Opens a page by its address. With OPX_SPA_NAV=1 (a build whose server
 * lacks the web app's history fallback, e.g. an API branch) it loads / and
 * lets the router move there instead.
 */
export async function visit(page, p, { reload = false } = {}) {
  if (process.env.OPX_SPA_NAV !== '1') { await page.goto(p); return; }
  if (reload || !page.url().startsWith('http')) await page.goto('/');
  await page.waitForFunction(() => !!document.querySelector('#view h1, #view .notice'));
  await page.evaluate((to) => { history.pushState(null, '', to); window.dispatchEvent(new PopStateEvent('popstate')); }, p);
}

/** Signs in through the form, as a person would. */
export async function signIn(page, email, password = PASSWORD, next = '') {
  await visit(page, next ? `/signin?next=${encodeURIComponent(next)}` : '/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  if (next) await page.waitForURL((u) => u.pathname === next.split('?')[0]);
}

/** Forgets what went wrong so far (e.g. on a colleague's page passed through on the way). */
export function forget(problems) {
  for (const k of Object.keys(problems)) problems[k].length = 0;
}

/** Waits for a page to have drawn: its h1 is there and no skeleton is left. */
export async function settled(page, ms = 6000) {
  await page.waitForFunction(() => {
    const v = document.getElementById('view');
    return v && v.querySelector('h1') && !v.querySelector('.skeleton') && !v.querySelector('[aria-busy="true"]');
  }, null, { timeout: ms });
}

/** Fails the test when the page threw, logged a console error or met a 5xx. */
export function assertClean(problems, what = '') {
  const at = what ? `${what}: ` : '';
  assert.deepEqual(problems.pageErrors, [], `${at}no page errors`);
  assert.deepEqual(problems.consoleErrors, [], `${at}no console errors`);
  assert.deepEqual(problems.http5xx, [], `${at}no server errors`);
}

/** Serious and critical axe violations: [{id, impact, help, targets[]}]. */
export async function axe(page) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE);
  const out = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
  return out.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** JSON API calls for preconditions (bearer token, no browser). */
export function apiClient(base) {
  async function call(method, p, body, token) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    const data = text ? JSON.parse(text) : null;
    if (!r.ok) throw new Error(`${method} ${p} -> ${r.status} ${text}`);
    return data;
  }
  return {
    call,
    async login(email, password = PASSWORD) { return (await call('POST', '/api/v1/auth/login', { email, password })).token; },
    async register(name, email, password, role) { return call('POST', '/api/v1/auth/register', { name, email, password, role }); },
  };
}

export const uniq = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;

export const SCREENS = path.join(ROOT, 'build/test-logs/screens');

/** Saves a full-page screenshot as build/test-logs/screens/<name>-<width>.png. */
export async function screenshot(page, name) {
  fs.mkdirSync(SCREENS, { recursive: true });
  const w = page.viewportSize()?.width || 0;
  await page.screenshot({ path: path.join(SCREENS, `${name}-${w}.png`), fullPage: true });
}

/** A date n days from now, as the API's date fields take it (YYYY-MM-DD). */
export const inDays = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);

/**
 * A precondition several journeys share, through the API: a new client
 * raises an hourly FastAPI request and its first invited engineer accepts.
 * -> {client: {email, password, name}, ct, request, candidate,
 *     engineer: {id, email, name, timezone}, et}
 */
export async function acceptedCandidate(api, { prefix = 'c', name = 'Cleo Client', title = 'Payments API',
  description = 'FastAPI + asyncpg payouts service', timezone = 'Europe/Berlin', startInDays = 30 } = {}) {
  const client = { email: `${prefix}-${uniq()}@example.test`, password: `pass-${uniq()}-long`, name };
  await api.register(client.name, client.email, client.password, 'client');
  const ct = await api.login(client.email, client.password);
  const request = await api.call('POST', '/api/v1/requests', {
    title: `${title} ${uniq()}`, description, frameworks: ['fastapi'], must_have: ['asyncpg'], nice_to_have: [],
    seniority: 'senior', engagement: 'hourly', budget: { amount: 15000, currency: 'USD' }, hours_per_week: 20,
    timezone, min_overlap_hours: 3, start_date: inDays(startInDays),
  }, ct);
  const candidate = request.candidates.find((c) => c.status === 'invited');
  assert.ok(candidate, 'the shortlist invited someone');
  const admin = await api.login('admin@demo.opx');
  const eng = (await api.call('GET', `/api/v1/engineers/${candidate.engineer_id}`, undefined, admin)).engineer;
  const et = await api.login(eng.email);
  await api.call('POST', `/api/v1/candidates/${candidate.id}/accept`, undefined, et);
  return { client, ct, request, candidate, engineer: { id: candidate.engineer_id, email: eng.email, name: eng.name, timezone: eng.timezone }, et };
}
