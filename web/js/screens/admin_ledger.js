// admin_ledger: the ledger overview (GET /api/v1/admin/ledger): the
// verification first (OK, or how many violations and the report that
// names them), then per currency where the money taken from cards is now
// (escrow, payable, paid out, revenue, client funding) as one split bar
// and as bars per account kind, a check that the currency sums to zero,
// and the largest accounts with links to their contract or engineer.
// Verified again on money events (debounced) and on "Verify again".
import { h, mount } from '../dom.js';
import { get } from '../api.js';
import { exactTime, money } from '../format.js';
import { bars, splitBar } from '../charts.js';
import { busy, chip, empty, failed, loading, pageHead, select } from '../ui.js';
import { wideBar } from './money_common.js';
import { KIND_HINTS, KIND_LABELS, engineerName, kpi, shortId, stackTable } from './admin_common.js';

const LIVE = ['milestone.funded', 'milestone.released', 'milestone.resolved', 'dispute.resolved', 'contract.ended',
  'timesheet.approved', 'refund.succeeded', 'refund.failed', 'payout.succeeded', 'payout.failed', 'payout.reversed'];
const ORDER = ['escrow', 'payable', 'paid_out', 'revenue', 'client_funding', 'gateway_clearing'];
const FILL = { escrow: 1, payable: 3, paid_out: 2, revenue: 4, client_funding: 0, gateway_clearing: 1 };

export default async function render(view, ctx) {
  loading(view, 'Verifying the ledger');
  const state = { kind: ctx.query.get('kind') || '' };
  let data = null;
  const body = h('div', { class: 'stack' });
  const again = h('button', { type: 'button', class: 'btn', onClick: (ev) => busy(ev.currentTarget, reload, 'Verifying…') }, 'Verify again');

  async function reload() {
    try {
      const d = await get('/api/v1/admin/ledger');
      if (!ctx.current) return;
      data = d;
      draw();
    } catch (e) {
      if (ctx.current) mount(body, h('div', { class: 'notice notice-bad', role: 'alert' }, h('p', `Could not verify the ledger: ${e.detail || e.message}`)));
    }
  }

  function draw() {
    const v = data.verify || {};
    const currencies = [...new Set((data.totals || []).map((t) => t.currency))];
    mount(body,
      verifyCard(v),
      !currencies.length ? empty('The ledger is empty.', 'Money appears here once a client funds a milestone.')
        : h('div', { class: 'grid ledger-currencies' }, currencies.map((c) => currencyCard(c, (data.totals || []).filter((t) => t.currency === c)))),
      accountsCard());
  }

  function verifyCard(v) {
    const lines = String(v.report || '').trim().split('\n');
    const last = lines[lines.length - 1] || '';
    return h('section', { class: ['card', 'ledger-verify', v.ok ? 'ledger-ok' : 'ledger-bad'], 'aria-labelledby': 'lv-h' },
      h('h2', { id: 'lv-h' }, 'Verification ', v.ok ? chip('succeeded', 'OK') : chip('failed', 'FAILED')),
      h('p', { class: 'ledger-verdict', role: 'status' }, v.ok
        ? `Verify OK: ${v.violations || 0} violations. Every balance re-derived from the append-only entries agrees with the stored one, and each transaction balances.`
        : `Verify FAILED: ${v.violations} violation${v.violations === 1 ? '' : 's'}. Stop moving money by hand until the report below is understood.`),
      h('p', { class: 'meta' }, 'Checked ', v.checked_at ? h('time', { datetime: v.checked_at }, exactTime(v.checked_at)) : '—', ' · the same checks as ', h('code', 'opx ledger verify'), '.'),
      h('details', { class: 'ledger-report', open: !v.ok },
        h('summary', `The report (${last})`),
        h('pre', v.report || '')));
  }

  function currencyCard(c, totals) {
    const by = Object.fromEntries(totals.map((t) => [t.kind, t.balance]));
    const sum = totals.reduce((s, t) => s + t.balance, 0);
    const taken = -(by.gateway_clearing || 0);
    const held = ORDER.filter((k) => k !== 'gateway_clearing' && by[k] !== undefined);
    const max = Math.max(1, ...totals.map((t) => Math.abs(t.balance)));
    return h('section', { class: 'card', 'aria-labelledby': `lc-${c}` },
      h('h2', { id: `lc-${c}` }, `${c} balances`),
      h('div', { class: 'kpis ledger-kpis' },
        kpi(money(taken, c), 'Held from card charges'),
        kpi(money(by.escrow || 0, c), 'In escrow'),
        kpi(money(by.revenue || 0, c), 'Platform revenue')),
      taken > 0 ? h('div', { class: 'ledger-where' },
        h('h3', `Where the ${money(taken, c)} is`),
        wideBar(splitBar(held.map((k) => ({ label: KIND_LABELS[k], value: by[k], text: money(by[k], c), fill: FILL[k] })),
          { title: `Where the ${money(taken, c)} held from card charges is` }))) : null,
      h('h3', 'Balance per account kind'),
      h('div', { class: 'ledger-bars' }, bars(ORDER.filter((k) => by[k] !== undefined).map((k) => ({
        label: KIND_LABELS[k], value: Math.abs(by[k]), max, text: money(by[k], c), fill: FILL[k] || 1,
      })), { title: `${c} balance per account kind`, labelWidth: 118, valueWidth: 92, width: 320 })),
      h('p', { class: sum === 0 ? 'meta' : 'ledger-unbalanced' }, sum === 0
        ? `The ${c} balances sum to zero, as double entry requires.`
        : `The ${c} balances sum to ${money(sum, c)}, not zero.`),
      h('details', h('summary', 'What each kind means'),
        h('dl', { class: 'facts' }, ORDER.flatMap((k) => [h('dt', KIND_LABELS[k]), h('dd', KIND_HINTS[k])]))));
  }

  function ownerCell(a) {
    if (!a.owner) return h('span', { class: 'meta' }, 'Platform');
    if (a.kind === 'escrow') return h('a', { href: `/contracts/${a.owner}` }, `Contract ${shortId(a.owner)}`);
    if (a.kind === 'payable' || a.kind === 'paid_out') {
      const link = h('a', { href: `/engineers/${a.owner}` }, `Engineer ${shortId(a.owner)}`);
      engineerName(a.owner).then((n) => { if (n !== a.owner) link.textContent = n; });
      return link;
    }
    return h('span', `Client ${shortId(a.owner)}`);
  }

  function accountsCard() {
    const all = data.accounts || [];
    const rows = all.filter((a) => !state.kind || a.kind === state.kind);
    const pick = select('kind', [['', 'Every kind'], ...ORDER.map((k) => [k, KIND_LABELS[k]])], state.kind, { id: 'ledger-kind', class: 'w-m' });
    pick.addEventListener('change', () => {
      state.kind = pick.value;
      history.replaceState(null, '', state.kind ? `/admin/ledger?kind=${state.kind}` : '/admin/ledger');
      const keep = document.activeElement === pick;
      draw();
      if (keep) body.querySelector('#ledger-kind')?.focus();
    });
    return h('section', { class: 'card', 'aria-labelledby': 'la-h' },
      h('h2', { id: 'la-h' }, 'Accounts'),
      h('p', { class: 'meta' }, `The ${all.length} largest by balance${all.length >= 200 ? ' (the first 200)' : ''}.`),
      h('div', { class: 'field' }, h('label', { for: 'ledger-kind' }, 'Show'), pick),
      !rows.length ? h('p', { class: 'meta' }, 'No account of this kind.')
        : stackTable([{ label: 'Account' }, { label: 'Kind' }, { label: 'Owner' }, { label: 'Balance', num: true }],
          rows.map((a) => ({ cells: [h('code', { class: 'ledger-id' }, a.id), KIND_LABELS[a.kind] || a.kind, ownerCell(a), money(a.balance, a.currency)] })),
          { caption: 'Ledger accounts, largest balance first', cls: 'ledger-accounts' }));
  }

  try {
    data = await get('/api/v1/admin/ledger');
  } catch (e) {
    if (!ctx.current) return;
    failed(view, e, () => ctx.navigate(location.pathname + location.search, { replace: true }));
    return;
  }
  if (!ctx.current) return;
  mount(view, pageHead('Ledger', { sub: 'Double-entry balances of every account, verified from the entries.', actions: [again] }), body);
  draw();
  let t = null;
  const soon = () => { clearTimeout(t); t = setTimeout(reload, 600); };
  for (const ty of LIVE) ctx.onCleanup(ctx.live.on(ty, soon));
  ctx.onCleanup(ctx.live.on('resync', soon));
  ctx.onCleanup(() => clearTimeout(t));
}
