// test_client: journey 1 of issue 11 up to the offer, by clicking, with the
// client and the shortlisted engineer side by side (two browser contexts,
// so what moves the other side's page is the live stream, not a reload).
//   OPX_DEV_WEB=1 node --test tests/browser/test_client.mjs
//   1. A new client signs up through the form, lands on the request form,
//      raises a request and sees the explained shortlist (score parts and
//      vetted levels per candidate). The first shortlisted engineer (a
//      demo engineer: their email from the admin's GET /api/v1/engineers/{id},
//      a precondition) signs in, opens the invitations and accepts; the
//      client's page shows the acceptance live, with the offer and message
//      links. A second request (raised through the API: a precondition)
//      arrives live on the engineer's invitations; the client cancels it
//      and the engineer sees the withdrawal.
//   2. Bad input on the request form: field errors beside their fields and
//      in the summary, what was typed kept, and no request created.
// Screenshots of each screen at 1280 and 375 px (client-*.png); axe on each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, axe, launch, newPage, screenshot, settled, signIn, startServer, uniq, visit, assertClean, inDays } from './harness.mjs';

let srv;
let browser;
let api;

before(async () => {
  srv = await startServer();
  browser = await launch();
  api = apiClient(srv.base);
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

/** Screenshots at 1280 and 375 and axe at both; the page is left at 1280. */
async function look(page, name) {
  for (const width of [1280, 375]) {
    await page.setViewportSize({ width, height: width === 375 ? 740 : 800 });
    await page.waitForTimeout(50); // one frame for the layout to follow the new width
    await screenshot(page, `client-${name}`);
    assert.deepEqual(await axe(page), [], `${name} at ${width}px: no serious or critical axe violations`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}


const REQUEST = {
  description: 'A FastAPI + asyncpg payouts service: webhooks in, transfers out, with tests.',
  frameworks: ['fastapi'], must_have: ['asyncpg'], nice_to_have: ['httpx'], seniority: 'senior', engagement: 'hourly',
  budget: { amount: 15000, currency: 'USD' }, hours_per_week: 20, timezone: 'Europe/Berlin', min_overlap_hours: 3,
};

test('journey 1: sign up, raise a request, the explained shortlist; the engineer accepts and the client sees it live; a cancel withdraws the invitation', { timeout: 180000 }, async (t) => {
  const C = await newPage(browser, srv.base);
  const cp = C.page;
  const client = { name: 'Cleo Client', email: `client-${uniq()}@example.test`, password: `pass-${uniq()}-long` };

  // a new client signs up through the form and lands on the request form
  await visit(cp, '/signup');
  await settled(cp);
  await cp.getByLabel('Name').fill(client.name);
  await cp.getByLabel('Email').fill(client.email);
  await cp.getByLabel('Password').fill(client.password);
  await cp.getByRole('radio', { name: /hire engineers/ }).check();
  await cp.getByRole('button', { name: 'Create account' }).click();
  await cp.waitForURL((u) => u.pathname === '/requests/new');
  await settled(cp);

  // the client's home for a new client: the empty state says what to do
  await cp.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
  await cp.getByRole('heading', { name: 'Start with a request' }).waitFor();
  await look(cp, 'home-new');
  await cp.getByRole('link', { name: 'Raise a request' }).first().click();
  await cp.waitForURL((u) => u.pathname === '/requests/new');
  await settled(cp);

  // the form knows the catalog: grouped, searchable, must-have vs nice-to-have
  const form = cp.locator('form.request-form');
  for (const group of ['Database drivers', 'HTTP clients', 'Concurrency', 'Testing async code', 'Production']) {
    assert.equal(await form.getByRole('heading', { level: 3, name: group }).count(), 1, `group ${group}`);
  }
  await form.getByLabel('Skills needed').fill('trac');
  assert.equal(await form.getByLabel('Distributed tracing').isVisible(), true, 'the search finds tracing');
  assert.equal(await form.getByLabel('asyncpg', { exact: true }).isVisible(), false, 'and hides the rest');
  await form.getByLabel('Skills needed').fill('');
  const title = `Payments API ${uniq()}`;
  await form.getByLabel('Title', { exact: true }).fill(title);
  await form.getByLabel('Description').fill(REQUEST.description);
  await form.getByRole('checkbox', { name: 'FastAPI' }).check();
  await form.getByLabel('asyncpg', { exact: true }).selectOption('must');
  await form.getByLabel('HTTPX').selectOption('nice');
  assert.match(await form.locator('.skill-counts').innerText(), /1 must-have .* 1 nice-to-have/);
  await form.getByLabel('Seniority').selectOption('senior');
  await form.getByRole('radio', { name: /^Hourly/ }).check();
  await form.getByLabel(/^Maximum hourly rate/).fill('150');
  await form.getByLabel('Currency', { exact: true }).selectOption('USD');
  await form.getByLabel('Hours a week').fill('20');
  await form.getByLabel('Your time zone').fill('Europe/Berlin');
  await form.getByLabel('Overlap (hours)').fill('3');
  await form.getByLabel('Start date').fill(inDays(14));
  await look(cp, 'request-new');
  await form.getByRole('button', { name: 'Raise the request' }).click();

  // straight to the request page with the explained shortlist
  await cp.waitForURL(/\/requests\/req_/);
  await settled(cp);
  const requestId = new URL(cp.url()).pathname.split('/').pop();
  await cp.getByRole('heading', { level: 1, name: title }).waitFor();
  assert.equal(await cp.locator('h1 .chip').innerText(), 'Matching');
  await cp.locator('.sla-card .countdown', { hasText: /to match/ }).waitFor();
  assert.match(await cp.locator('.sla-card').innerText(), /0 of 3 accepted/);
  const cands = cp.locator('li.cand');
  await cands.first().waitFor();
  const n = await cands.count();
  assert.ok(n >= 1 && n <= 5, `a shortlist of 1 to 5 (got ${n})`);
  const first = cands.first();
  const candId = await first.getAttribute('data-candidate');
  const engineerId = await first.getAttribute('data-engineer');
  const engineerName = await first.locator('.cand-name').innerText();
  assert.equal(await first.locator('.chip').first().innerText(), 'Invited');
  const parts = await first.locator('.cand-why svg[role=img]').getAttribute('aria-label');
  assert.match(parts, /Score parts\. Must-haves: [\d.]+ of 40; Frameworks: [\d.]+ of 10/, 'the score parts as bars');
  await first.locator('.cand-levels svg[role=img]').waitFor();
  assert.match(await first.locator('.cand-levels svg[role=img]').getAttribute('aria-label'), /Vetted skill levels\. asyncpg: \d of 5/, 'the vetted levels, asked-for skills first');
  assert.match(await first.locator('.explain-words').innerText(), /Must-haves: asyncpg \d\/5/);
  await look(cp, 'request-detail');

  // the shortlisted engineer (a demo engineer: the email is a precondition) signs in and accepts
  const admin = await api.login('admin@demo.opx');
  const eng = (await api.call('GET', `/api/v1/engineers/${engineerId}`, undefined, admin)).engineer;
  assert.equal(eng.name, engineerName);
  const E = await newPage(browser, srv.base);
  const ep = E.page;
  await signIn(ep, eng.email);
  await ep.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Invitations' }).click();
  await ep.waitForURL((u) => u.pathname === '/invitations');
  await settled(ep);
  const inv = ep.locator(`li.inv[data-candidate="${candId}"]`);
  await inv.waitFor();
  assert.equal(await inv.getByRole('heading', { level: 2 }).innerText(), title);
  assert.match(await inv.innerText(), /US\$150\.00 an hour at most/);
  await inv.locator('.countdown', { hasText: /to answer/ }).waitFor();
  await look(ep, 'invitations');

  // the decline form needs a reason (nothing is sent without one), then is put away
  await inv.getByRole('button', { name: 'Decline…' }).click();
  await inv.getByRole('button', { name: 'Decline the invitation' }).click();
  await inv.locator('.field-error', { hasText: /is required/ }).waitFor();
  await screenshot(ep, 'client-invitations-decline');
  await inv.getByRole('button', { name: 'Keep it open' }).click();

  await cp.evaluate(() => { window.__noReload = 'still here'; });
  await inv.getByRole('button', { name: 'Accept' }).click();
  await inv.locator('.chip', { hasText: 'Accepted' }).waitFor();
  assert.match(await inv.innerText(), /You accepted/);

  // the client's page follows live, without a reload
  const acc = cp.locator(`li.cand[data-candidate="${candId}"]`);
  await acc.locator('.chip', { hasText: 'Accepted' }).waitFor({ timeout: 10000 });
  assert.equal(await cp.evaluate(() => window.__noReload), 'still here', 'no reload');
  await cp.locator('.sla-card', { hasText: '1 of 3 accepted' }).waitFor();
  const firstName = engineerName.split(' ')[0];
  const offer = acc.getByRole('link', { name: `Make an offer to ${firstName}` });
  assert.equal(await offer.getAttribute('href'), `/offers/new/${candId}?request=${requestId}`);
  const message = acc.getByRole('link', { name: new RegExp(`^(Message ${firstName}|Open your messages)$`) });
  assert.match(await message.getAttribute('href'), /^\/messages(\/cnv_[0-9a-z]+)?$/);
  await look(cp, 'request-accepted');

  // the client's home: the candidate waiting, the open request with its ring
  await cp.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
  await cp.getByRole('heading', { name: /Candidates waiting for you/ }).waitFor();
  const waiting = cp.locator(`li[data-candidate="${candId}"]`);
  await waiting.getByText(engineerName).waitFor();
  assert.equal(await waiting.getByRole('link', { name: 'Make an offer' }).getAttribute('href'), `/offers/new/${candId}?request=${requestId}`);
  await cp.locator(`li[data-request="${requestId}"] .countdown`).waitFor();
  await look(cp, 'home');

  // the requests list
  await cp.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Requests' }).click();
  await cp.waitForURL((u) => u.pathname === '/requests');
  await settled(cp);
  const row = cp.locator(`li.req-row[data-request="${requestId}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /1 of 3 accepted/);
  await look(cp, 'requests');

  // a second request (a precondition through the API) arrives live on the engineer's open page
  const ct = await api.login(client.email, client.password);
  const second = await api.call('POST', '/api/v1/requests', { ...REQUEST, title: `Webhooks worker ${uniq()}`, start_date: inDays(21) }, ct);
  const cand2 = second.candidates.find((c) => c.engineer_id === engineerId);
  assert.ok(cand2, 'the same engineer is shortlisted for the same terms');
  const inv2 = ep.locator(`li.inv[data-candidate="${cand2.id}"]`);
  await inv2.waitFor({ timeout: 10000 });
  assert.equal(await inv2.getByRole('heading', { level: 2 }).innerText(), second.title);

  await t.test('the client cancels the second request; the engineer sees the withdrawal', async () => {
    await visit(cp, `/requests/${second.id}`);
    await settled(cp);
    await cp.getByRole('button', { name: 'Cancel the request' }).click();
    const dlg = cp.getByRole('dialog');
    await dlg.waitFor();
    assert.match(await dlg.innerText(), /open invitations? (is|are) withdrawn/);
    await dlg.getByRole('button', { name: 'Cancel the request' }).click();
    await cp.locator('h1 .chip', { hasText: 'Cancelled' }).waitFor();
    assert.equal(await cp.getByRole('button', { name: 'Cancel the request' }).count(), 0, 'nothing left to cancel');
    await inv2.locator('.chip', { hasText: 'Withdrawn' }).waitFor({ timeout: 10000 });
    assert.match(await inv2.innerText(), /withdrew|withdrawn/i);
    assert.equal(await inv2.getByRole('button', { name: 'Accept' }).count(), 0, 'a withdrawn invitation cannot be accepted');
    await screenshot(ep, 'client-invitations-withdrawn');
    await screenshot(cp, 'client-request-cancelled');
  });

  assertClean(C.problems, 'client');
  assertClean(E.problems, 'engineer');
  await C.context.close();
  await E.context.close();
});

test('the request form: bad input shows field errors beside the fields, keeps what was typed and creates nothing', { timeout: 60000 }, async () => {
  const client = { email: `client-bad-${uniq()}@example.test`, password: `pass-${uniq()}-long` };
  await api.register('Bea Bad-Input', client.email, client.password, 'client');
  const { context, page, problems } = await newPage(browser, srv.base);
  await signIn(page, client.email, client.password);
  // from a hire page's button: the framework is ticked
  await visit(page, '/requests/new?framework=sanic');
  await settled(page);
  const form = page.locator('form.request-form');
  assert.equal(await form.getByRole('checkbox', { name: 'Sanic' }).isChecked(), true, '?framework= ticks it');
  await form.getByLabel('Title').fill('Bad one');
  await form.getByLabel('Description').fill('No must-have, a zone that does not exist, a start in the past.');
  await form.getByLabel(/^Maximum hourly rate/).fill('90');
  await form.getByLabel('Your time zone').fill('Mars/Olympus_Mons');
  await form.getByLabel('Start date').fill('2020-01-01');
  await form.getByRole('button', { name: 'Raise the request' }).click();

  const summary = form.locator('.error-summary');
  await summary.waitFor();
  const text = await summary.innerText();
  assert.match(text, /There is a problem/);
  for (const [fieldName, re] of [['timezone', /IANA time zone/], ['start_date', /past/], ['must_have', /1 to 10 must-haves/]]) {
    const f = form.locator(`.field[data-field="${fieldName}"]`).first();
    assert.match(await f.locator('.field-error').first().innerText(), re, `${fieldName}: the error beside the field`);
  }
  assert.equal(await form.getByLabel('Your time zone').getAttribute('aria-invalid'), 'true');
  assert.equal(new URL(page.url()).pathname, '/requests/new', 'still on the form');
  assert.equal(await form.getByLabel('Title').inputValue(), 'Bad one', 'what was typed is kept');
  assert.equal(await form.getByLabel('Description').inputValue(), 'No must-have, a zone that does not exist, a start in the past.');
  // the summary's links take the keyboard to the field
  await summary.getByRole('link', { name: /time zone/ }).click();
  assert.equal(await page.evaluate(() => document.activeElement?.name), 'timezone');
  await look(page, 'request-new-errors');

  // an amount that is not a number never leaves the browser
  await form.getByLabel(/^Maximum hourly rate/).fill('ninety');
  await form.getByRole('button', { name: 'Raise the request' }).click();
  await form.locator('.field[data-field="budget.amount"] .field-error', { hasText: /must be an amount/ }).waitFor();

  const token = await api.login(client.email, client.password);
  const list = await api.call('GET', '/api/v1/requests', undefined, token);
  assert.equal(list.items.length, 0, 'nothing was created');

  // the list's empty state says what to do next
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Requests' }).click();
  await page.getByText('You have not raised a request yet.').waitFor();
  await look(page, 'requests-empty');
  assertClean(problems, 'client');
  await context.close();
});

test('an admin sees every request, filters by state and searches', { timeout: 60000 }, async () => {
  // preconditions: two clients, one request each
  const titles = [];
  for (const who of ['Ann', 'Ben']) {
    const email = `client-${who.toLowerCase()}-${uniq()}@example.test`;
    const password = `pass-${uniq()}-long`;
    await api.register(`${who} Client`, email, password, 'client');
    const token = await api.login(email, password);
    const title = `${who}'s queue worker ${uniq()}`;
    await api.call('POST', '/api/v1/requests', { ...REQUEST, title, start_date: inDays(10) }, token);
    titles.push(title);
  }
  const { context, page, problems } = await newPage(browser, srv.base);
  await signIn(page, 'admin@demo.opx');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Requests' }).click();
  await page.waitForURL((u) => u.pathname === '/requests');
  await settled(page);
  await page.getByRole('heading', { level: 1, name: 'All requests' }).waitFor();
  for (const title of titles) await page.getByRole('link', { name: title }).waitFor();
  await page.getByRole('link', { name: 'Cancelled', exact: true }).click();
  await page.waitForURL((u) => u.searchParams.get('status') === 'cancelled');
  await settled(page);
  assert.equal(await page.getByRole('link', { name: titles[0] }).count(), 0, 'a matching request is not among the cancelled');
  await page.getByRole('link', { name: 'Open', exact: true }).click();
  await page.waitForURL((u) => u.searchParams.get('status') === 'open');
  await settled(page);
  await page.getByLabel('Search titles or a client id').fill(titles[1]);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL((u) => u.searchParams.get('q') === titles[1]);
  await settled(page);
  await page.getByRole('link', { name: titles[1] }).waitFor();
  assert.equal(await page.getByRole('link', { name: titles[0] }).count(), 0, 'the search narrows the list');
  await look(page, 'requests-admin');
  // an admin opens a request: the shortlist, and no offer to make (that is the client's)
  await page.getByRole('link', { name: titles[1] }).click();
  await page.waitForURL(/\/requests\/req_/);
  await settled(page);
  await page.locator('li.cand').first().waitFor();
  assert.equal(await page.getByRole('link', { name: /Make an offer/ }).count(), 0);
  await screenshot(page, 'client-request-admin');
  assertClean(problems, 'admin');
  await context.close();
});

// last in this file: it moves the server's clock forward
test('the SLA: a request not matched in 8 hours turns breached on the open page, live', { timeout: 60000 }, async () => {
  const client = { email: `client-sla-${uniq()}@example.test`, password: `pass-${uniq()}-long` };
  await api.register('Sam Slow', client.email, client.password, 'client');
  const token = await api.login(client.email, client.password);
  const req = await api.call('POST', '/api/v1/requests', { ...REQUEST, title: `Slow match ${uniq()}`, start_date: inDays(10) }, token);
  const { context, page, problems } = await newPage(browser, srv.base);
  await signIn(page, client.email, client.password, `/requests/${req.id}`);
  await settled(page);
  await page.locator('.sla-card .countdown', { hasText: /7 h 5\d min to match|8 h to match/ }).waitFor();
  await page.evaluate(() => { window.__noReload = 'still here'; });
  await api.call('POST', '/api/v1/_test/clock', { advance_seconds: 8 * 3600 + 60 });
  await page.locator('h1 .chip', { hasText: 'SLA breached' }).waitFor({ timeout: 15000 });
  await page.locator('.sla-card', { hasText: /Not matched in 8 hours \(0 of 3 accepted\)/ }).waitFor();
  await page.locator('.sla-card .countdown', { hasText: /deadline passed|overdue/ }).waitFor();
  assert.equal(await page.evaluate(() => window.__noReload), 'still here', 'no reload');
  await look(page, 'request-breached');
  assertClean(problems, 'client');
  await context.close();
});
