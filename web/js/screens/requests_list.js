// requests_list: a client's requests (an admin's: everyone's), newest
// first, each with its state, the SLA ring while it is matching, and how
// many engineers were invited and accepted. Filters by state and a title
// search are kept in the address (?status=, ?q=) and applied to what is
// loaded; "Show more" follows the cursor. Live: a request's state or a
// candidate's answer redraws the list.
import { h, mount } from '../dom.js';
import { get, qs } from '../api.js';
import { chip, empty, failed, link, pageHead, skeleton, timeAgo } from '../ui.js';
import { OPEN, plural, slaRing, syncClock } from './requests_common.js';

const FILTERS = [['', 'All'], ['open', 'Open'], ['matching', 'Matching'], ['matched', 'Matched'], ['breached', 'SLA breached'],
  ['filled', 'Filled'], ['cancelled', 'Cancelled']];
const LIVE = ['candidate.updated', 'request.updated', 'request.widened', 'request.sla_breached', 'admin.sla_breach'];

export default async function render(view, ctx) {
  const me = ctx.me;
  const admin = me.role === 'admin';
  const status = ctx.query.get('status') || '';
  const q = (ctx.query.get('q') || '').trim();
  const list = h('ul', { class: 'list req-list' });
  const more = h('div', { class: 'actions' });
  const count = h('p', { class: 'meta', role: 'status' });
  let cursor = null;
  let items = [];

  const keep = (r) => (!status || (status === 'open' ? OPEN.has(r.status) : r.status === status))
    && (!q || r.title.toLowerCase().includes(q.toLowerCase()) || (admin && r.client_id === q));

  const filterBar = h('nav', { class: 'filter-bar row', 'aria-label': 'Filter by state' },
    FILTERS.map(([v, l]) => h('a', { href: `/requests${qs({ status: v, q })}`, 'aria-current': v === status ? 'page' : null, class: 'btn btn-small' }, l)));
  const searchIn = h('input', { type: 'search', name: 'q', value: q, id: 'req-q', autocomplete: 'off' });
  const searchForm = h('form', { class: 'row req-search', role: 'search', onSubmit: (ev) => {
    ev.preventDefault();
    ctx.navigate(`/requests${qs({ status, q: searchIn.value.trim() })}`);
  } }, h('label', { for: 'req-q' }, admin ? 'Search titles or a client id' : 'Search titles'), searchIn,
  h('button', { type: 'submit', class: 'btn btn-small' }, 'Search'));

  function row(r) {
    const ring = slaRing(r);
    return h('li', { class: 'req-row', dataset: { request: r.id, status: r.status } },
      h('div', { class: 'spread' },
        h('h2', { class: 'item-title' }, link(`/requests/${r.id}`, r.title), ' ', chip(r.status)),
        ring),
      h('p', { class: 'meta' },
        `${plural(r.invited, 'engineer', 'engineers')} invited · ${r.accepted} of 3 accepted · raised `, timeAgo(r.created_at),
        admin ? ` · client ${r.client_id}` : ''),
      isClientNeeds(r) ? h('p', { class: 'needs' }, h('span', { class: 'sr-only' }, 'Needs you: '),
        `${plural(r.accepted, 'engineer', 'engineers')} accepted: talk to them and make an offer · `, link(`/requests/${r.id}`, 'Open')) : null);
  }
  const isClientNeeds = (r) => !admin && r.accepted > 0 && (r.status === 'matching' || r.status === 'matched' || r.status === 'breached');

  function draw() {
    const shown = items.filter(keep);
    if (!items.length) {
      mount(list);
      mount(more, admin ? empty('No requests yet.', 'Requests appear here as clients raise them.')
        : empty('You have not raised a request yet.', 'Say what you need: the skills, budget and hours. You get a ranked shortlist of vetted engineers at once.',
          h('a', { class: 'btn btn-primary', href: '/requests/new' }, 'Raise a request')));
      count.textContent = '';
      return;
    }
    mount(list, shown.length ? shown.map(row) : h('li', empty('No requests match.', cursor ? 'Some are not loaded yet: show more below, or try another filter.' : 'Try another filter or search.',
      link('/requests', 'Show all requests'))));
    const open = items.filter((r) => OPEN.has(r.status)).length;
    count.textContent = `${plural(shown.length, 'request', 'requests')} shown${shown.length !== items.length ? ` of ${items.length} loaded` : ''}${cursor ? ' (more below)' : ''} · ${open} open.`;
    mount(more, cursor ? h('button', { type: 'button', class: 'btn', onClick: async (ev) => {
      const b = ev.currentTarget;
      b.disabled = true;
      b.textContent = 'Loading…';
      try { await page(false); } catch (e) { b.disabled = false; b.textContent = 'Show more'; count.textContent = `Could not load more: ${e.detail}`; }
    } }, 'Show more') : null);
  }

  async function page(first) {
    const [d] = await Promise.all([get(`/api/v1/requests${qs({ limit: 50, cursor: first ? null : cursor })}`), syncClock()]);
    if (!ctx.current) return;
    if (first) {
      // a live refresh re-reads the first page and keeps what was loaded beyond it
      const fresh = d.items || [];
      const ids = new Set(fresh.map((r) => r.id));
      items = fresh.concat(items.slice(fresh.length).filter((r) => !ids.has(r.id)));
      if (!cursor || items.length <= fresh.length) cursor = d.next_cursor;
    } else {
      items = items.concat(d.items || []);
      cursor = d.next_cursor;
    }
    draw();
  }

  mount(view,
    pageHead(admin ? 'All requests' : 'Your requests', {
      sub: admin ? 'Every client\'s requests, newest first' : 'Newest first. Each is matched within 8 hours.',
      actions: admin ? null : h('a', { class: 'btn btn-primary', href: '/requests/new' }, 'Raise a request'),
    }),
    h('div', { class: 'req-tools' }, filterBar, searchForm), count, h('section', { class: 'card' }, list, more));
  mount(list, h('li', skeleton(3)));
  try {
    await page(true);
  } catch (e) {
    if (!ctx.current) return;
    failed(view, e, () => ctx.navigate(location.pathname + location.search, { replace: true }));
    return;
  }
  let t = null;
  const again = () => { clearTimeout(t); t = setTimeout(() => page(true).catch(() => {}), 200); };
  for (const ty of LIVE) ctx.onCleanup(ctx.live.on(ty, again));
  ctx.onCleanup(ctx.live.on('resync', again));
  ctx.onCleanup(() => clearTimeout(t));
}
