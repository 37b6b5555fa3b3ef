// admin_money: money going out. Payouts (GET /api/v1/admin/payouts) and
// card refunds (GET /api/v1/admin/refunds), each with its state, amount,
// the gateway's reference and the last error, failed ones first in the
// counts. A failed refund can be sent again, once (POST
// /api/v1/admin/refunds/{id}/retry); a failed payout goes out again in a
// payout run, which can be started now (POST /api/v1/admin/payouts).
// Both are money actions: a confirm that says what moves, and one
// Idempotency-Key kept while the same action is retried.
import { h, mount } from '../dom.js';
import { ApiError, get, moneyAction, qs } from '../api.js';
import { exactTime, money } from '../format.js';
import { busy, chip, confirmDialog, empty, failed, loading, pageHead, timeAgo, toast } from '../ui.js';
import { engineerName, kpi, shortId, stackTable } from './admin_common.js';

const LIVE = ['refund.succeeded', 'refund.failed', 'payout.succeeded', 'payout.failed', 'payout.reversed'];
const PAYOUT_STATES = ['', 'failed', 'pending', 'succeeded', 'reversed'];
const REFUND_STATES = ['', 'failed', 'pending', 'succeeded'];

export default async function render(view, ctx) {
  loading(view, 'Loading payouts and refunds');
  const state = {
    payout: PAYOUT_STATES.includes(ctx.query.get('payouts')) ? ctx.query.get('payouts') : '',
    refund: REFUND_STATES.includes(ctx.query.get('refunds')) ? ctx.query.get('refunds') : '',
  };
  const acts = new Map(); // action key -> moneyAction, kept while the same action is retried
  const act = (key) => { if (!acts.has(key)) acts.set(key, moneyAction()); return acts.get(key); };
  const lists = { payouts: null, refunds: null, failedPayouts: null, failedRefunds: null, more: {} };
  const body = h('div', { class: 'stack' });

  async function load() {
    const [p, r, fp, fr] = await Promise.allSettled([
      get(`/api/v1/admin/payouts${qs({ status: state.payout, limit: 50 })}`),
      get(`/api/v1/admin/refunds${qs({ status: state.refund, limit: 50 })}`),
      get(`/api/v1/admin/payouts${qs({ status: 'failed', limit: 100 })}`),
      get(`/api/v1/admin/refunds${qs({ status: 'failed', limit: 100 })}`),
    ]);
    if (p.status === 'rejected' && r.status === 'rejected') throw p.reason;
    lists.payouts = p.status === 'fulfilled' ? p.value : { error: p.reason };
    lists.refunds = r.status === 'fulfilled' ? r.value : { error: r.reason };
    lists.failedPayouts = fp.status === 'fulfilled' ? fp.value : null;
    lists.failedRefunds = fr.status === 'fulfilled' ? fr.value : null;
  }

  function count(pg) {
    if (!pg) return '?';
    return `${pg.items.length}${pg.next_cursor ? '+' : ''}`;
  }

  function draw() {
    const fp = lists.failedPayouts?.items.length || 0;
    const fr = lists.failedRefunds?.items.length || 0;
    mount(body,
      h('div', { class: 'kpis' },
        kpi(count(lists.failedRefunds), 'Failed refunds (client money held)', { tone: fr ? 'bad' : null }),
        kpi(count(lists.failedPayouts), 'Failed payouts (back in payable)', { tone: fp ? 'bad' : null })),
      fr ? h('div', { class: 'notice notice-bad' }, h('p', `${fr} refund${fr === 1 ? '' : 's'} failed: the money is held for the client until you send it again.`)) : null,
      payoutsCard(), refundsCard());
  }

  function filterNav(label, key, states, param) {
    return h('nav', { class: 'filter-bar row', 'aria-label': label },
      states.map((s) => {
        const params = new URLSearchParams(location.search);
        if (s) params.set(param, s); else params.delete(param);
        const href = `/admin/money${params.toString() ? `?${params}` : ''}`;
        return h('a', { href, 'aria-current': state[key] === s ? 'page' : null,
          onClick: async (ev) => {
            ev.preventDefault();
            state[key] = s;
            history.replaceState(null, '', href);
            await load().catch(() => {});
            if (ctx.current) { draw(); body.querySelector(`nav[aria-label="${label}"] a[aria-current="page"]`)?.focus(); }
          } }, s ? s[0].toUpperCase() + s.slice(1) : 'All');
      }));
  }

  function whenCell(x) {
    return [h('time', { datetime: x.created_at, title: exactTime(x.created_at) }, exactTime(x.created_at)),
      x.updated_at && x.updated_at !== x.created_at ? h('div', { class: 'meta' }, 'updated ', timeAgo(x.updated_at)) : null];
  }

  function errorCell(x) {
    return x.error ? h('span', { class: 'money-error' }, x.error) : x.attempts ? h('span', { class: 'meta' }, `${x.attempts} attempt${x.attempts === 1 ? '' : 's'} found the gateway unavailable`) : h('span', { class: 'meta' }, '—');
  }

  function payoutsCard() {
    const pg = lists.payouts;
    const run = h('button', { type: 'button', class: 'btn', onClick: (ev) => runPayouts(ev.currentTarget) }, 'Run a payout batch now');
    return h('section', { class: 'card', 'aria-labelledby': 'po-h' },
      h('div', { class: 'spread' }, h('h2', { id: 'po-h' }, 'Payouts'), run),
      h('p', { class: 'meta' }, 'Released money goes to engineers in batches. A failed or reversed payout puts the money back in payable; it goes out again in the next run.'),
      filterNav('Payouts by state', 'payout', PAYOUT_STATES, 'payouts'),
      pg.error ? h('p', { class: 'meta' }, `Payouts could not be read: ${pg.error.detail || pg.error}`)
        : !pg.items.length ? empty(state.payout ? `No ${state.payout} payouts.` : 'No payouts yet.', 'A payout run turns each engineer\'s payable balance into a transfer.')
          : stackTable([{ label: 'Created' }, { label: 'Engineer' }, { label: 'State' }, { label: 'Detail' }, { label: 'Reference' }, { label: 'Amount', num: true }, { label: 'Action' }],
            pg.items.map((p) => ({ id: p.id, cells: [whenCell(p), engineerCell(p.engineer_id), chip(p.status), errorCell(p),
              h('span', { class: 'mono ref' }, p.gateway_ref || '—'), money(p.amount, p.currency),
              p.status === 'failed' || p.status === 'reversed'
                ? h('button', { type: 'button', class: 'btn btn-small', onClick: (ev) => runPayouts(ev.currentTarget, p) }, 'Retry in a run now')
                : h('span', { class: 'meta' }, '—')] })),
            { caption: 'Payouts, newest first', cls: 'money-table' }),
      pg.next_cursor ? h('p', { class: 'meta' }, 'Showing the newest 50.') : null);
  }

  function engineerCell(id) {
    const a = h('a', { href: `/engineers/${id}` }, `Engineer ${shortId(id)}`);
    engineerName(id).then((n) => { if (n !== id) a.textContent = n; });
    return a;
  }

  function refundsCard() {
    const pg = lists.refunds;
    return h('section', { class: 'card', 'aria-labelledby': 'rf-h' },
      h('h2', { id: 'rf-h' }, 'Card refunds'),
      h('p', { class: 'meta' }, 'Escrow going back to a client\'s card: a contract ended, a dispute\'s refund part, the unworked rest of an hourly week. A failed refund may be sent again once.'),
      filterNav('Refunds by state', 'refund', REFUND_STATES, 'refunds'),
      pg.error ? h('p', { class: 'meta' }, `Refunds could not be read: ${pg.error.detail || pg.error}`)
        : !pg.items.length ? empty(state.refund ? `No ${state.refund} refunds.` : 'No refunds yet.', 'Refunds appear here when escrow goes back to a client.')
          : stackTable([{ label: 'Created' }, { label: 'Contract' }, { label: 'State' }, { label: 'Detail' }, { label: 'Reference' }, { label: 'Amount', num: true }, { label: 'Action' }],
            pg.items.map((r) => ({ id: r.id, cells: [whenCell(r), h('a', { href: `/contracts/${r.contract_id}` }, `Contract ${shortId(r.contract_id)}`), chip(r.status), errorCell(r),
              h('span', { class: 'mono ref' }, r.gateway_ref || '—'), money(r.amount, r.currency),
              r.status === 'failed'
                ? h('button', { type: 'button', class: 'btn btn-small btn-primary', onClick: (ev) => retryRefund(ev.currentTarget, r) }, `Retry ${money(r.amount, r.currency)}`)
                : h('span', { class: 'meta' }, '—')] })),
            { caption: 'Card refunds, newest first', cls: 'money-table' }),
      pg.next_cursor ? h('p', { class: 'meta' }, 'Showing the newest 50.') : null);
  }

  async function retryRefund(btn, r) {
    const ok = await confirmDialog({
      title: `Send the refund of ${money(r.amount, r.currency)} again?`,
      body: [`${money(r.amount, r.currency)} moves from the client's funding account back to the gateway, and a new refund to the card of contract ${shortId(r.contract_id)} is queued.`,
        h('p', { class: 'meta' }, `Last error: ${r.error || 'none given'}. A refund can be sent again only once; the failed one keeps its history.`)],
      confirm: `Retry ${money(r.amount, r.currency)}`,
    });
    if (!ok) return;
    try {
      await busy(btn, () => act(`refund:${r.id}`).run('POST', `/api/v1/admin/refunds/${encodeURIComponent(r.id)}/retry`), 'Sending…');
      toast(`Refund of ${money(r.amount, r.currency)} queued again.`, 'good');
      await reload();
    } catch (e) {
      toast(problem(e, 'The refund was not sent'), 'bad', 8000);
      if (e.status === 409) await reload();
    }
  }

  async function runPayouts(btn, p) {
    const ok = await confirmDialog({
      title: 'Run a payout batch now?',
      body: [p ? `The failed ${money(p.amount, p.currency)} is back in the engineer's payable balance; a run pays it out again together with every other payable balance above the minimum.`
        : 'Every engineer\'s payable balance above the minimum becomes a payout to their payout account, now, instead of at the next scheduled run.',
      h('p', { class: 'meta' }, 'Money moves from payable to paid out in the ledger at once; each transfer is then sent to the gateway.')],
      confirm: 'Run the payouts',
    });
    if (!ok) return;
    try {
      const out = await busy(btn, () => act('payout-run').run('POST', '/api/v1/admin/payouts'), 'Running…');
      const n = out?.payouts?.length || 0;
      toast(n ? `Payout run: ${n} payout${n === 1 ? '' : 's'} sent${out.skipped ? `, ${out.skipped} skipped (no payout account)` : ''}.` : 'Payout run: nothing was owed above the minimum.', n ? 'good' : 'info', 7000);
      await reload();
    } catch (e) {
      toast(problem(e, 'The payout run did not start'), 'bad', 8000);
    }
  }

  function problem(e, what) {
    if (!(e instanceof ApiError)) return `${what}: ${e}`;
    return `${what}: ${e.detail}${e.transient ? ' Press it again: the retry is the same request, so nothing moves twice.' : ''}`;
  }

  async function reload() {
    try { await load(); if (ctx.current) draw(); } catch { /* keep what is shown */ }
  }

  try {
    await load();
  } catch (e) {
    if (!ctx.current) return;
    failed(view, e, () => ctx.navigate(location.pathname + location.search, { replace: true }));
    return;
  }
  if (!ctx.current) return;
  mount(view, pageHead('Payouts and refunds', { sub: 'Money going out to engineers and back to clients\' cards.' }), body);
  draw();
  let t = null;
  const soon = () => { clearTimeout(t); t = setTimeout(reload, 400); };
  for (const ty of LIVE) ctx.onCleanup(ctx.live.on(ty, soon));
  ctx.onCleanup(ctx.live.on('resync', soon));
  ctx.onCleanup(() => clearTimeout(t));
}
