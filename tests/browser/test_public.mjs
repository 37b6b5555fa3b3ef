// test_public: what anyone sees and every signed-in user's account.
//   node --test tests/browser/test_public.mjs
// The landing page and the five /hire pages show the API's figures; "Start
// a request" takes a signed-out visitor through sign-up to the request
// form with the framework filled in; settings change the name (the header
// follows) and the password (field errors; other sessions end);
// "Mark all as read" clears the unread badge. Steps that need an API
// route this build lacks are skipped, saying which.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, launch, newPage, signIn, settled, startServer, uniq, visit, forget, assertClean } from './harness.mjs';

const FRAMEWORKS = [['fastapi', 'FastAPI'], ['sanic', 'Sanic'], ['django-async', 'Django (async)'], ['aiohttp', 'aiohttp'], ['starlette', 'Starlette']];
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

/** A fresh client account, so the account tests do not touch shared demo users. */
async function freshClient(name = 'Pat Tester') {
  const email = `pub-${uniq()}@example.test`;
  const password = `first-pass-${uniq()}`;
  await api.register(name, email, password, 'client');
  return { email, password, name };
}

test('the landing page explains the journey and shows vetted counts per framework', { timeout: 30000 }, async (t) => {
  const { context, page, problems } = await newPage(browser, srv.base);
  await visit(page, '/');
  await settled(page);
  await assert.doesNotReject(page.getByRole('heading', { level: 1, name: /Hire async Python engineers/ }).waitFor());
  for (const step of ['Raise a request', 'Matched within 8 hours', 'Talk to experts', 'Fund into escrow', 'Expert works', 'Review and approve']) {
    assert.equal(await page.getByRole('heading', { level: 3, name: step }).count(), 1, `journey step ${step}`);
  }
  assert.match(await page.locator('main').innerText(), /70%/);
  assert.ok(await page.getByRole('link', { name: 'Raise a request' }).first().isVisible());
  assert.ok(await page.getByRole('link', { name: 'Apply as an engineer' }).first().isVisible());
  const section = page.locator('#frameworks');
  await section.waitFor();
  for (const [id, name] of FRAMEWORKS) {
    assert.equal(await section.locator(`a[href="/hire/${id}"]`).count(), 1, `link to /hire/${id} (${name})`);
  }
  const d = await api.call('GET', '/api/v1/frameworks');
  const fastapi = d.items.find((f) => f.id === 'fastapi');
  await page.waitForFunction(() => document.querySelector('.fw-count[data-framework="fastapi"]')?.textContent !== '—');
  assert.equal(await section.locator('.fw-count[data-framework="fastapi"]').innerText(), String(fastapi.vetted_count));
  // the nav's "Hire engineers" lands on the section
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Hire engineers' }).click();
  await section.waitFor();
  assertClean(problems);
  await context.close();
});

test('each framework page shows its figures and links to the other four; an unknown one says so', { timeout: 45000 }, async (t) => {
  const { context, page, problems } = await newPage(browser, srv.base);
  for (const [id, name] of FRAMEWORKS) {
    await visit(page, `/hire/${id}`);
    await settled(page);
    await page.getByRole('heading', { level: 1, name: `Hire vetted ${name} engineers` }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Frameworks' });
    for (const [other] of FRAMEWORKS) assert.equal(await nav.locator(`a[href="/hire/${other}"]`).count(), 1);
    assert.equal(await nav.locator('a[aria-current="page"]').getAttribute('href'), `/hire/${id}`);
    assert.ok(await page.getByRole('link', { name: `Start a request with ${name}` }).first().isVisible());
    const d = await api.call('GET', `/api/v1/frameworks/${id}`);
    assert.equal(await page.locator('[data-figure="vetted_count"]').innerText(), String(d.vetted_count), `${id} count`);
    if (d.vetted_count > 0) {
      assert.ok(await page.getByRole('img', { name: /Vetted levels: Mid \d+, Senior \d+, Staff \d+/ }).isVisible());
      assert.equal(await page.locator('.profile-card').count(), (d.profiles || []).length);
    }
  }
  await visit(page, '/hire/flask');
  await page.getByRole('heading', { level: 1, name: 'We do not match engineers for that framework' }).waitFor();
  assert.equal(await page.locator('.fw-links a').count(), 5);
  assertClean(problems);
  await context.close();
});

test('"Start a request" takes a signed-out visitor through sign-up to the form with the framework filled in', { timeout: 30000 }, async (t) => {
  const { context, page, problems } = await newPage(browser, srv.base);
  await visit(page, '/hire/fastapi');
  await page.getByRole('link', { name: 'Start a request with FastAPI' }).first().click();
  await page.waitForURL((u) => u.pathname === '/signup');
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('role'), 'client');
  assert.equal(url.searchParams.get('next'), '/requests/new?framework=fastapi');
  await page.getByRole('heading', { level: 1, name: 'Create an account' }).waitFor();
  await page.getByLabel('Name').fill('Riley Visitor');
  await page.getByLabel('Email').fill(`visitor-${uniq()}@example.test`);
  await page.getByLabel('Password').fill('a-long-enough-passphrase');
  assert.ok(await page.getByRole('radio', { name: /hire engineers/ }).isChecked());
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL((u) => u.pathname === '/requests/new');
  assert.equal(new URL(page.url()).searchParams.get('framework'), 'fastapi');
  // the form is a colleague's screen: check the prefill only where it is there
  const box = page.locator('input[name="frameworks"][value="fastapi"]');
  await page.locator('#view h1, #view .notice-bad').first().waitFor();
  if (await box.count()) assert.ok(await box.first().isChecked(), 'FastAPI is ticked on the request form');
  else t.diagnostic('the request form has no input[name=frameworks][value=fastapi]: prefill not checked');
  assert.deepEqual(problems.pageErrors, []);
  await context.close();
});

test('settings: a new name shows in the header', { timeout: 30000 }, async (t) => {
  const who = await freshClient('Pat Tester');
  const { context, page, problems } = await newPage(browser, srv.base);
  await signIn(page, who.email, who.password, '/settings');
  await settled(page);
  const name = `Pat Renamed ${uniq().slice(-4)}`;
  await page.getByLabel('Full name').fill(name);
  await page.getByRole('button', { name: 'Save name' }).click();
  await page.getByText(`Saved. You now appear as ${name}.`).waitFor();
  await page.locator('#account .menu-name', { hasText: name }).waitFor();
  assertClean(problems);
  await visit(page, '/settings', { reload: true }); // a fresh load reads the name from the server
  await page.locator('#account .menu-name', { hasText: name }).waitFor();
  await context.close();
});

test('settings: password change checks the fields, then signs other sessions out', { timeout: 45000 }, async (t) => {
  const who = await freshClient('Sam Secure');
  const { context, page, problems } = await newPage(browser, srv.base);
  await signIn(page, who.email, who.password, '/settings');
  await settled(page);
  const form = page.locator('form', { has: page.getByRole('button', { name: 'Change password' }) });
  // the confirmation is checked here, before anything is sent
  await page.getByLabel('Current password').fill(who.password);
  await page.getByLabel('New password', { exact: true }).fill('second-pass-phrase');
  await page.getByLabel('Confirm new password').fill('second-pass-phrasE');
  await page.getByRole('button', { name: 'Change password' }).click();
  await form.locator('.field[data-field="confirm_password"] .field-error', { hasText: 'does not match the new password' }).waitFor();
  await form.locator('.error-summary').waitFor();

  // a second browser signed in as the same person
  const other = await newPage(browser, srv.base);
  await signIn(other.page, who.email, who.password, '/settings');

  // a wrong current password: the server's error beside its field
  await page.getByLabel('Current password').fill('not-my-password');
  await page.getByLabel('Confirm new password').fill('second-pass-phrase');
  await page.getByRole('button', { name: 'Change password' }).click();
  await form.locator('.field[data-field="current_password"] .field-error').waitFor();
  assert.equal(await form.locator('.field[data-field="confirm_password"] .field-error').count(), 0);
  assert.equal(await page.getByLabel('New password', { exact: true }).inputValue(), 'second-pass-phrase', 'nothing typed is lost');

  // the right one
  await page.getByLabel('Current password').fill(who.password);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('Other sessions were signed out; this one stays signed in.').waitFor();
  assert.equal(await form.locator('.field-error').count(), 0);
  // this session goes on
  await page.locator('#account a.bell').click();
  await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/notifications');

  // the other one is signed out on its next navigation (to a page that asks the server)
  await other.page.locator('#account a.bell').click();
  await other.page.waitForURL((u) => u.pathname === '/signin');
  // and the new password is the one that works
  await signIn(other.page, who.email, 'second-pass-phrase');
  assert.deepEqual(problems.pageErrors, []);
  assert.deepEqual(other.problems.pageErrors, []);
  await other.context.close();
  await context.close();
});

test('notifications: "Mark all as read" takes the unread badge to 0', { timeout: 45000 }, async (t) => {
  // precondition (not this journey): a client raises a request, so engineers are invited
  const client = await api.login('client@demo.opx');
  const req = await api.call('POST', '/api/v1/requests', {
    title: `Notifications check ${uniq()}`, description: 'FastAPI + asyncpg service',
    frameworks: ['fastapi'], must_have: ['asyncpg'], nice_to_have: [], seniority: 'senior', engagement: 'hourly',
    budget: { amount: 20000, currency: 'USD' }, hours_per_week: 20, timezone: 'Europe/Berlin', min_overlap_hours: 2,
    start_date: '2027-01-04',
  }, client);
  const admin = await api.login('admin@demo.opx');
  const cand = req.candidates[0];
  const eng = await api.call('GET', `/api/v1/engineers/${cand.engineer_id}`, undefined, admin);
  const email = (eng.engineer || eng).email;

  const { context, page, problems } = await newPage(browser, srv.base);
  await signIn(page, email, undefined, '/notifications');
  forget(problems);
  const bell = page.locator('#account a.bell');
  const badge = bell.locator('.badge');
  await badge.waitFor({ state: 'visible' });
  assert.ok(Number(await badge.innerText()) >= 1);
  await settled(page);
  const item = page.locator('.note-list > li', { hasText: req.title });
  await item.waitFor();
  assert.match(await item.innerText(), /You are invited to/);
  assert.ok(await item.getByText('Unread').isVisible());
  await item.getByRole('link', { name: 'See your invitations' }).waitFor();
  await page.getByRole('button', { name: 'Mark all as read' }).click();
  await page.getByText(/^All read/).waitFor();
  await badge.waitFor({ state: 'hidden' });
  assert.equal(await page.locator('.note-unread').count(), 0);
  assert.equal(await bell.getAttribute('aria-label'), 'Notifications');
  assertClean(problems);
  await context.close();
});
