// admin_outbox: the email outbox (GET /api/v1/admin/outbox), newest
// first, by state: to whom, the subject, its kind, the state, attempts,
// when it was queued, tried next or sent, and the relay's last error.
// A mail opens to show its plain text (and calendar part) as text, never
// as HTML; a failed mail can be queued again. "Show older" follows the
// cursor. Read again after a reconnect and every 30 s (sending is a job,
// with no event to the admin).
import { h, mount } from '../dom.js';
import { get, post, qs } from '../api.js';
import { exactTime } from '../format.js';
import { busy, chip, empty, failed, loading, pageHead, timeAgo, toast } from '../ui.js';
import { kpi, stackTable } from './admin_common.js';

const STATES = ['', 'queued', 'failed', 'sent'];
const REFRESH_MS = 30000;

export default async function render(view, ctx) {
  loading(view, 'Loading the outbox');
  const state = { status: STATES.includes(ctx.query.get('status')) ? ctx.query.get('status') : '' };
  let items = [];
  let cursor = null;
  let counts = { queued: null, failed: null };
  const open = new Map(); // mail id -> detail (or a promise while loading)
  const body = h('div', { class: 'stack' });

  async function load() {
    const [page, q, f] = await Promise.all([
      get(`/api/v1/admin/outbox${qs({ status: state.status, limit: 25 })}`),
      get(`/api/v1/admin/outbox${qs({ status: 'queued', limit: 100 })}`).catch(() => null),
      get(`/api/v1/admin/outbox${qs({ status: 'failed', limit: 100 })}`).catch(() => null),
    ]);
    items = page.items || [];
    cursor = page.next_cursor;
    const n = (pg) => (pg ? `${pg.items.length}${pg.next_cursor ? '+' : ''}` : '?');
    counts = { queued: n(q), failed: n(f), failedN: f?.items.length || 0 };
  }

  async function more(btn) {
    await busy(btn, async () => {
      const page = await get(`/api/v1/admin/outbox${qs({ status: state.status, limit: 25, before: cursor })}`);
      items = items.concat(page.items || []);
      cursor = page.next_cursor;
    }, 'Loading…').catch((e) => toast(`Could not load older mail: ${e.detail || e.message}`, 'bad'));
    if (ctx.current) draw();
  }

  function draw() {
    mount(body,
      h('div', { class: 'kpis' },
        kpi(counts.queued, 'Queued (waiting to be sent)'),
        kpi(counts.failed, 'Failed (all attempts used)', { tone: counts.failedN ? 'bad' : null })),
      h('nav', { class: 'filter-bar row', 'aria-label': 'Mail by state' }, STATES.map((s) => {
        const href = s ? `/admin/outbox?status=${s}` : '/admin/outbox';
        return h('a', { href, 'aria-current': state.status === s ? 'page' : null }, s ? s[0].toUpperCase() + s.slice(1) : 'All');
      })),
      !items.length
        ? empty(state.status ? `No ${state.status} mail.` : 'The outbox is empty.',
          state.status === 'failed' ? 'Every mail went out or is still being tried.' : 'Mail appears here as soon as something is written to someone: invitations, messages, money.')
        : h('section', { class: 'card', 'aria-labelledby': 'ob-h' },
          h('h2', { id: 'ob-h' }, state.status ? `${state.status[0].toUpperCase()}${state.status.slice(1)} mail` : 'All mail', ', newest first'),
          stackTable([{ label: 'Queued' }, { label: 'To' }, { label: 'Subject' }, { label: 'State' }, { label: 'Attempts', num: true }, { label: 'Sent or next try' }, { label: 'Actions' }],
            items.map(row), { caption: 'Outbox mail, newest first', cls: 'outbox-table' }),
          cursor ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onClick: (ev) => more(ev.currentTarget) }, 'Show older mail')) : null),
      h('p', { class: 'meta' }, `Times in your zone (${Intl.DateTimeFormat().resolvedOptions().timeZone}).`));
  }

  function sentOrNext(m) {
    if (m.status === 'sent' && m.sent_at) return ['sent ', timeAgo(m.sent_at)];
    if (m.status === 'queued' && m.next_attempt_at) return ['next try ', timeAgo(m.next_attempt_at)];
    return h('span', { class: 'meta' }, m.status === 'failed' ? 'gave up' : '—');
  }

  function row(m) {
    const detailId = `mail-${m.id}`;
    const isOpen = open.has(m.id);
    return { id: m.id, cls: `outbox-row outbox-${m.status}`, cells: [
      h('time', { datetime: m.created_at, title: exactTime(m.created_at) }, exactTime(m.created_at)),
      h('span', { class: 'outbox-to' }, m.to_name || m.to, m.to_name ? h('span', { class: 'meta' }, h('br'), m.to) : null),
      [h('span', { class: 'outbox-subject' }, m.subject || '(no subject)'), h('div', { class: 'meta' }, m.kind),
        m.last_error ? h('div', { class: 'outbox-error' }, h('strong', 'Last error: '), m.last_error) : null,
        isOpen ? detailBox(detailId, open.get(m.id)) : null],
      chip(m.status),
      String(m.attempts),
      sentOrNext(m),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-small', 'aria-expanded': isOpen ? 'true' : 'false', 'aria-controls': detailId,
          'aria-label': `${isOpen ? 'Hide text' : 'Text'} of “${m.subject}” to ${m.to}`, onClick: (ev) => toggle(ev.currentTarget, m) }, isOpen ? 'Hide text' : 'Text'),
        m.status === 'failed' ? h('button', { type: 'button', class: 'btn btn-small btn-primary', 'aria-label': `Send again: “${m.subject}” to ${m.to}`, onClick: (ev) => retry(ev.currentTarget, m) }, 'Send again') : null),
    ] };
  }

  function detailBox(id, d) {
    if (!d || d instanceof Promise) return h('div', { id, class: 'outbox-text' }, h('p', { class: 'meta', role: 'status' }, 'Loading the text…'));
    if (d.error) return h('div', { id, class: 'outbox-text' }, h('p', { class: 'meta' }, `Could not read the mail: ${d.error}`));
    return h('div', { id, class: 'outbox-text' },
      h('pre', { class: 'mail-text', tabindex: '0', 'aria-label': 'The mail\'s text' }, d.text || '(no text)'),
      d.calendar ? h('details', h('summary', 'Calendar invitation (iCalendar)'), h('pre', { class: 'mail-text' }, d.calendar)) : null);
  }

  async function toggle(btn, m) {
    if (open.has(m.id)) { open.delete(m.id); redraw(m.id); return; }
    open.set(m.id, null);
    redraw(m.id);
    try {
      const d = await get(`/api/v1/admin/outbox/${encodeURIComponent(m.id)}`);
      if (open.has(m.id)) open.set(m.id, d);
    } catch (e) {
      if (open.has(m.id)) open.set(m.id, { error: e.detail || e.message });
    }
    if (ctx.current) redraw(m.id);
  }

  /** Redraws the page and puts the focus back on the mail's toggle. */
  function redraw(mailId) {
    draw();
    body.querySelector(`#${CSS.escape(mailId)} button[aria-controls]`)?.focus({ preventScroll: true });
  }

  async function retry(btn, m) {
    try {
      await busy(btn, () => post(`/api/v1/admin/outbox/${encodeURIComponent(m.id)}/retry`), 'Queueing…');
      toast(`Queued again: “${m.subject}” to ${m.to}.`, 'good');
      await reload();
      body.querySelector(`#${CSS.escape(m.id)} button[aria-controls]`)?.focus({ preventScroll: true });
    } catch (e) {
      toast(`Could not queue it again: ${e.detail || e.message}`, 'bad', 8000);
      if (e.status === 409) await reload();
    }
  }

  async function reload() {
    const shown = items.length;
    try {
      await load();
      if (!ctx.current) return;
      if (shown > items.length && cursor) return; // the admin paged further: keep their list until they come back
      draw();
    } catch { /* keep what is shown */ }
  }

  try {
    await load();
  } catch (e) {
    if (!ctx.current) return;
    failed(view, e, () => ctx.navigate(location.pathname + location.search, { replace: true }));
    return;
  }
  if (!ctx.current) return;
  mount(view, pageHead('Email outbox', { sub: 'Every mail the server writes, its state and attempts.' }), body);
  draw();
  const iv = setInterval(() => { if (!body.contains(document.activeElement) || document.activeElement === document.body) reload(); }, REFRESH_MS);
  ctx.onCleanup(ctx.live.on('resync', reload));
  ctx.onCleanup(() => clearInterval(iv));
}
