// admin_sla: the SLA board, live. Every open request (matching or
// breached) by deadline: the time left as a ring that empties over the 8
// hours (ticking each second from the server's own seconds_left, so a
// moved test clock or a skewed laptop clock still shows the server's
// view), how many accepted of the three needed, how many were invited,
// and what the half-time widening relaxed. A breach arrives as an event
// and is announced; the board is read again on request events, after a
// reconnect and every 30 s (widening sends the admin no event).
import { h, mount } from '../dom.js';
import { get } from '../api.js';
import { duration, exactTime } from '../format.js';
import { chip, empty, failed, loading, pageHead, timeExact } from '../ui.js';
import { countdownRing } from '../charts.js';
import { RELAXED, kpi } from './admin_common.js';

const SLA_S = 8 * 3600;
const WIDEN_AT_S = 4 * 3600;
const AT_RISK_S = 2 * 3600;
const REFRESH_MS = 30000;
const LIVE = ['admin.sla_breach', 'request.updated', 'request.widened', 'request.sla_breached', 'candidate.updated'];

export default async function render(view, ctx) {
  loading(view, 'Loading the SLA board');
  let board = null;
  let readAt = 0; // Date.now() when board was read
  let skewMs = 0; // the server's clock minus ours, from a matching request's seconds_left
  const say = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
  const body = h('div');
  const filter = { show: ctx.query.get('show') || 'all' };

  async function load() {
    const b = await get('/api/v1/admin/sla');
    readAt = Date.now();
    const probe = (b.items || []).find((i) => i.status === 'matching' && i.seconds_left > 0);
    if (probe) skewMs = (Date.parse(probe.sla_deadline) - probe.seconds_left * 1000) - readAt;
    return b;
  }

  /** Seconds left now, by the server's clock (negative once overdue). */
  function leftOf(i) {
    return (Date.parse(i.sla_deadline) - (Date.now() + skewMs)) / 1000;
  }

  function draw() {
    const items = board.items || [];
    const breached = items.filter((i) => i.status === 'breached');
    const risk = items.filter((i) => i.status === 'matching' && leftOf(i) < AT_RISK_S);
    const widened = items.filter((i) => (i.relaxed || []).length);
    const shown = filter.show === 'breached' ? breached : filter.show === 'risk' ? [...breached, ...risk] : items;
    mount(body,
      h('div', { class: 'kpis' },
        kpi(String(items.length), 'Open requests'),
        kpi(String(breached.length), 'Breached the 8 h SLA', { tone: breached.length ? 'bad' : null }),
        kpi(String(risk.length), `At risk (under ${duration(AT_RISK_S)} left)`, { tone: risk.length ? 'warn' : null }),
        kpi(String(widened.length), 'Search widened')),
      h('nav', { class: 'filter-bar row', 'aria-label': 'Show' },
        [['all', 'All open'], ['risk', 'Breached and at risk'], ['breached', 'Breached only']].map(([k, label]) => h('a', {
          href: k === 'all' ? '/admin/sla' : `/admin/sla?show=${k}`, 'aria-current': filter.show === k ? 'page' : null,
          onClick: (ev) => { ev.preventDefault(); filter.show = k; history.replaceState(null, '', ev.currentTarget.href); draw(); },
        }, label))),
      !items.length ? empty('No open requests.', 'Every request is matched, filled or cancelled. New requests appear here the moment a client submits one.')
        : !shown.length ? empty('Nothing in this view.', 'No request is breached or close to its deadline.', h('a', { href: '/admin/sla' }, 'Show all open requests'))
          : h('section', { class: 'card', 'aria-labelledby': 'sla-h' },
            h('h2', { id: 'sla-h' }, 'By deadline, soonest first'),
            h('ol', { class: 'list sla-list' }, shown.map(row))),
      h('p', { class: 'meta' }, `At ${duration(WIDEN_AT_S)} a request with fewer than three acceptances widens its search one step at a time; at ${duration(SLA_S)} it is breached and matching goes on. Times in your zone (${Intl.DateTimeFormat().resolvedOptions().timeZone}).`));
  }

  function row(i) {
    const left = leftOf(i);
    const total = (Date.parse(i.sla_deadline) - Date.parse(i.created_at)) / 1000 || SLA_S;
    const relaxed = i.relaxed || [];
    const elapsed = total - left;
    return h('li', { class: 'sla-item', dataset: { request: i.id, status: i.status } },
      h('div', { class: 'sla-main' },
        h('h3', { class: 'item-title' }, h('a', { href: `/requests/${i.id}` }, i.title), ' ', chip(i.status)),
        h('p', { class: 'meta' }, 'Raised ', timeExact(i.created_at), ' · deadline ', h('time', { datetime: i.sla_deadline }, exactTime(i.sla_deadline))),
        h('p', { class: 'sla-counts' },
          h('span', { class: 'accepted' }, h('strong', `${i.accepted} of 3`), ' accepted'),
          h('meter', { min: 0, max: 3, value: i.accepted, low: 1, high: 2, optimum: 3, 'aria-label': `${i.accepted} of 3 accepted` }),
          h('span', { class: 'meta' }, `${i.invited} invited`)),
        relaxed.length
          ? h('p', { class: 'sla-widened' }, h('strong', 'Widened: '), relaxed.map((r) => RELAXED[r] || r).join('; '), '.')
          : h('p', { class: 'meta' }, elapsed >= WIDEN_AT_S ? 'Not widened: every step was already taken or not needed.'
            : ['Not widened yet; widens in ', duration(WIDEN_AT_S - elapsed), ' if still short of three.'])),
      h('div', { class: 'sla-side', dataset: { ring: i.id } }, ringFor(i)));
  }

  function ringFor(i) {
    const left = leftOf(i);
    if (i.status === 'breached' || left <= 0) return countdownRing(Math.min(left, -1), SLA_S);
    return countdownRing(left, (Date.parse(i.sla_deadline) - Date.parse(i.created_at)) / 1000 || SLA_S);
  }

  /** Each second: only the rings and their words change (no re-render, no focus lost). */
  function tick() {
    if (!board) return;
    for (const i of board.items || []) {
      const slot = body.querySelector(`[data-ring="${CSS.escape(i.id)}"]`);
      if (slot) slot.replaceChildren(ringFor(i));
    }
  }

  async function reload() {
    try {
      const b = await load();
      if (!ctx.current) return;
      const before = new Set((board?.items || []).filter((i) => i.status === 'breached').map((i) => i.id));
      const fresh = (b.items || []).filter((i) => i.status === 'breached' && !before.has(i.id));
      board = b;
      const active = document.activeElement;
      const keepHref = active && body.contains(active) ? active.getAttribute('href') : null;
      draw();
      if (keepHref) body.querySelector(`a[href="${CSS.escape(keepHref)}"]`)?.focus({ preventScroll: true });
      if (fresh.length) say.textContent = `SLA breached: ${fresh.map((i) => i.title).join(', ')}`;
    } catch { /* keep what is shown; the next refresh tries again */ }
  }

  try {
    board = await load();
  } catch (e) {
    if (!ctx.current) return;
    failed(view, e, () => ctx.navigate(location.pathname + location.search, { replace: true }));
    return;
  }
  if (!ctx.current) return;
  mount(view, pageHead('SLA board', { sub: 'Every open request against its 8-hour deadline, live.' }), say, body);
  draw();

  let t = null;
  const soon = () => { clearTimeout(t); t = setTimeout(reload, 250); };
  for (const ty of LIVE) ctx.onCleanup(ctx.live.on(ty, soon));
  ctx.onCleanup(ctx.live.on('resync', soon));
  const everySecond = setInterval(tick, 1000);
  const refresh = setInterval(reload, REFRESH_MS);
  ctx.onCleanup(() => { clearTimeout(t); clearInterval(everySecond); clearInterval(refresh); });
}
