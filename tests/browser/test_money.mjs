// test_money: offers, contracts and the money, by clicking, as a client and
// an engineer side by side (two browser contexts, so live updates are what
// moves the other side's page).
//   node --test tests/browser/test_money.mjs      (OPX_BIN=... to pick the binary)
// Preconditions only go through the API: a fresh client raises a request
// and its first invited engineer accepts (their email from the admin's
// GET /api/v1/engineers/{id}). Then:
//   1. fixed price: the client offers one milestone; the engineer accepts;
//      a declined test card shows a clear error and leaves it unfunded; the
//      Visa test card funds it; the engineer submits; the client approves;
//      the engineer's earnings show the release less 10%; the contract ends
//      and both write reviews and see each other's.
//   2. hourly (journey 4): the week is funded, the engineer submits a
//      timesheet, the client approves it, and the receipts show the charge
//      and the refund of the unused part, linked to that charge.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, axe, launch, newPage, settled, startServer, uniq, PASSWORD, assertClean, screenshot, acceptedCandidate, inDays } from './harness.mjs';


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

/** build/test-logs/screens/<name>-<width>.png (harness.screenshot) */
const shot = (page, name) => screenshot(page, `${name.replace(/-(375|1280)$/, '')}`);

/** Opens an app page: straight away, or (a build that serves only /) from the home page through the router. */
async function open(page, to) {
  const r = await page.goto(to);
  if (r && r.status() === 404) {
    await page.goto('/');
    await page.evaluate((p) => { history.pushState(null, '', p); dispatchEvent(new PopStateEvent('popstate')); }, to);
  }
  await settled(page, 10000);
}

/** Signs in through the form (reached from the header's link), as a person would. */
async function signIn(page, email, password = PASSWORD) {
  await open(page, '/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
}

/** A fresh client with a request whose first invited engineer accepted: {client, engineer, candidate, request}. */
async function accepted() {
  const p = await acceptedCandidate(api, { prefix: 'money' });
  return { client: p.client, engineer: p.engineer, candidate: p.candidate, request: p.request };
}

const fmt = (minor) => new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'USD' }).format(minor / 100);

/** Confirms the open dialog with its button named `name`. */
async function confirm(page, name, expect) {
  const dlg = page.getByRole('dialog');
  await dlg.waitFor();
  if (expect) assert.match(await dlg.innerText(), expect);
  await dlg.getByRole('button', { name }).click();
  await dlg.waitFor({ state: 'detached' });
}

test('fixed price: offer, accept, a declined card then Visa, submit, approve, earnings, reviews', { timeout: 120000 }, async (t) => {
  const pre = await accepted();
  const C = await newPage(browser, srv.base);
  const E = await newPage(browser, srv.base);
  const cp = C.page;
  const ep = E.page;
  await signIn(cp, pre.client.email, pre.client.password);
  await signIn(ep, pre.engineer.email);

  // the client makes the offer: one milestone of 1,500.00
  await open(cp, `/offers/new/${pre.candidate.id}?request=${pre.request.id}`);
  await cp.getByRole('heading', { level: 1, name: new RegExp(`offer to ${pre.engineer.name}`, 'i') }).waitFor();
  await cp.getByRole('radio', { name: /^Fixed price/ }).check();
  await cp.getByLabel('What will be delivered').fill('API skeleton with tests');
  await cp.getByLabel(/^Amount/).fill('1500');
  await cp.getByLabel('Due date').fill(inDays(21));
  const totals = cp.locator('.offer-totals');
  await totals.getByText(fmt(135000)).waitFor(); // what the engineer receives, before sending
  assert.match(await totals.innerText(), /10%/);
  await shot(cp, 'money-01-offer');
  assert.deepEqual(await axe(cp), [], 'offer form: no serious axe violations');
  await cp.getByRole('button', { name: 'Send the offer' }).click();
  await cp.waitForURL(/\/contracts\/ctr_/);
  const contractPath = new URL(cp.url()).pathname;
  await cp.getByRole('heading', { level: 1 }).locator('.chip', { hasText: 'Offer sent' }).waitFor();

  // the engineer sees the offer on the home page and accepts it
  await open(ep, '/');
  await ep.getByRole('heading', { name: /Offers to answer/ }).waitFor();
  await ep.getByRole('link', { name: 'Review the offer' }).click();
  await ep.getByRole('button', { name: 'Accept the offer' }).click();
  await ep.getByRole('heading', { level: 1 }).locator('.chip', { hasText: 'Active' }).waitFor();

  // the client's page follows live; a declined card is a clear error and funds nothing
  const fund = cp.getByRole('button', { name: `Fund ${fmt(150000)}` });
  await fund.waitFor({ timeout: 10000 });
  await fund.click();
  await cp.getByLabel(/Declined test card/).check();
  await cp.locator('form.panel').getByRole('button', { name: `Fund ${fmt(150000)}` }).click();
  await confirm(cp, `Fund ${fmt(150000)}`, new RegExp(`${fmt(150000).replace('$', '\\$')} moves from your card into escrow.*${fmt(135000).replace('$', '\\$')}`));
  const summary = cp.locator('.error-summary');
  await summary.getByText(/Your card was declined/).waitFor();
  assert.match(await summary.innerText(), /still not funded/);
  const ms = cp.locator('li.milestone').first();
  await ms.locator('.chip', { hasText: 'Not funded' }).waitFor();
  await cp.locator('table.receipts').getByText('Failed').waitFor();
  await shot(cp, 'money-02-declined');

  // then the Visa test card
  await cp.getByLabel(/Visa test card/).check();
  await cp.locator('form.panel').getByRole('button', { name: `Fund ${fmt(150000)}` }).click();
  await confirm(cp, `Fund ${fmt(150000)}`);
  await ms.locator('.chip', { hasText: 'Funded' }).waitFor();
  assert.equal(await cp.locator('.error-summary').count(), 0, 'the error is gone once funded');
  await cp.locator('.kpi', { hasText: 'In escrow' }).getByText(fmt(150000)).waitFor();

  // the engineer delivers (the funded milestone appears without a reload)
  const submit = ep.getByRole('button', { name: 'Submit the work' });
  await submit.waitFor({ timeout: 10000 });
  await submit.click();
  await ep.getByLabel('What you delivered').fill('Endpoints, migrations and tests; see the pull request.');
  await ep.getByLabel(/^Links/).fill('https://github.com/example/payments/pull/1');
  await ep.getByRole('button', { name: 'Submit for review' }).click();
  await ep.locator('li.milestone .chip', { hasText: 'Submitted' }).waitFor();

  // the client approves: escrow to the engineer, less the fee
  const approve = cp.getByRole('button', { name: `Approve and release ${fmt(150000)}` });
  await approve.waitFor({ timeout: 10000 });
  await shot(cp, 'money-03-to-approve');
  await approve.click();
  await confirm(cp, `Release ${fmt(150000)}`, /receives .*1,350\.00.*10% platform fee/);
  await ms.locator('.chip', { hasText: 'Released' }).waitFor();
  assert.deepEqual(await axe(cp), [], 'contract page: no serious axe violations');

  // the engineer's earnings: payable is the release less 10%
  await ep.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Earnings' }).click();
  await ep.getByRole('heading', { level: 1, name: 'Earnings' }).waitFor();
  await ep.locator('.kpi', { hasText: 'Payable' }).getByText(fmt(135000)).waitFor();
  await shot(ep, 'money-04-earnings');
  assert.deepEqual(await axe(ep), [], 'earnings: no serious axe violations');

  // the client ends the contract; both review; each sees the other's
  await cp.getByRole('button', { name: 'End contract' }).click();
  await confirm(cp, 'End the contract', /Nothing is in escrow/);
  await cp.getByRole('heading', { level: 1 }).locator('.chip', { hasText: 'Ended' }).waitFor();
  await cp.locator('label.star', { hasText: '5 stars' }).click();
  await cp.getByLabel('Comment').fill('Clear, fast and well tested.');
  await cp.getByRole('button', { name: 'Publish my review' }).click();
  await cp.getByRole('heading', { name: 'Your review' }).waitFor();
  assert.match(await cp.locator('section', { has: cp.getByRole('heading', { name: 'Reviews' }) }).innerText(), /shows here once you have both written/);

  await ep.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contracts' }).click();
  await ep.getByRole('link', { name: pre.request.title }).click();
  await ep.waitForURL((u) => u.pathname === contractPath);
  await ep.getByText(/has written a review/).waitFor();
  await ep.locator('label.star', { hasText: '4 stars' }).click();
  await ep.getByLabel('Comment').fill('Quick to fund and to review.');
  await ep.getByRole('button', { name: 'Publish my review' }).click();
  await ep.getByRole('heading', { name: 'Your review' }).waitFor();
  await ep.getByRole('heading', { name: `${pre.client.name}'s review of you` }).waitFor();
  assert.match(await ep.locator('.review').last().innerText(), /Clear, fast and well tested/);
  await cp.getByRole('heading', { name: `${pre.engineer.name}'s review of you` }).waitFor({ timeout: 10000 }); // live
  assert.match(await cp.getByRole('main').innerText(), /Quick to fund and to review/);
  await shot(cp, 'money-05-reviews');
  await shot(ep, 'money-05-reviews-engineer');
  assertClean(C.problems);
  assertClean(E.problems);
  await C.context.close();
  await E.context.close();
});

test('hourly (journey 4): the week funded, a timesheet, approval, the charge and the refund of the unused part', { timeout: 120000 }, async (t) => {
  const pre = await accepted();
  const C = await newPage(browser, srv.base, { width: 375, height: 800 });
  const E = await newPage(browser, srv.base);
  const cp = C.page;
  const ep = E.page;
  await signIn(cp, pre.client.email, pre.client.password);
  await signIn(ep, pre.engineer.email);

  // $100/h up to 20 h: the week's escrow is $2,000
  await open(cp, `/offers/new/${pre.candidate.id}?request=${pre.request.id}`);
  await cp.getByRole('radio', { name: /^Hourly/ }).check();
  await cp.getByLabel('Hourly rate').fill('100');
  await cp.getByLabel('Weekly cap (hours)').fill('20');
  await cp.locator('.offer-totals').getByText(fmt(180000)).waitFor();
  await cp.getByRole('button', { name: 'Send the offer' }).click();
  await cp.waitForURL(/\/contracts\/ctr_/);

  await open(ep, '/');
  await ep.getByRole('link', { name: 'Review the offer' }).click();
  await ep.getByRole('button', { name: 'Accept the offer' }).click();
  await ep.getByRole('heading', { level: 1 }).locator('.chip', { hasText: 'Active' }).waitFor();

  const fund = cp.getByRole('button', { name: `Fund ${fmt(200000)}` });
  await fund.waitFor({ timeout: 10000 });
  await fund.click();
  await cp.getByLabel(/Visa test card/).check();
  await cp.locator('form.panel').getByRole('button', { name: `Fund ${fmt(200000)}` }).click();
  await confirm(cp, `Fund ${fmt(200000)}`);
  await cp.locator('li.milestone').first().locator('.chip', { hasText: 'Funded' }).waitFor();

  // the engineer submits 12 hours for the week
  const ts = ep.getByRole('button', { name: 'Submit the timesheet' });
  await ts.waitFor({ timeout: 10000 });
  await ts.click();
  await ep.getByLabel('Hours worked').fill('12');
  await ep.getByText(/The unused .*800\.00 goes back to the client/).waitFor();
  await ep.getByLabel('What you worked on').fill('Payout batching and the retry job.');
  await ep.locator('form.panel').getByRole('button', { name: 'Submit the timesheet' }).click();
  await ep.locator('.timesheet .chip', { hasText: 'Submitted' }).waitFor();

  // the client approves 12 h: $1,200 released, $800 refunded
  const approve = cp.getByRole('button', { name: `Approve 12 h (${fmt(120000)})` });
  await approve.waitFor({ timeout: 10000 });
  await approve.click();
  await confirm(cp, `Approve ${fmt(120000)}`, /unused .*800\.00.*refunded to your card/);
  await cp.locator('li.milestone').first().locator('.chip', { hasText: 'Released' }).waitFor();

  // the receipts: the charge and the refund of the unused part, linked to it
  const receipts = cp.locator('table.receipts');
  const charge = receipts.locator('tbody tr', { hasText: 'Card charge' });
  const refund = receipts.locator('tbody tr', { hasText: 'Refund' });
  await refund.waitFor();
  assert.match(await charge.innerText(), /2,000\.00/);
  assert.match(await charge.innerText(), /Succeeded/);
  assert.match(await refund.innerText(), /800\.00/);
  const chargeId = await charge.getAttribute('id');
  assert.equal(await refund.getByRole('link').getAttribute('href'), `#${chargeId}`, 'the refund links to the charge it refunds');
  await cp.locator('.kpi', { hasText: 'Refunded' }).getByText(fmt(80000)).waitFor();
  await shot(cp, 'money-06-hourly-receipts-375');
  assert.deepEqual(await axe(cp), [], 'hourly contract at 375 px: no serious axe violations');
  const overflow = await cp.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling at 375 px (${overflow}px too wide)`);
  assertClean(C.problems);
  assertClean(E.problems);
  await C.context.close();
  await E.context.close();
});
