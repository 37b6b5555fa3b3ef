// vetting_queue: the vetter's home: engineers who passed the assessment
// and wait for an interview, oldest first (GET /api/v1/vetting/queue),
// with their quiz score, how long they have waited and a link to each
// file. Re-read every minute and after the live stream reconnects (the
// server sends no event when someone joins the queue).
import { h, mount } from '../dom.js';
import { get } from '../api.js';
import { duration, exactTime, money } from '../format.js';
import { empty, failed, loading, pageHead, timeExact } from '../ui.js';
import { loadCatalog, skillName } from './vetting_common.js';

const REFRESH_MS = 60000;

function waitTone(seconds) {
  if (seconds >= 5 * 86400) return 'bad';
  if (seconds >= 2 * 86400) return 'warn';
  return 'muted';
}

function item(it, cat) {
  const e = it.engineer;
  const waited = Math.max(0, (Date.now() - Date.parse(it.waiting_since)) / 1000); // a clock behind the server's: not negative
  const top = [...(it.skills || [])].sort((a, b) => b.self_level - a.self_level).slice(0, 6);
  const score = it.assessment || {};
  return h('li', { class: 'queue-item', dataset: { engineer: e.id } },
    h('div', { class: 'queue-main' },
      h('h3', { class: 'queue-name' }, h('a', { href: `/engineers/${encodeURIComponent(e.id)}` }, e.name)),
      h('p', { class: 'queue-headline' }, e.headline),
      h('p', { class: 'meta row' },
        h('span', `${e.years_experience} yr experience`), h('span', '·'),
        h('span', `${money(e.hourly_rate)} / h`), h('span', '·'),
        h('span', `${e.hours_per_week} h/week`), h('span', '·'),
        h('span', e.timezone.replace(/_/g, ' '))),
      h('p', { class: 'queue-skills' }, h('span', { class: 'sr-only' }, 'Top self-rated skills: '),
        top.map((s) => h('span', { class: 'tag' }, `${skillName(cat, s.id)} ${s.self_level}/5`)))),
    h('div', { class: 'queue-side' },
      h('div', { class: 'queue-score' },
        h('span', { class: 'queue-score-num' }, `${score.score}/${score.total}`), h('span', { class: 'meta' }, ' quiz'),
        h('meter', { class: 'queue-meter', min: 0, max: score.total || 20, low: 14, high: 14, optimum: score.total || 20,
          value: score.score || 0, 'aria-label': `Quiz score ${score.score} of ${score.total}` })),
      h('p', { class: `queue-wait chip chip-${waitTone(waited)}`, title: `Waiting since ${exactTime(it.waiting_since)}` },
        `Waiting ${duration(waited)}`),
      h('p', { class: 'meta' }, 'Passed ', timeExact(it.waiting_since)),
      h('a', { class: 'btn btn-small', href: `/engineers/${encodeURIComponent(e.id)}`, 'aria-label': `Open file for ${e.name}` }, 'Open file')));
}

export default async function render(view, ctx) {
  loading(view, 'Loading the vetting queue');
  let cat;
  try {
    cat = await loadCatalog();
  } catch { cat = null; }
  const list = h('div', { class: 'queue-body', 'aria-live': 'polite' });
  const countEl = h('span', { class: 'queue-count' });
  const head = pageHead('Vetting queue', { sub: 'Engineers who passed the assessment and wait for an interview, oldest first.' });
  head.querySelector('h1').append(' ', countEl);

  async function load(first) {
    let q;
    try {
      q = await get('/api/v1/vetting/queue');
    } catch (err) {
      if (first) { failed(view, err, () => render(view, ctx)); return false; }
      return true; // keep what is shown; the next refresh tries again
    }
    if (!ctx.current) return false;
    const items = q.items || [];
    countEl.replaceChildren(h('span', { class: 'badge', 'aria-label': `${items.length} waiting` }, String(items.length)));
    if (!items.length) {
      list.replaceChildren(empty('Nobody is waiting for an interview',
        'Engineers appear here as soon as they pass the assessment. This page checks again every minute.'));
    } else {
      const oldest = Math.max(0, (Date.now() - Date.parse(items[0].waiting_since)) / 1000);
      const avg = items.reduce((s, it) => s + (it.assessment?.score || 0), 0) / items.length;
      list.replaceChildren(
        h('div', { class: 'kpis' },
          h('div', { class: 'kpi' }, h('div', { class: 'kpi-value' }, String(items.length)), h('div', { class: 'kpi-label' }, 'Waiting for an interview')),
          h('div', { class: 'kpi' }, h('div', { class: 'kpi-value' }, duration(oldest)), h('div', { class: 'kpi-label' }, 'Longest wait')),
          h('div', { class: 'kpi' }, h('div', { class: 'kpi-value' }, `${avg.toFixed(1)}/20`), h('div', { class: 'kpi-label' }, 'Average quiz score'))),
        h('section', { class: 'card', 'aria-labelledby': 'queue-title' },
          h('h2', { id: 'queue-title' }, 'Next to interview'),
          h('ol', { class: 'list queue-list' }, items.map((it) => item(it, cat)))));
    }
    return true;
  }

  if (!(await load(true))) return;
  mount(view, head, list);
  const iv = setInterval(() => load(false), REFRESH_MS);
  ctx.onCleanup(() => clearInterval(iv));
  ctx.onCleanup(ctx.live.on('resync', () => load(false)));
}
