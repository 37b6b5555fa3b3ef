// test_a11y: every main page of every role, at 375 and 1280 px: no
// serious or critical axe violations (WCAG 2.0-2.2 A/AA rules), no page
// or console errors, no 5xx, and a screenshot of each.
//   node --test tests/browser/test_a11y.mjs
// Screenshots and a summary (a11y-summary.json) go to $A11Y_OUT, by
// default build/test-logs/screens/. Each page is its own subtest, so a page
// a colleague has not built yet fails alone and says why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, axe, forget, launch, newPage, signIn, startServer, visit } from './harness.mjs';

const OUT = process.env.A11Y_OUT || path.join(ROOT, 'build/test-logs/screens');
const WIDTHS = [375, 1280];
const PAGES = {
  anon: { who: null, paths: ['/', '/hire/fastapi', '/signin', '/signup'] },
  client: { who: 'client@demo.opx', paths: ['/', '/requests', '/requests/new', '/messages', '/contracts', '/settings', '/notifications'] },
  engineer: { who: 'engineer1@demo.opx', paths: ['/', '/invitations', '/profile', '/assessment', '/earnings', '/contracts', '/messages'] },
  vetter: { who: 'vetter@demo.opx', paths: ['/vetting'] },
  admin: { who: 'admin@demo.opx', paths: ['/', '/admin/sla', '/admin/disputes', '/admin/ledger', '/admin/money', '/admin/outbox', '/admin/users', '/vetting'] },
};

let srv;
let browser;
const summary = [];

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  srv = await startServer();
  browser = await launch();
});
after(async () => {
  fs.writeFileSync(path.join(OUT, 'a11y-summary.json'), JSON.stringify(summary, null, 2));
  await browser?.close();
  await srv?.stop();
});

/** Waits until the page has drawn something final: an h1 or a failure notice, and no skeleton. */
async function drawn(page) {
  await page.waitForFunction(() => {
    const v = document.getElementById('view');
    if (!v || v.querySelector('.skeleton')) return false;
    return !!v.querySelector('h1, .notice-bad, [role="alert"]');
  }, null, { timeout: 8000 });
  // fonts and layout settle before the picture is taken
  await page.evaluate(() => document.fonts.ready.then(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))));
}

for (const [role, { who, paths }] of Object.entries(PAGES)) {
  test(`a11y: ${role}`, { timeout: 180000 }, async (t) => {
    const sessions = {};
    for (const w of WIDTHS) {
      sessions[w] = await newPage(browser, srv.base, { width: w, height: 800 });
      if (who) await signIn(sessions[w].page, who);
    }
    for (const p of paths) {
      await t.test(`${role} ${p}`, async () => {
        const failures = [];
        for (const w of WIDTHS) {
          const { page, problems } = sessions[w];
          forget(problems);
          await visit(page, p);
          let drew = true;
          try { await drawn(page); } catch { drew = false; }
          const shot = path.join(OUT, `${role}${p.replace(/[^a-z0-9]+/gi, '_')}-${w}.png`);
          await page.screenshot({ path: shot, fullPage: true });
          const violations = await axe(page);
          const failedNotice = await page.evaluate(() => document.querySelector('#view .notice-bad')?.textContent || null);
          const entry = { role, path: p, width: w, screenshot: shot, drew, failedNotice: failedNotice?.trim() || null,
            violations, pageErrors: [...problems.pageErrors], consoleErrors: [...problems.consoleErrors],
            http5xx: [...problems.http5xx], http4xx: [...problems.http4xx] };
          summary.push(entry);
          if (!drew) failures.push(`${w}px: the page never drew an h1 (or a failure notice) within 8 s`);
          for (const v of violations) failures.push(`${w}px: ${v.impact} ${v.id} (${v.help}) at ${v.targets.slice(0, 3).join(' | ')}`);
          for (const e of problems.pageErrors) failures.push(`${w}px: page error: ${e}`);
          for (const e of problems.consoleErrors) failures.push(`${w}px: console error: ${e}`);
          for (const e of problems.http5xx) failures.push(`${w}px: server error: ${e}`);
        }
        // a page both widths agree on is reported once
        const unique = [...new Set(failures.map((f) => f.replace(/^\d+px: /, '')))]
          .map((f) => { const ws = WIDTHS.filter((w) => failures.includes(`${w}px: ${f}`)); return `[${ws.join(',')}] ${f}`; });
        assert.deepEqual(unique, [], `${role} ${p}`);
      });
    }
    for (const w of WIDTHS) await sessions[w].context.close();
  });
}
