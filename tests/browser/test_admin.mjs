// test_admin: the admin's screens by clicking.
//   OPX_DEV_WEB=1 node --test tests/browser/test_admin.mjs
// Preconditions only go through the API: a fresh client's request whose
// first invited engineer accepted, a fixed-price contract of one 1,500.00
// milestone, accepted and funded with the Visa test card. Then:
//   1. journey 3: the client disputes the milestone on the contract page;
//      the admin opens Disputes, splits the escrow 1,000.00 / 500.00 (the
//      sums shown add up, the fee is shown), confirms; the client and the
//      engineer see the outcome on the contract page; Ledger says verify OK.
//   2. the admin suspends the client in Users (a reason, a confirm); the
//      client cannot sign in; reactivated, they can again.
//   3. a search answered after a suspension (held back on purpose) does
//      not draw the account active again.
//   4. every admin page at 375 and 1280 px: a screenshot, axe (no serious
//      or critical), no console or page errors, no sideways scrolling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, axe, forget, launch, newPage, screenshot, settled, signIn, startServer, uniq, visit, assertClean, acceptedCandidate, inDays } from './harness.mjs';

let srv;
let browser;
let api;
let adminToken;

before(async () => {
  srv = await startServer();
  browser = await launch();
  api = apiClient(srv.base);
  adminToken = await api.login('admin@demo.opx');
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

const fmt = (minor) => new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'USD' }).format(minor / 100);
const re = (s) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

async function noSerious(page, what) {
  assert.deepEqual(await axe(page), [], `${what}: no serious or critical axe violations`);
}

/** A client (fresh), a request, its first invited engineer accepted: {client, engineer, candidate, request, ct, et}. */
const accepted = () => acceptedCandidate(api, { prefix: 'admin-j3', name: `Cora ${uniq().slice(-4)}`, title: 'Billing service',
  description: 'aiohttp + asyncpg billing service' });

/** An active fixed-price contract with one funded milestone of `amount`: {…accepted(), contract, milestone}. */
async function fundedContract(amount = 150000) {
  const pre = await accepted();
  const k = await api.call('POST', '/api/v1/contracts', { candidate_id: pre.candidate.id, type: 'fixed', currency: 'USD',
    milestones: [{ title: 'Invoice export', amount, due: inDays(14) }] }, pre.ct);
  await api.call('POST', `/api/v1/contracts/${k.id}/accept`, undefined, pre.et);
  const r = await fetch(`${srv.base}/api/v1/milestones/${k.milestones[0].id}/fund`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${pre.ct}`, 'Idempotency-Key': `t-${uniq()}` },
    body: JSON.stringify({ payment_method: 'tok_visa' }) });
  assert.equal(r.status, 200, `funding the milestone: ${await r.text()}`);
  return { ...pre, contract: k, milestone: k.milestones[0] };
}

/** Opens an app page and waits until it has drawn. */
async function open(page, to) {
  await visit(page, to);
  await settled(page, 10000);
}

async function confirm(page, name, expect) {
  const dlg = page.getByRole('dialog');
  await dlg.waitFor();
  if (expect) for (const e of [].concat(expect)) assert.match(await dlg.innerText(), e);
  await dlg.getByRole('button', { name }).click();
  await dlg.waitFor({ state: 'detached' });
}

const nav = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();

test('journey 3: the client disputes, the admin splits the escrow, both see the outcome, the ledger verifies', { timeout: 150000 }, async (t) => {
  const pre = await fundedContract(150000);
  const kPath = `/contracts/${pre.contract.id}`;
  const C = await newPage(browser, srv.base);
  const A = await newPage(browser, srv.base);
  const cp = C.page;
  const ap = A.page;
  await signIn(cp, pre.client.email, pre.client.password);
  await signIn(ap, 'admin@demo.opx');

  // the client disputes the funded milestone on the contract page
  await open(cp, kPath);
  const ms = cp.locator('li.milestone').first();
  await ms.locator('.chip', { hasText: 'Funded' }).waitFor();
  await ms.getByRole('button', { name: 'Open a dispute' }).click();
  await cp.getByLabel('Why are you disputing?').fill('The export drops every invoice after the first thousand.');
  await cp.getByRole('button', { name: 'Open the dispute' }).click();
  await confirm(cp, 'Open the dispute', /stays frozen/);
  await ms.locator('.chip', { hasText: 'Disputed' }).waitFor({ timeout: 10000 });

  // the admin finds it under Disputes
  await open(ap, '/');
  await ap.getByRole('heading', { name: 'Disputes' }).waitFor();
  assert.match(await ap.locator('section', { has: ap.getByRole('heading', { name: 'Disputes' }) }).innerText(), /1\+? open/);
  await nav(ap, 'Disputes');
  await settled(ap, 10000);
  const item = ap.locator('li.dispute-item', { hasText: pre.request.title });
  await item.waitFor();
  assert.match(await item.innerText(), re(fmt(150000)));
  assert.match(await item.innerText(), /drops every invoice/);
  await screenshot(ap, 'admin-disputes-open');
  await noSerious(ap, 'disputes list');
  await item.getByRole('link', { name: /Split the escrow/ }).click();

  // the split form: 1,000.00 to the engineer, 500.00 back; the sums add up
  await ap.getByRole('heading', { level: 1, name: /Dispute over “Invoice export”/ }).waitFor({ timeout: 10000 });
  const form = ap.locator('form.split-form');
  const release = form.getByLabel(new RegExp(`^To ${pre.engineer.name}`));
  const refund = form.getByLabel(new RegExp(`^To ${pre.client.name}`));
  assert.equal(await release.inputValue(), '750.00', 'half each to start');
  assert.equal(await refund.inputValue(), '750.00');
  await release.fill('1000');
  assert.equal(await refund.inputValue(), '500.00', 'the refund follows the release');
  const sums = form.locator('.split-sums');
  assert.match(await sums.innerText(), re(`Escrow ${fmt(150000)} = ${fmt(100000)} to ${pre.engineer.name} + ${fmt(50000)} to ${pre.client.name}`));
  assert.match(await sums.innerText(), re(`receives ${fmt(90000)} after the 10% platform fee (${fmt(10000)})`));
  // typing the other side moves the first, still adding up
  await refund.fill('600');
  assert.equal(await release.inputValue(), '900.00');
  await form.getByRole('button', { name: 'Half each' }).click();
  assert.equal(await release.inputValue(), '750.00');
  await release.fill('1000');
  assert.match(await form.locator('.legend').innerText(), re(`Refunded to ${pre.client.name}: ${fmt(50000)}`));
  await screenshot(ap, 'admin-dispute-split');
  await noSerious(ap, 'split form');
  await form.getByRole('button', { name: 'Resolve with this split' }).click();
  await confirm(ap, /^Resolve: /, [re(`${fmt(100000)} is released to ${pre.engineer.name}, who receives ${fmt(90000)}`), re(`${fmt(50000)} is refunded to ${pre.client.name}`)]);
  const outcome = ap.locator('section.outcome');
  await outcome.waitFor({ timeout: 15000 });
  assert.match(await outcome.innerText(), re(fmt(100000)));
  assert.match(await outcome.innerText(), re(fmt(50000)));
  await ap.getByRole('heading', { level: 1 }).locator('.chip', { hasText: 'Resolved' }).waitFor();
  await screenshot(ap, 'admin-dispute-resolved');

  // both parties see the outcome on the contract page (the client's follows live)
  await ms.locator('.chip', { hasText: 'Resolved' }).waitFor({ timeout: 10000 });
  const E = await newPage(browser, srv.base);
  const ep = E.page;
  await signIn(ep, pre.engineer.email);
  await open(ep, kPath);
  await ep.locator('li.milestone').first().locator('.chip', { hasText: 'Resolved' }).waitFor();
  // the split itself: in the receipts (the money picture) and in the dispute's outcome
  for (const p of [cp, ep]) {
    if (p === cp) await open(cp, kPath);
    await p.locator('.kpi', { hasText: 'Released' }).getByText(fmt(100000)).waitFor({ timeout: 10000 });
    await p.locator('.kpi', { hasText: 'Refunded' }).getByText(fmt(50000)).waitFor({ timeout: 10000 });
    await p.locator('.kpi', { hasText: 'In escrow' }).getByText(fmt(0)).waitFor();
    await p.getByText(/^Outcome:/).first().waitFor({ timeout: 10000 });
    const txt = await p.locator('#dp-h').locator('..').innerText();
    assert.match(txt, re(`${fmt(100000)} released to ${pre.engineer.name}`));
    assert.match(txt, re(`${fmt(50000)} refunded to ${pre.client.name}`));
  }
  await ep.locator('.kpi', { hasText: 'Released' }).waitFor();

  // the ledger verifies
  await nav(ap, 'Ledger');
  await settled(ap, 10000);
  await ap.getByText(/^Verify OK: 0 violations/).waitFor();
  await ap.locator('.ledger-verify .chip', { hasText: 'OK' }).waitFor();
  assert.match(await ap.locator('.ledger-currencies').innerText(), /sum to zero/);
  await noSerious(ap, 'ledger');
  assertClean(C.problems, 'client');
  assertClean(E.problems, 'engineer');
  assertClean(A.problems, 'admin');
  await C.context.close();
  await E.context.close();
  await A.context.close();
});

test('users: the admin suspends an account, which then cannot sign in; reactivated, it can', { timeout: 90000 }, async (t) => {
  const u = { email: `admin-sus-${uniq()}@example.test`, password: `pass-${uniq()}-long`, name: `Sasha ${uniq().slice(-4)}` };
  await api.register(u.name, u.email, u.password, 'client');
  const A = await newPage(browser, srv.base);
  const U = await newPage(browser, srv.base);
  const ap = A.page;
  await signIn(U.page, u.email, u.password); // a session that must end
  await signIn(ap, 'admin@demo.opx');
  await open(ap, '/');
  await nav(ap, 'Users');
  await settled(ap, 10000);
  await ap.getByLabel('Search').fill(u.email);
  const row = ap.locator('li.user-item', { hasText: u.email });
  await row.waitFor({ timeout: 10000 });
  await row.locator('.chip', { hasText: 'Active' }).waitFor();
  await row.getByRole('button', { name: `Suspend ${u.name}` }).click();
  await row.getByRole('button', { name: 'Suspend the account' }).click();
  await row.locator('.field-error').waitFor(); // a reason is required
  await row.getByLabel(`Why suspend ${u.name}?`).fill('Chargebacks on three cards in a day.');
  await row.getByRole('button', { name: 'Suspend the account' }).click();
  await confirm(ap, 'Suspend', [/can no longer sign in/, /every session of the account ends/]);
  await row.locator('.chip', { hasText: 'Suspended' }).waitFor({ timeout: 10000 });
  await screenshot(ap, 'admin-users-suspended');
  await noSerious(ap, 'users');

  // the open session ended: the next page the user opens sends them to sign in
  await U.page.goto('/settings');
  await U.page.waitForURL((x) => x.pathname === '/signin', { timeout: 10000 });
  forget(U.problems);
  // and signing in is refused
  await U.page.getByLabel('Email').fill(u.email);
  await U.page.getByLabel('Password').fill(u.password);
  await U.page.getByRole('button', { name: 'Sign in' }).click();
  await U.page.locator('.error-summary').waitFor();
  assert.match(await U.page.locator('.error-summary').innerText(), /suspended/i, 'the sign-in page says the account is suspended');
  assert.ok(U.page.url().includes('/signin'), 'still on the sign-in page');
  await screenshot(U.page, 'admin-users-suspended-signin');

  // reactivated, they can sign in again
  await row.getByRole('button', { name: `Reactivate ${u.name}` }).click();
  await confirm(ap, 'Reactivate', /can sign in again/);
  await row.locator('.chip', { hasText: 'Active' }).waitFor({ timeout: 10000 });
  await U.page.getByRole('button', { name: 'Sign in' }).click();
  await U.page.waitForURL((x) => !x.pathname.startsWith('/signin'), { timeout: 10000 });
  assertClean(A.problems, 'admin');
  assert.deepEqual(U.problems.pageErrors, [], 'the suspended user: no page errors');
  await A.context.close();
  await U.context.close();
});

test('users: a search answered after a suspension does not show the account active again', { timeout: 60000 }, async () => {
  const u = { email: `admin-race-${uniq()}@example.test`, password: `pass-${uniq()}-long`, name: `Rae ${uniq().slice(-4)}` };
  await api.register(u.name, u.email, u.password, 'client');
  const A = await newPage(browser, srv.base);
  const ap = A.page;
  await signIn(ap, 'admin@demo.opx');
  await open(ap, `/admin/users?q=${encodeURIComponent(u.email)}`);
  const row = ap.locator('li.user-item', { hasText: u.email });
  await row.locator('.chip', { hasText: 'Active' }).waitFor({ timeout: 10000 });
  // the next search reaches the server now, but its answer is held back until the suspension is on the page
  let release;
  const held = new Promise((r) => { release = r; });
  let answered;
  const atServer = new Promise((r) => { answered = r; });
  await ap.route((url) => url.pathname === '/api/v1/admin/users' && url.searchParams.get('role') === 'client', async (route) => {
    const resp = await route.fetch();
    answered();
    await held;
    await route.fulfill({ response: resp });
  });
  await ap.getByLabel('Role').selectOption('client');
  await atServer;
  await row.getByRole('button', { name: `Suspend ${u.name}` }).click();
  await row.getByLabel(`Why suspend ${u.name}?`).fill('Opened ten disputes in an hour.');
  await row.getByRole('button', { name: 'Suspend the account' }).click();
  await confirm(ap, 'Suspend');
  await row.locator('.chip', { hasText: 'Suspended' }).waitFor({ timeout: 10000 });
  release();
  await settled(ap, 10000);
  assert.equal(await row.locator('.chip', { hasText: 'Suspended' }).count(), 1, 'still suspended once the older search is drawn');
  assert.equal(await row.getByRole('button', { name: `Reactivate ${u.name}` }).count(), 1);
  assert.ok(ap.url().includes('role=client'), 'the search itself was applied');
  await ap.unroute('**');
  assertClean(A.problems, 'admin');
  await A.context.close();
});

test('every admin page at 375 and 1280 px: screenshots, axe, no errors, no sideways scrolling', { timeout: 180000 }, async () => {
  // something on each page: an open dispute, a request past its SLA (the clock moves 8 h), a payout run
  const pre = await fundedContract(80000);
  await api.call('POST', `/api/v1/milestones/${pre.milestone.id}/dispute`, { reason: 'Not delivered by the due date.' }, pre.ct);
  const k = await api.call('GET', `/api/v1/contracts/${pre.contract.id}`, undefined, adminToken);
  const disputeId = k.milestones[0].dispute_id;
  // a request still short of three acceptances, past half-time (widened) and past its deadline (breached)
  const late = await api.call('POST', '/api/v1/requests', {
    title: `Rate limiter ${uniq()}`, description: 'A Redis-backed rate limiter for aiohttp', frameworks: ['aiohttp'],
    must_have: ['rate-limiting', 'redis-asyncio'], nice_to_have: ['circuit-breakers'], seniority: 'staff', engagement: 'hourly',
    budget: { amount: 20000, currency: 'USD' }, hours_per_week: 10, timezone: 'America/New_York', min_overlap_hours: 4,
    start_date: inDays(20) }, pre.ct);
  const board = async (ok) => {
    for (let i = 0; i < 60; i++) {
      const b = await api.call('GET', '/api/v1/admin/sla', undefined, adminToken);
      const it = b.items.find((x) => x.id === late.id);
      if (it && ok(it)) return it;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('the SLA jobs did not run in time');
  };
  await api.call('POST', '/api/v1/_test/clock', { advance_seconds: 4 * 3600 + 30 });
  await board((it) => it.relaxed.length > 0);
  await api.call('POST', '/api/v1/_test/clock', { advance_seconds: 4 * 3600 });
  await board((it) => it.status === 'breached');
  await fetch(`${srv.base}/api/v1/admin/payouts`, { method: 'POST', headers: { Authorization: `Bearer ${adminToken}`, 'Idempotency-Key': `t-${uniq()}` } });
  const pages = [['home', '/'], ['sla', '/admin/sla'], ['disputes', '/admin/disputes'], ['ledger', '/admin/ledger'],
    ['money', '/admin/money'], ['outbox', '/admin/outbox'], ['users', '/admin/users']];
  pages.push(['dispute-split', `/admin/disputes?id=${disputeId}`]);
  for (const width of [375, 1280]) {
    const A = await newPage(browser, srv.base, { width, height: 800 });
    const ap = A.page;
    await signIn(ap, 'admin@demo.opx');
    for (const [name, p] of pages) {
      await open(ap, p);
      if (name === 'sla') {
        const it = ap.locator(`.sla-item[data-request="${late.id}"]`);
        await it.locator('.chip', { hasText: 'SLA breached' }).waitFor();
        assert.match(await it.innerText(), /overdue by/);
        assert.match(await it.innerText(), /Widened: /);
      }
      if (name === 'home') await ap.getByRole('heading', { name: 'Ledger' }).waitFor();
      if (name === 'ledger') await ap.getByText(/^Verify OK/).waitFor();
      await screenshot(ap, `admin-${name}`);
      await noSerious(ap, `${name} at ${width}`);
      const over = await ap.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(over <= 0, `${name} at ${width} px: no sideways scrolling (${over}px too wide)`);
    }
    assertClean(A.problems, `admin pages at ${width}`);
    await A.context.close();
  }
});
