// test_vetting: journey 2, getting vetted, by clicking, as a new engineer
// and a vetter side by side (two browser contexts).
//   node --test tests/browser/test_vetting.mjs      (OPX_BIN=... to pick the binary; screenshots in build/test-logs/screens/)
//  1. A new engineer signs up, completes the profile (a wrong rate first:
//     the error shows beside the field), rates five skills, and starts the
//     assessment. Its countdown runs; the server clock is moved 26 minutes
//     on (test clock, a precondition) and the page is reloaded: the browser
//     warns before leaving, the attempt resumes with the answers kept and
//     the countdown is amber. A link out of the page asks first.
//  2. How the test passes honestly: it knows no answers. It answers every
//     question by clicking, from what it has learned so far, submits, and
//     reads the graded result the page shows (each question's right answer).
//     A new attempt draws 20 of 72 questions afresh, so one failed attempt
//     is not enough to pass the next: it keeps learning from each result
//     until it passes. When the three attempts in 30 days are used, the
//     server clock moves 30 days on (a precondition) and it signs in again.
//  3. The vetter opens the queue (their home), the engineer's file, fills
//     the scorecard (five areas, one skill corrected), vets them as senior
//     and sees the new state and the history.
//  4. A client raises a request for the engineer's rare skills (through the
//     API: the request form is another area's journey; through the page
//     when /requests/:id exists) and the new engineer is in the shortlist.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, assertClean, axe, launch, newPage, screenshot, settled, signIn, startServer, uniq, visit } from './harness.mjs';

const MAX_ATTEMPTS = 12; // bounded: in practice 3 to 6
const SKILLS = [['resource-safety', 5], ['memory-leaks', 5], ['aiohttp-client', 5], ['fastapi', 4], ['asyncpg', 3]];

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

/** build/test-logs/screens/vetting-<name>-<width>.png (harness.screenshot) */
const shot = (page, name) => screenshot(page, `vetting-${name.replace(/-(375|1280)$/, '')}`);

async function noSeriousAxe(page, label) {
  const v = await axe(page);
  assert.deepEqual(v, [], `${label}: axe finds no serious or critical violations`);
}

async function advanceClock(seconds) {
  await api.call('POST', '/api/v1/_test/clock', { advance_seconds: seconds });
}

/** Answers every question on the page by clicking: what it knows, else a choice not yet seen to be wrong. */
async function answerAll(page, kb, wrong) {
  const cards = page.locator('.q-card');
  const n = await cards.count();
  for (let i = 0; i < n; i++) {
    const c = cards.nth(i);
    if (await c.locator('input:checked').count()) continue; // kept from before a reload
    const prompt = (await c.locator('.q-prompt').innerText()).trim();
    const texts = (await c.locator('.q-choice-text').allInnerTexts()).map((t) => t.trim());
    let k = texts.indexOf(kb.get(prompt));
    if (k < 0) k = Math.max(0, texts.findIndex((t) => !(wrong.get(prompt) || new Set()).has(t)));
    await c.locator('label.q-choice').nth(k).click();
  }
  return n;
}

/** Learns from the graded result on the page: each question's right answer, and the wrong one picked. */
async function learn(page, kb, wrong) {
  const items = page.locator('li.q-result');
  const n = await items.count();
  for (let i = 0; i < n; i++) {
    const it = items.nth(i);
    const prompt = (await it.locator('.q-prompt').innerText()).trim();
    const right = (await it.locator('.q-answer-right .q-choice-text').innerText()).trim();
    kb.set(prompt, right);
    const mine = it.locator('.q-answer-mine .q-choice-text');
    if (await mine.count()) {
      if (!wrong.has(prompt)) wrong.set(prompt, new Set());
      wrong.get(prompt).add((await mine.innerText()).trim());
    }
  }
  return n;
}

test('journey 2: a new engineer gets vetted and is shortlisted', { timeout: 300000 }, async () => {
  const id = uniq();
  const email = `vet-${id}@example.test`;
  const password = 'a-long-passphrase-1';
  const name = `Vera Vetting ${id.slice(-4)}`;
  const E = await newPage(browser, srv.base);
  const page = E.page;
  await E.context.clock.install(); // the page's clock runs as usual until the test moves it on
  const dialogs = [];
  page.on('dialog', async (d) => { dialogs.push(d.type()); await d.accept(); });

  // ---- 1. sign up and complete the profile
  await visit(page, '/signup?role=engineer');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL((u) => u.pathname === '/profile');
  await page.getByRole('heading', { name: 'Complete your profile' }).waitFor();
  await settled(page);
  assert.match(await page.locator('h1 .chip').innerText(), /Registered/);
  assert.equal(await page.locator('.vet-step[aria-current="step"] .vet-step-title').innerText().then((t) => t.startsWith('Profile')), true);
  assert.equal(await page.getByLabel('Time zone').inputValue(), 'Europe/Berlin', 'the zone picker defaults to the viewer’s');

  await page.getByLabel('Headline').fill('Senior async Python engineer: aiohttp, leak hunting, resource safety');
  await page.getByLabel('About you').fill('Eight years of asyncio services. I find memory leaks and make shutdowns graceful.');
  await page.getByLabel('Hourly rate').fill('2');
  await page.getByLabel('Hours a week').fill('30');
  await page.getByLabel('Years of experience').fill('8');
  await page.getByLabel('Links').fill('https://github.com/vera');
  for (const [skill, level] of SKILLS) {
    await page.getByLabel('Skills').selectOption(skill);
    await page.getByRole('button', { name: 'Add skill' }).click();
    const range = page.locator(`#skill-${skill}`);
    await range.focus();
    // from 3 (the default) with the arrow keys, as a keyboard user would
    for (let l = 3; l < level; l++) await page.keyboard.press('ArrowRight');
    for (let l = 3; l > level; l--) await page.keyboard.press('ArrowLeft');
    assert.equal(await range.inputValue(), String(level));
  }
  await page.getByRole('button', { name: 'Save profile' }).click();
  await page.locator('.error-summary').waitFor();
  assert.match(await page.locator('.field[data-field="hourly_rate"] .field-error').innerText(), /between (US)?\$5\.00 and (US)?\$1,000\.00 an hour/);
  await shot(page, '1-profile-error');
  await page.getByLabel('Hourly rate').fill('95');
  await page.getByRole('button', { name: 'Save profile' }).click();
  await page.getByRole('link', { name: 'Take the assessment' }).waitFor();
  assert.match(await page.locator('h1 .chip').innerText(), /Profile complete/);
  assert.equal(await page.getByLabel('Headline').inputValue(), 'Senior async Python engineer: aiohttp, leak hunting, resource safety');
  await noSeriousAxe(page, 'profile');
  await shot(page, '2-profile-saved');

  // ---- 2. the assessment
  await page.getByRole('link', { name: 'Take the assessment' }).click();
  await page.getByRole('button', { name: 'Start the assessment' }).waitFor();
  await page.getByText('14 of 20 correct to pass').waitFor();
  await page.getByRole('button', { name: 'Start the assessment' }).click();
  await page.getByText('0 of 20 answered').waitFor();
  const timer = page.locator('.quiz-timer');
  assert.match(await timer.innerText(), /Time left\s+(30:00|29:\d\d)/);
  assert.equal(await timer.evaluate((el) => el.classList.contains('quiz-timer-warn')), false);
  await noSeriousAxe(page, 'assessment');

  const kb = new Map();
  const wrong = new Map();
  let passed = false;
  let attempts = 0;
  while (!passed && attempts < MAX_ATTEMPTS) {
    attempts += 1;
    await page.getByText(/^\d+ of 20 answered$/).waitFor();
    if (attempts === 1) {
      // a few answers, then 26 minutes pass on the server and the page is reloaded
      const cards = page.locator('.q-card');
      for (let i = 0; i < 5; i++) await cards.nth(i).locator('label.q-choice').first().click();
      await page.getByText('5 of 20 answered').waitFor();
      // a link out of the page asks first; staying keeps the attempt
      await page.locator('#nav').getByRole('link', { name: 'Profile' }).click();
      await page.getByRole('dialog', { name: 'Leave the assessment?' }).waitFor();
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
      assert.equal(new URL(page.url()).pathname, '/assessment');
      // 26 minutes pass, for the server (its test clock) and for the browser (Playwright's clock)
      await advanceClock(26 * 60);
      await E.context.clock.fastForward(26 * 60 * 1000);
      await page.reload();
      await page.getByText('5 of 20 answered').waitFor(); // resumed, answers kept on this device
      assert.ok(dialogs.includes('beforeunload'), 'the browser warned before leaving the open attempt');
      await page.waitForFunction(() => document.querySelector('.quiz-timer')?.classList.contains('quiz-timer-warn'));
      assert.match(await timer.innerText(), /Time left\s+[34]:\d\d/);
      await shot(page, '3-quiz-amber');
    }
    const n = await answerAll(page, kb, wrong);
    assert.equal(n, 20);
    await page.getByText('20 of 20 answered').waitFor();
    await page.getByRole('button', { name: 'Submit answers' }).click();
    await page.getByRole('heading', { name: /Assessment result/ }).waitFor();
    const learned = await learn(page, kb, wrong);
    assert.equal(learned, 20, 'the result shows every question with its right answer');
    const score = Number((await page.locator('.quiz-score').innerText()).split(' ')[0]);
    passed = (await page.locator('h1 .chip').innerText()).includes('Passed');
    assert.equal(passed, score >= 14, 'passed means 14 or more');
    if (attempts === 1) await shot(page, '4-result');
    if (passed) break;
    await page.getByRole('button', { name: 'Start another attempt' }).click();
    await page.getByRole('button', { name: 'Start the assessment' }).click();
    await page.locator('.quiz-progress-text, .start-status .notice').first().waitFor();
    if (await page.locator('.start-status .notice').count()) {
      // the three attempts of this 30-day window are used: the page says when the next opens; 30 days pass
      assert.match(await page.locator('.start-status .notice').innerText(), /used your 3 attempts/);
      await advanceClock(30 * 86400 + 120);
      await visit(page, '/assessment', { reload: true });
      await page.locator('#view h1', { hasText: /^(Sign in|Assessment)/ }).waitFor();
      if (new URL(page.url()).pathname === '/signin') { // a month on, the session has ended
        await page.getByLabel('Email').fill(email);
        await page.getByLabel('Password').fill(password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL((u) => u.pathname === '/assessment');
      }
      // the last result again (kept in this tab), or the rules when it is not
      const next = page.getByRole('button', { name: /^(Start another attempt|Start the assessment)$/ });
      await next.first().waitFor();
      await shot(page, 'a-month-later');
      if ((await next.first().innerText()) === 'Start another attempt') await next.first().click();
      await page.getByRole('button', { name: 'Start the assessment' }).click();
    }
  }
  assert.ok(passed, `passed within ${MAX_ATTEMPTS} attempts (took ${attempts})`);
  console.log(`# passed the assessment on attempt ${attempts}, knowing ${kb.size} of the bank's answers from earlier results`); // eslint-disable-line no-console
  await page.getByText('You passed.').waitFor();
  await noSeriousAxe(page, 'result');
  await page.getByRole('link', { name: 'See what comes next' }).click();
  await page.waitForURL((u) => u.pathname === '/profile');
  await page.locator('h1 .chip', { hasText: 'Assessment passed' }).waitFor();
  assertClean(E.problems, 'engineer');

  // ---- 3. the vetter
  const V = await newPage(browser, srv.base);
  const vp = V.page;
  await signIn(vp, 'vetter@demo.opx', 'demo-pass-123', '/');
  await vp.getByRole('heading', { name: /Vetting queue/ }).waitFor();
  const row = vp.locator('.queue-item', { hasText: name });
  await row.waitFor();
  assert.match(await row.innerText(), /Waiting (less than a minute|\d+ min)/);
  assert.match(await row.locator('.queue-score-num').innerText(), /^(1[4-9]|20)\/20$/);
  await noSeriousAxe(vp, 'queue');
  await shot(vp, '5-queue');
  await row.getByRole('link', { name: `Open file for ${name}` }).click();
  await vp.waitForURL((u) => u.pathname.startsWith('/engineers/'));
  await vp.getByRole('heading', { name: 'Scorecard' }).waitFor();
  await settled(vp);
  assert.match(await vp.locator('h1 .chip').innerText(), /Assessment passed/);
  await vp.locator('.audit').getByText('Submitted the assessment').first().waitFor();
  const scores = { 'Core async concepts': '4', 'Must-have skills': '5', 'Testing async code': '4', 'Production scenarios': '5', 'Senior signals': '4' };
  const sc = vp.locator('form.scorecard');
  for (const [area, s] of Object.entries(scores)) {
    await sc.locator('fieldset', { has: vp.locator('legend', { hasText: area }) }).locator('label.choice', { hasText: new RegExp(`^${s} `) }).click();
  }
  await sc.getByLabel('Notes on production scenarios').fill('Found the leak in the sample service in ten minutes.');
  await sc.getByLabel(/^FastAPI: self-rated 4/).selectOption('3'); // corrected
  await sc.getByText('Vet: they meet the bar').click();
  await sc.getByText('Senior', { exact: true }).click();
  await sc.getByLabel('Overall notes').fill('Strong on cancellation and resource cleanup; clear explanations.');
  await noSeriousAxe(vp, 'engineer file');
  await shot(vp, '6-scorecard');
  await sc.getByRole('button', { name: 'Record the scorecard' }).click();
  const dlg = vp.getByRole('dialog', { name: `Vet ${name} as senior?` });
  await dlg.waitFor();
  assert.match(await dlg.innerText(), /1 corrected/);
  await dlg.getByRole('button', { name: 'Vet as senior' }).click();
  await vp.locator('#view').getByText(`${name} is vetted as senior.`).waitFor();
  assert.match(await vp.locator('h1 .chip').innerText(), /Vetted · senior/);
  await vp.locator('.audit .chip', { hasText: 'Vetted' }).first().waitFor();
  const vettedRow = vp.locator('tr', { hasText: 'FastAPI' });
  assert.match(await vettedRow.innerText(), /3 – Proficient/);
  await shot(vp, '7-vetted');
  assertClean(V.problems, 'vetter');

  // the engineer sees it on their profile
  await page.reload();
  await page.locator('h1 .chip', { hasText: 'Vetted · senior' }).waitFor();
  await page.getByRole('heading', { name: 'Your vetted skill levels' }).waitFor();

  // ---- 4. a client's request for those skills shortlists the new engineer
  const token = await api.login('client@demo.opx');
  // the server's today (its test clock has moved on; the Date header does not follow it)
  const { now } = await api.call('POST', '/api/v1/_test/clock', { advance_seconds: 0 });
  const today = now.slice(0, 10);
  const engId = new URL(vp.url()).pathname.split('/').pop();
  const req = await api.call('POST', '/api/v1/requests', {
    title: 'Find the leak in our aiohttp gateway', description: 'Memory grows under load; we need it found and fixed.',
    must_have: ['resource-safety', 'memory-leaks', 'aiohttp-client'], seniority: 'senior', engagement: 'hourly',
    budget: { amount: 20000, currency: 'USD' }, hours_per_week: 20, timezone: 'Europe/Berlin', min_overlap_hours: 4, start_date: today,
  }, token);
  const cand = (req.candidates || []).find((c) => c.engineer_id === engId);
  assert.ok(cand, 'the new engineer is in the shortlist');
  // and the client sees them there, on the request's page
  const C = await newPage(browser, srv.base);
  await signIn(C.page, 'client@demo.opx', 'demo-pass-123', `/requests/${req.id}`);
  await C.page.getByText(name).first().waitFor();
  await shot(C.page, '8-shortlist');
  assertClean(C.problems, 'the shortlist');
  await C.context.close();
  await E.context.close();
  await V.context.close();
});
