// contracts_list: the viewer's contracts (an admin's: all), newest first,
// each with its state, what is in escrow and what needs the viewer now
// ("2 milestones to review"); a filter by state kept in the address
// (?status=) and cursor paging ("Show more").
import { h, mount } from '../dom.js';
import { get, qs } from '../api.js';
import { money } from '../format.js';
import { chip, empty, failed, link, pageHead, skeleton, timeAgo } from '../ui.js';

const FILTERS = [['', 'All'], ['offered', 'Offers'], ['active', 'Active'], ['ended', 'Ended'], ['declined', 'Declined'], ['withdrawn', 'Withdrawn']];
const LIVE = ['contract.offered', 'contract.accepted', 'contract.declined', 'contract.ended', 'milestone.funded',
  'milestone.submitted', 'milestone.released', 'milestone.changes_requested', 'milestone.disputed', 'milestone.resolved',
  'timesheet.submitted', 'timesheet.approved'];

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** What needs the viewer on this contract, or null. */
export function needsYou(k, me) {
  const role = me.id === k.client_id ? 'client' : me.id === k.engineer_id ? 'engineer' : 'admin';
  const hourly = k.type === 'hourly';
  const n = (st, pred = () => true) => k.milestones.filter((m) => m.status === st && pred(m)).length;
  if (role === 'engineer') {
    if (k.status === 'offered') return 'An offer to answer';
    if (k.status !== 'active') return null;
    const changes = n('funded', (m) => m.changes_note);
    if (changes) return `${plural(changes, 'milestone', 'milestones')} with changes requested`;
    const todo = n('funded');
    if (todo) return hourly ? `${plural(todo, 'funded week', 'funded weeks')}: submit the timesheet` : `${plural(todo, 'milestone', 'milestones')} to deliver`;
    return null;
  }
  if (role === 'client') {
    if (k.status !== 'active') return null;
    const review = n('submitted');
    if (review) return hourly ? `${plural(review, 'timesheet', 'timesheets')} to approve` : `${plural(review, 'milestone', 'milestones')} to review`;
    const fund = n('pending');
    if (fund) return hourly ? 'The next week to fund' : `${plural(fund, 'milestone', 'milestones')} to fund`;
    return null;
  }
  const d = n('disputed');
  return d ? `${plural(d, 'dispute', 'disputes')} open` : null;
}

export default async function render(view, ctx) {
  const me = ctx.me;
  const status = ctx.query.get('status') || '';
  const list = h('ul', { class: 'list contract-list' });
  const more = h('div', { class: 'actions' });
  const count = h('p', { class: 'meta', role: 'status' });
  let cursor = null;
  let items = [];

  const filterBar = h('nav', { class: 'filter-bar row', 'aria-label': 'Filter by state' },
    FILTERS.map(([v, l]) => h('a', { href: `/contracts${qs({ status: v })}`, 'aria-current': v === status ? 'page' : null, class: 'btn btn-small' }, l)));

  function row(k) {
    const other = me.id === k.client_id ? k.engineer_name : me.id === k.engineer_id ? k.client_name : `${k.client_name} → ${k.engineer_name}`;
    const total = k.type === 'hourly'
      ? `${money(k.hourly_rate, k.currency)}/h, up to ${k.weekly_cap_hours} h a week`
      : `${money(k.milestones.reduce((s, m) => s + m.amount, 0), k.currency)} in ${plural(k.milestones.length, 'milestone', 'milestones')}`;
    const need = needsYou(k, me);
    return h('li', { class: 'contract-row' },
      h('div', { class: 'spread' },
        h('h2', { class: 'item-title' }, link(`/contracts/${k.id}`, k.request_title), ' ', chip(k.status)),
        h('span', { class: 'num' }, k.escrow ? [money(k.escrow, k.currency), h('span', { class: 'meta' }, ' in escrow')] : h('span', { class: 'meta' }, 'nothing in escrow'))),
      h('p', { class: 'meta' }, `${k.type === 'hourly' ? 'Hourly' : 'Fixed price'} · ${other} · ${total} · offered `, timeAgo(k.created_at)),
      need ? h('p', { class: 'needs' }, h('span', { class: 'sr-only' }, 'Needs you: '), need, ' · ', link(`/contracts/${k.id}`, 'Open')) : null);
  }

  async function page(first) {
    const d = await get(`/api/v1/contracts${qs({ status, limit: 20, cursor: first ? null : cursor })}`);
    if (!ctx.current) return;
    items = first ? d.items || [] : items.concat(d.items || []);
    cursor = d.next_cursor;
    if (!items.length) {
      mount(list);
      const what = status ? FILTERS.find((f) => f[0] === status)?.[1].toLowerCase() : '';
      mount(more, me.role === 'client'
        ? empty(status ? `No ${what} contracts.` : 'No contracts yet.', 'Contracts start when you make an offer to a candidate who accepted your invitation.', link('/requests', 'Go to your requests'))
        : me.role === 'engineer'
          ? empty(status ? `No ${what} contracts.` : 'No contracts yet.', 'When a client makes you an offer, it appears here. Accepting invitations is the first step.', link('/invitations', 'See your invitations'))
          : empty('No contracts match.', status ? 'Try another state.' : null));
      count.textContent = '';
      return;
    }
    mount(list, items.map(row));
    const waiting = items.filter((k) => needsYou(k, me)).length;
    count.textContent = `${plural(items.length, 'contract', 'contracts')} shown${cursor ? ' (more below)' : ''}${waiting ? ` · ${waiting} need${waiting === 1 ? 's' : ''} you` : ''}.`;
    mount(more, cursor ? h('button', { type: 'button', class: 'btn', onClick: async (ev) => {
      const b = ev.currentTarget;
      b.disabled = true;
      b.textContent = 'Loading…';
      try { await page(false); } catch (e) { b.disabled = false; b.textContent = 'Show more'; count.textContent = `Could not load more: ${e.detail}`; }
    } }, 'Show more') : null);
  }

  mount(view, pageHead('Contracts', { sub: me.role === 'admin' ? 'Every contract on the platform' : 'Your contracts, newest first' }),
    filterBar, count, h('section', { class: 'card' }, list, more));
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
