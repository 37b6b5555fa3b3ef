// earnings: an engineer's money: per currency what is payable (released,
// waiting for the next payout), pending (in escrow on their milestones), in
// transit and paid out, as figures and a picture; their payouts with
// status; and the Stripe account payouts go to.
import { h, mount } from '../dom.js';
import { get, put, qs } from '../api.js';
import { money } from '../format.js';
import { splitBar } from '../charts.js';
import { card, chip, empty, failed, field, link, onSubmit, pageHead, timeAgo, timeExact, toast } from '../ui.js';
import { wideBar } from './money_common.js';

const LIVE = ['payout.succeeded', 'payout.failed', 'payout.reversed', 'milestone.released', 'milestone.funded',
  'milestone.resolved', 'timesheet.approved', 'contract.ended'];

export default async function render(view, ctx) {
  const balanceBox = h('div', { class: 'balance-box', 'aria-live': 'polite' });
  const payoutsBox = h('div');
  const accountBox = h('div');
  let cursor = null;
  let payouts = [];
  let accountDraft = null;

  async function loadBalance() {
    const b = await get('/api/v1/me/balance');
    const rows = b.balances || [];
    if (!rows.length) {
      mount(balanceBox, empty('No earnings yet.', 'When a client approves your work, the money (less the platform fee) shows here as payable and is paid out in the next payout run.',
        link('/contracts', 'See your contracts')));
      return;
    }
    mount(balanceBox, rows.map((r) => ({ ...r, confirmed: Math.max(0, r.paid_out - r.in_transit) })).map((r) => h('div', { class: 'balance-block' },
      rows.length > 1 ? h('h3', r.currency) : null,
      h('div', { class: 'kpis' },
        kpi(money(r.payable, r.currency), 'Payable: in the next payout'),
        kpi(money(r.pending, r.currency), 'Pending: in escrow on your work, before the fee'),
        kpi(money(r.in_transit, r.currency), 'In transit to your account'),
        kpi(money(r.confirmed, r.currency), 'Paid out')),
      wideBar(splitBar([
        { label: 'Paid out', value: r.confirmed, text: money(r.confirmed, r.currency), fill: 2 },
        { label: 'In transit', value: r.in_transit, text: money(r.in_transit, r.currency), fill: 1 },
        { label: 'Payable', value: r.payable, text: money(r.payable, r.currency), fill: 3 },
        { label: 'In escrow', value: r.pending, text: money(r.pending, r.currency), fill: 0 },
      ], { title: `Your ${r.currency} earnings` })))));
  }

  function payoutRow(p) {
    return h('tr',
      h('td', timeExact(p.created_at)),
      h('td', chip(p.status), p.error ? h('div', { class: 'meta receipt-failure' }, p.error) : null,
        p.status === 'failed' || p.status === 'reversed' ? h('div', { class: 'meta' }, 'The money is back in payable for the next run.') : null),
      h('td', { class: 'mono ref' }, p.destination || '—'),
      h('td', { class: 'mono ref' }, p.gateway_ref || '—'),
      h('td', { class: 'num' }, money(p.amount, p.currency), /[A-Za-z]/.test(money(p.amount, p.currency)) ? null : [' ', h('span', { class: 'meta' }, p.currency)]));
  }

  async function loadPayouts(first = true) {
    const d = await get(`/api/v1/me/payouts${qs({ limit: 20, before: first ? null : cursor })}`);
    payouts = first ? d.items || [] : payouts.concat(d.items || []);
    cursor = d.next_cursor;
    if (!payouts.length) {
      mount(payoutsBox, empty('No payouts yet.', 'Payouts run in batches (daily by default): your payable balance is sent to your payout account.'));
      return;
    }
    mount(payoutsBox,
      h('div', { class: 'table-wrap' }, h('table', { class: 'payouts' },
        h('caption', { class: 'sr-only' }, 'Your payouts, newest first'),
        h('thead', h('tr', ['Date', 'Status', 'To', 'Reference'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col', class: 'num' }, 'Amount'))),
        h('tbody', payouts.map(payoutRow)))),
      cursor ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onClick: () => loadPayouts(false).catch((e) => toast(e.detail, 'bad')) }, 'Show older payouts')) : null);
  }

  async function loadAccount() {
    let acct = null;
    try {
      acct = await get('/api/v1/me/payout-account');
    } catch (e) {
      if (e.status !== 404) throw e;
    }
    const input = h('input', { type: 'text', name: 'stripe_account', autocomplete: 'off', spellcheck: 'false', class: 'mono',
      value: accountDraft ?? acct?.stripe_account ?? '', placeholder: 'acct_…', required: true });
    input.addEventListener('input', () => { accountDraft = input.value; });
    const form = h('form', { class: 'form-narrow', novalidate: true },
      acct ? h('p', 'Payouts go to ', h('code', acct.stripe_account), h('span', { class: 'meta' }, ' · set ', timeAgo(acct.updated_at)))
        : h('div', { class: 'notice notice-warn' }, h('p', 'Add your Stripe account so payouts can reach you. Until then your payable balance waits.')),
      field({ label: 'Stripe account id', name: 'stripe_account', input, hint: 'Starts with acct_, from your Stripe Connect dashboard' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, acct ? 'Change the account' : 'Save the account')));
    onSubmit(form, async (fd) => {
      await put('/api/v1/me/payout-account', { stripe_account: String(fd.get('stripe_account') || '').trim() });
      accountDraft = null;
      toast('Payout account saved.', 'good');
      await loadAccount();
    }, 'Saving…');
    mount(accountBox, form);
  }

  mount(view, h('div', { class: 'stack' },
    pageHead('Earnings', { sub: 'What clients released to you, what is on its way, and where payouts go' }),
    h('section', { class: 'card', 'aria-labelledby': 'bal-h' }, h('h2', { id: 'bal-h' }, 'Balance'), balanceBox),
    h('div', { class: 'cols' },
      h('section', { class: 'card', 'aria-labelledby': 'po-h' }, h('h2', { id: 'po-h' }, 'Payouts'), payoutsBox),
      card('Payout account', accountBox))));
  try {
    await Promise.all([loadBalance(), loadPayouts(), loadAccount()]);
  } catch (e) {
    if (!ctx.current) return;
    failed(view, e, () => ctx.navigate('/earnings', { replace: true }));
    return;
  }
  let t = null;
  const again = () => { clearTimeout(t); t = setTimeout(() => { loadBalance().catch(() => {}); loadPayouts().catch(() => {}); }, 200); };
  for (const ty of LIVE) ctx.onCleanup(ctx.live.on(ty, again));
  ctx.onCleanup(ctx.live.on('resync', again));
  ctx.onCleanup(() => clearTimeout(t));
}

function kpi(value, label) {
  return h('div', { class: 'kpi' }, h('div', { class: 'kpi-value' }, value), h('div', { class: 'kpi-label' }, label));
}
