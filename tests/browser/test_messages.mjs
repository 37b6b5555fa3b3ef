// test_messages: the conversations list and the chat, by clicking, as a
// client and an engineer side by side (two browser contexts: what moves
// one side's page is the other side's clicks, through the live stream).
//   OPX_DEV_WEB=1 node --test tests/browser/test_messages.mjs
// Preconditions only go through the API: a fresh client raises a request
// and its first invited engineer accepts, which opens their conversation.
//   1. each sees the other's messages live; the client proposes two
//      interview times, the engineer picks the second, both see it set;
//      screenshots of both pages at 1280 and 375 px, axe clean on both.
//   2. journey 5: the client goes offline mid-chat; the engineer sends two
//      messages and the client types one while offline ("waiting for
//      network"); back online, the client sees all three exactly once and
//      in order, the engineer sees the client's exactly once.
//   3. a send that fails shows Retry on that message; a send whose answer
//      is lost after the server committed it is not sent twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, axe, forget, launch, newPage, screenshot, settled, signIn, startServer, uniq, assertClean, acceptedCandidate, inDays } from './harness.mjs';

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


/** A fresh client with a request whose first invited engineer accepted: {client, engineer, conversation}. */
async function pair() {
  const p = await acceptedCandidate(api, { prefix: 'msg', title: 'Webhooks service', description: 'aiohttp webhooks fan-out with retries',
    timezone: 'America/New_York', startInDays: 20 });
  const conv = (await api.call('GET', '/api/v1/conversations', undefined, p.ct)).items.find((c) => c.candidate_id === p.candidate.id);
  assert.ok(conv, 'the acceptance opened a conversation');
  return { client: p.client, clientToken: p.ct, engineer: p.engineer, engineerToken: p.et, request: p.request, conversation: conv };
}

/** Signs in and goes to Messages through the header, then into conversation `conv` (with `name`). */
async function openChat(side, email, password, name, conv) {
  await signIn(side.page, email, password);
  forget(side.problems); // the home page on the way belongs to another area
  await side.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Messages/ }).click();
  await side.page.waitForURL((u) => u.pathname === '/messages');
  await settled(side.page);
  const row = side.page.locator(`.conv-row[data-id="${conv}"]`, { hasText: name });
  await row.waitFor();
  await row.getByRole('link').click();
  await side.page.waitForURL((u) => /^\/messages\/cnv_/.test(u.pathname));
  await settled(side.page);
  await side.page.getByRole('heading', { level: 1, name: `Messages with ${name}` }).waitFor();
}

const log = (page) => page.locator('.chat-log');
/** The texts in the chat, in order, as {text, who: 'me'|'them', pending}. */
async function bubbles(page) {
  return page.locator('.chat-log .msg-row').evaluateAll((els) => els.map((e) => ({
    text: e.querySelector('.msg-body')?.textContent || '', who: e.dataset.sender, pending: !!e.dataset.key, status: e.dataset.status || null,
  })));
}
const texts = async (page) => (await bubbles(page)).map((b) => b.text);

/** Types a message and sends it with Enter, as a person would. */
async function say(page, text) {
  const box = page.getByRole('textbox', { name: /^Message to / });
  await box.click();
  await box.fill(text);
  await box.press('Enter');
}

/** Waits (bounded) until fn() is true. */
async function until(fn, what, ms = 8000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** datetime-local values in the page's zone, n days ahead at hh:00. */
async function localSlot(page, days, hour) {
  return page.evaluate(([d, hr]) => {
    const t = new Date(Date.now() + d * 86400000);
    t.setHours(hr, 0, 0, 0);
    const p = (n) => String(n).padStart(2, '0');
    return { value: `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}`, iso: t.toISOString().replace('.000Z', 'Z') };
  }, [days, hour]);
}

test('chat both ways live, then two interview times proposed and one picked; both pages at 1280 and 375 px', { timeout: 120000 }, async () => {
  const pre = await pair();
  const C = await newPage(browser, srv.base);
  const E = await newPage(browser, srv.base);
  await openChat(C, pre.client.email, pre.client.password, pre.engineer.name, pre.conversation.id);
  await openChat(E, pre.engineer.email, undefined, pre.client.name, pre.conversation.id);

  // an empty conversation says what to do
  await log(C.page).getByText('No messages yet').waitFor();

  await say(C.page, 'Hello! Could you walk me through your asyncpg pooling setup?');
  await log(C.page).locator('.msg-row[data-sender="me"]:not([data-key])', { hasText: 'asyncpg pooling' }).waitFor();
  assert.equal(await C.page.getByRole('textbox', { name: /^Message to / }).inputValue(), '', 'the composer is cleared');
  // the engineer sees it without reloading
  await log(E.page).locator('.msg-row[data-sender="them"]', { hasText: 'asyncpg pooling' }).waitFor();

  // Shift+Enter is a new line; the Send button sends
  const ebox = E.page.getByRole('textbox', { name: /^Message to / });
  await ebox.click();
  await ebox.type('Sure.');
  await ebox.press('Shift+Enter');
  await ebox.type('One pool per worker, sized to the DB limit.');
  await E.page.getByRole('button', { name: 'Send', exact: true }).click();
  await log(C.page).locator('.msg-row[data-sender="them"]', { hasText: 'One pool per worker' }).waitFor();
  const theirs = await log(C.page).locator('.msg-row[data-sender="them"] .msg-body').last().textContent();
  assert.equal(theirs, 'Sure.\nOne pool per worker, sized to the DB limit.', 'the new line is kept');
  assert.deepEqual(await texts(C.page), await texts(E.page), 'both sides show the same conversation');
  // what is on screen is read: the client's unread count goes back to 0
  await until(async () => (await api.call('GET', '/api/v1/conversations', undefined, pre.clientToken)).items.find((c) => c.id === pre.conversation.id).unread === 0, 'the client\'s read marker');
  assert.equal((await texts(C.page)).length, 2);
  // grouped by day, each with its time
  assert.equal(await log(C.page).locator('.chat-day-title').first().innerText(), 'Today');
  assert.match(await log(C.page).locator('.msg-row time').first().innerText(), /^\d{2}:\d{2}/);

  // the client proposes two times, shown in both zones
  const s1 = await localSlot(C.page, 2, 10);
  const s2 = await localSlot(C.page, 3, 15);
  const side = C.page.locator('.conv-side');
  await side.getByLabel('Time 1').fill(s1.value);
  await side.getByLabel(/^Time 2/).fill(s2.value);
  await side.locator('.iv-preview').first().getByText(`${pre.engineer.name}’s time`).waitFor();
  // the server's field errors show beside their fields, and nothing typed is lost
  await side.getByRole('button', { name: 'Propose these times' }).click();
  await side.locator('.field[data-field="video_url"] .field-error').waitFor();
  await side.locator('.error-summary').getByRole('link', { name: /Video call link/ }).waitFor();
  assert.equal(await side.getByLabel('Time 1').inputValue(), s1.value, 'the times are kept');
  await side.getByLabel('Video call link').fill('https://meet.example.com/opx-interview');
  await side.getByRole('button', { name: 'Propose these times' }).click();
  await side.getByText(`Waiting for ${pre.engineer.name} to choose`).waitFor();
  assert.equal(await side.locator('.iv-slot').count(), 2);

  // the engineer sees them live and picks the second
  const eside = E.page.locator('.conv-side');
  await eside.getByText(`${pre.client.name} proposed these times`).waitFor();
  assert.deepEqual(await eside.locator('.iv-slot').evaluateAll((els) => els.map((e) => e.dataset.slot)), [s1.iso, s2.iso]);
  assert.equal(await eside.getByRole('button', { name: /^Accept / }).count(), 2);
  await screenshot(E.page, 'messages-interview-proposed');
  await eside.getByRole('button', { name: /^Accept / }).nth(1).click();
  await eside.getByText('Interview scheduled').waitFor();
  // the client sees it set, live, at the time the engineer picked
  await side.getByText('Interview scheduled').waitFor();
  assert.equal(await side.locator('.iv-accepted').getAttribute('data-slot'), s2.iso);
  assert.equal(await eside.locator('.iv-accepted').getAttribute('data-slot'), s2.iso);
  const zonesText = await side.locator('.iv-accepted .iv-zones').innerText();
  assert.match(zonesText, /Your time/);
  assert.match(zonesText, /CET/, 'the time in the viewer\'s zone, named');
  assert.match(zonesText, new RegExp(`${pre.engineer.name}’s time`));
  // the engineer reads it in the client's zone too (the request's, America/New_York), and what it is about
  const eZones = await eside.locator('.iv-accepted .iv-zones').innerText();
  assert.match(eZones, new RegExp(`${pre.client.name}’s time \\(the request’s zone\\)`));
  assert.match(eZones, /America\/New_York|EST|EDT/);
  assert.match(await E.page.locator('.page-head .sub').innerText(), new RegExp(`About ${pre.request.title}`));
  const iv = await api.call('GET', `/api/v1/conversations/${pre.conversation.id}/interview`, undefined, pre.clientToken);
  assert.equal(iv.status, 'accepted');
  assert.equal(iv.slot, s2.iso);

  // both pages, both widths: screenshots and axe
  for (const [who, s] of [['client', C], ['engineer', E]]) {
    for (const width of [1280, 375]) {
      await s.page.setViewportSize({ width, height: width === 375 ? 812 : 800 });
      await settled(s.page);
      await s.page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(s.page, `messages-conversation-${who}`);
      assert.deepEqual(await axe(s.page), [], `axe on the ${who}'s conversation at ${width}`);
    }
    await s.page.setViewportSize({ width: 1280, height: 800 });
  }
  // the list: newest first, the last message as its preview, unread shown to the other side
  await say(E.page, 'Looking forward to it.');
  await log(C.page).locator('.msg-row', { hasText: 'Looking forward' }).waitFor();
  await E.page.getByRole('link', { name: '← All messages' }).click();
  await E.page.waitForURL((u) => u.pathname === '/messages');
  await settled(E.page);
  const erow = E.page.locator(`.conv-row[data-id="${pre.conversation.id}"]`);
  await erow.locator('.conv-preview', { hasText: 'You: Looking forward to it.' }).waitFor();
  // a message while the engineer is on the list: it moves live, unread
  await say(C.page, 'See you then!');
  await erow.locator('.conv-preview', { hasText: 'See you then!' }).waitFor();
  await erow.locator('.conv-badge', { hasText: '1 new message' }).waitFor();
  await E.page.locator('#nav a[href="/messages"] .badge:not([hidden])', { hasText: '1' }).waitFor();
  for (const width of [1280, 375]) {
    await E.page.setViewportSize({ width, height: width === 375 ? 812 : 800 });
    await settled(E.page);
    await screenshot(E.page, 'messages-list');
    assert.deepEqual(await axe(E.page), [], `axe on the list at ${width}`);
  }
  // opening it marks it read
  await erow.getByRole('link').click();
  await settled(E.page);
  await log(E.page).locator('.msg-row', { hasText: 'See you then!' }).waitFor();
  await until(async () => (await api.call('GET', '/api/v1/conversations', undefined, pre.engineerToken)).items.find((c) => c.id === pre.conversation.id).unread === 0, 'the read marker');
  // the engineer cancels; the client sees it live and may propose again
  await eside.getByRole('button', { name: 'Cancel the interview' }).click();
  await E.page.getByRole('dialog').getByRole('button', { name: 'Cancel the interview' }).click();
  await eside.getByText('You cancelled it').waitFor();
  await C.page.locator('.conv-side').getByText(`Cancelled by ${pre.engineer.name}`).waitFor();
  await C.page.locator('.conv-side').getByRole('button', { name: 'Propose new times' }).waitFor();
  assertClean(C.problems, 'on the client side');
  assertClean(E.problems, 'on the engineer side');
  await C.context.close();
  await E.context.close();

  // an admin reads it, names on each message, and cannot write
  const A = await newPage(browser, srv.base);
  await signIn(A.page, 'admin@demo.opx');
  forget(A.problems);
  await A.page.goto(`/messages/${pre.conversation.id}`);
  await settled(A.page);
  await A.page.getByRole('heading', { level: 1, name: `${pre.client.name} and ${pre.engineer.name}` }).waitFor();
  await log(A.page).locator('.msg-row', { hasText: 'See you then!' }).getByText(`${pre.client.name}:`).waitFor();
  assert.equal(await A.page.getByRole('textbox', { name: /^Message to / }).count(), 0, 'no composer for an admin');
  await A.page.getByText('You are reading as an admin').waitFor();
  assert.deepEqual(await axe(A.page), [], 'axe on the admin\'s view');
  assertClean(A.problems, 'on the admin side');
  await A.context.close();
});

test('journey 5: offline mid-chat, nothing lost, no duplicate', { timeout: 120000 }, async () => {
  const pre = await pair();
  const C = await newPage(browser, srv.base);
  const E = await newPage(browser, srv.base);
  await openChat(C, pre.client.email, pre.client.password, pre.engineer.name, pre.conversation.id);
  await openChat(E, pre.engineer.email, undefined, pre.client.name, pre.conversation.id);
  await say(C.page, 'Starting the chat.');
  await log(E.page).locator('.msg-row', { hasText: 'Starting the chat.' }).waitFor();
  await say(E.page, 'Hello, I am here.');
  await log(C.page).locator('.msg-row', { hasText: 'Hello, I am here.' }).waitFor();

  // the client's network drops: the banner says so
  await C.context.setOffline(true);
  await C.page.locator('#banner').getByText('Connection lost').waitFor();

  // the engineer writes twice meanwhile
  await say(E.page, 'First while you were away.');
  await say(E.page, 'Second while you were away.');
  await log(E.page).locator('.msg-row:not([data-key])', { hasText: 'Second while you were away.' }).waitFor();

  // the client types one: it waits for the network, on that message
  await say(C.page, 'Typed while offline.');
  const waiting = log(C.page).locator('.msg-row[data-key]', { hasText: 'Typed while offline.' });
  await waiting.getByText('Waiting for network').waitFor();
  await C.page.getByText('You are offline. What you send now waits here').waitFor();
  await C.page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(C.page, 'messages-offline');
  assert.equal(await log(C.page).locator('.msg-row', { hasText: 'while you were away' }).count(), 0, 'nothing arrives while offline');

  // back online: everything appears once, in the server's order
  await C.context.setOffline(false);
  await C.page.locator('#banner').getByText('Back online.').waitFor();
  const want = ['Starting the chat.', 'Hello, I am here.', 'First while you were away.', 'Second while you were away.', 'Typed while offline.'];
  await until(async () => {
    const b = await bubbles(C.page);
    return b.length === want.length && b.every((x) => !x.pending) && b.map((x) => x.text).join('|') === want.join('|');
  }, 'the client to show all five once, in order').catch(async (e) => { e.message += `: ${JSON.stringify(await bubbles(C.page))}`; throw e; });
  await log(E.page).locator('.msg-row[data-sender="them"]', { hasText: 'Typed while offline.' }).waitFor();
  assert.deepEqual(await texts(E.page), want, 'the engineer sees the same, the client\'s message once');

  // the server holds each once too, and the pages stay so after their catch-up
  const server = (await api.call('GET', `/api/v1/conversations/${pre.conversation.id}/messages?limit=100`, undefined, pre.engineerToken)).items.map((m) => m.body);
  assert.deepEqual(server, want, 'the server stored each message once');
  await C.page.waitForLoadState('networkidle').catch(() => {});
  assert.deepEqual(await texts(C.page), want);
  assert.deepEqual(await texts(E.page), want);
  assertClean(C.problems, 'on the client side');
  assertClean(E.problems, 'on the engineer side');
  await C.context.close();
  await E.context.close();
});

test('a failed send shows Retry on that message; an answer lost after the commit is not sent twice', { timeout: 90000 }, async () => {
  const pre = await pair();
  const C = await newPage(browser, srv.base);
  await openChat(C, pre.client.email, pre.client.password, pre.engineer.name, pre.conversation.id);
  const url = `**/api/v1/conversations/${pre.conversation.id}/messages`;

  // the request never reaches the server: Retry on that message, then it goes once
  await C.page.route(url, (route) => (route.request().method() === 'POST' ? route.abort('connectionrefused') : route.fallback()), { times: 1 });
  await say(C.page, 'This one fails first.');
  const failedRow = log(C.page).locator('.msg-row[data-key]', { hasText: 'This one fails first.' });
  await failedRow.getByText(/^Not sent/).waitFor();
  await screenshot(C.page, 'messages-failed');
  await failedRow.getByRole('button', { name: 'Retry' }).click();
  await log(C.page).locator('.msg-row:not([data-key])', { hasText: 'This one fails first.' }).waitFor();

  // the server commits but the answer is lost: whether the stream or the retry finds it, it is there once
  await C.page.route(url, async (route) => {
    if (route.request().method() !== 'POST') return route.fallback();
    await route.fetch();
    return route.abort('connectionreset');
  }, { times: 1 });
  await say(C.page, 'Committed, answer lost.');
  const row = log(C.page).locator('.msg-row', { hasText: 'Committed, answer lost.' });
  await until(async () => {
    if (await row.locator('button', { hasText: 'Retry' }).count()) await row.getByRole('button', { name: 'Retry' }).click();
    return (await row.count()) === 1 && !(await row.first().getAttribute('data-key'));
  }, 'the lost answer to settle as one sent message');
  const server = (await api.call('GET', `/api/v1/conversations/${pre.conversation.id}/messages?limit=100`, undefined, pre.clientToken)).items.map((m) => m.body);
  assert.deepEqual(server, ['This one fails first.', 'Committed, answer lost.'], 'each stored once');
  assert.deepEqual(await texts(C.page), server);
  C.problems.consoleErrors = C.problems.consoleErrors.filter((m) => !/ERR_CONNECTION_(REFUSED|RESET)|net::/.test(m));
  assertClean(C.problems);
  await C.context.close();
});
