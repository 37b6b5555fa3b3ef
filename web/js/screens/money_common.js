// money_common: what the offer, contract, list, earnings and engineer home
// screens share: the platform fee (the same integer arithmetic as the
// server's ledger_fee, so what we promise is what moves), due dates as
// relative days, and the money picture of a contract from its receipts.
import { h } from '../dom.js';
import { get } from '../api.js';
import { money } from '../format.js';

let termsOnce = null;
/** The server's terms (GET /terms: fee_bps for offers not yet made, the
 * currencies, the deadlines); read once per page load. A contract keeps
 * the fee_bps it was offered with: use the contract's for it. */
export function terms() {
  if (!termsOnce) termsOnce = get('/api/v1/terms').catch((e) => { termsOnce = null; throw e; });
  return termsOnce;
}

/** The platform fee on a release, as the server's ledger computes it (rounded down). */
export function feeOf(amount, feeBps) {
  if (!(amount > 0) || !(feeBps > 0)) return 0;
  if (feeBps >= 10000) return amount;
  return Math.floor(amount / 10000) * feeBps + Math.floor(((amount % 10000) * feeBps) / 10000);
}

/** "10%" from basis points. */
export function feePercent(feeBps) {
  const p = feeBps / 100;
  return `${Number.isInteger(p) ? p : p.toFixed(2)}%`;
}

/** What the engineer receives from a release of `amount`. */
export function netOf(amount, feeBps) {
  return amount - feeOf(amount, feeBps);
}

function todayIso() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
export const today = todayIso;

/** Whole days from today (the viewer's calendar) to a YYYY-MM-DD date. */
export function daysUntil(isoDate) {
  const [y, m, d] = isoDate.split('-').map(Number);
  const [ty, tm, td] = todayIso().split('-').map(Number);
  return Math.round((Date.UTC(y, m - 1, d) - Date.UTC(ty, tm - 1, td)) / 86400000);
}

/** "due in 3 days" / "due today" / "overdue by 2 days" */
export function dueWords(isoDate) {
  if (!isoDate) return '';
  const n = daysUntil(isoDate);
  if (n === 0) return 'due today';
  if (n === 1) return 'due tomorrow';
  if (n > 0) return `due in ${n} days`;
  return n === -1 ? 'overdue by 1 day' : `overdue by ${-n} days`;
}

/** Monday (YYYY-MM-DD) of the week holding a YYYY-MM-DD date. */
export function mondayOf(isoDate) {
  const [y, m, d] = isoDate.split('-').map(Number);
  const t = new Date(Date.UTC(y, m - 1, d));
  const back = (t.getUTCDay() + 6) % 7;
  t.setUTCDate(t.getUTCDate() - back);
  return t.toISOString().slice(0, 10);
}

/**
 * The money of a contract: {total, released, escrow, refunded, unfunded,
 * fee, net, byMilestone: Map(id -> {charged, refunded, released})}. From
 * the receipts when we have them (exact for hourly weeks and split
 * disputes), else from the milestone states.
 */
export function contractMoney(k, payments) {
  const by = new Map(k.milestones.map((m) => [m.id, { charged: 0, refunded: 0, released: 0 }]));
  let unfunded = 0;
  for (const m of k.milestones) if (m.status === 'pending' && k.status !== 'ended') unfunded += m.amount;
  if (payments) {
    for (const p of payments) {
      const b = by.get(p.milestone_id);
      if (!b) continue;
      if (p.kind === 'charge' && p.status === 'succeeded') b.charged += p.amount;
      if (p.kind === 'refund') b.refunded += p.amount;
    }
  }
  let released = 0;
  let refunded = 0;
  let fee = 0;
  for (const m of k.milestones) {
    const b = by.get(m.id);
    if (!payments) { // no receipts: the states say it, whole milestones
      if (m.status === 'released') b.charged = m.amount;
      if (m.status === 'refunded' && m.funded_at) { b.charged = m.amount; b.refunded = m.amount; }
    }
    b.released = Math.max(0, b.charged - b.refunded - (m.escrow || 0));
    released += b.released;
    refunded += b.refunded;
    fee += feeOf(b.released, k.fee_bps);
  }
  const escrow = k.escrow || 0;
  return { released, escrow, refunded, unfunded, total: released + escrow + refunded + unfunded, fee, net: released - fee, byMilestone: by };
}

/** The split bar's parts for a contract's money. */
export function moneyParts(mny, currency) {
  return [
    { label: 'Released to the engineer', value: mny.released, text: money(mny.released, currency), fill: 2 },
    { label: 'In escrow', value: mny.escrow, text: money(mny.escrow, currency), fill: 1 },
    { label: 'Refunded to the client', value: mny.refunded, text: money(mny.refunded, currency), fill: 3 },
    { label: 'Not yet funded', value: mny.unfunded, text: money(mny.unfunded, currency), fill: 0 },
  ];
}

/** Right-aligned amount text for tables. */
export function amountCell(amount, currency) {
  return h('span', { class: 'num' }, money(amount, currency));
}

export const TEST_CARDS = [
  ['tok_visa', 'Visa test card', 'succeeds'],
  ['tok_chargeDeclined', 'Declined test card', 'the bank declines it'],
  ['tok_slow', 'Slow test card', 'succeeds after about 3 seconds'],
];

/** A split bar that fills its width at a fixed height (the chart keeps its aspect ratio otherwise). */
export function wideBar(el) {
  el.classList.add('money-bar');
  el.querySelector('svg')?.setAttribute('preserveAspectRatio', 'none');
  return el;
}
