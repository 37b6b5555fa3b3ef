// admin_common: what the admin screens share: KPI tiles, counts of a
// page of results ("100+" when more follow), the countdown ring styled as
// a chart, names for ledger account kinds and SLA widening steps, engineer
// names looked up once per page, a notice for an API route this server
// does not have yet, and a table that stacks its cells on a phone.
import { h } from '../dom.js';
import { get } from '../api.js';

/** A KPI tile; `href` makes its value a link, `tone` colours it (good|warn|bad). */
export function kpi(value, label, { href, tone } = {}) {
  const v = href ? h('a', { href }, value) : value;
  return h('div', { class: ['kpi', tone ? `kpi-${tone}` : null] },
    h('div', { class: 'kpi-value' }, v), h('div', { class: 'kpi-label' }, label));
}

/** The number of items on a page of results, "100+" when the server says more follow. */
export function countText(pageData) {
  const n = (pageData?.items || []).length;
  return `${n}${pageData?.next_cursor ? '+' : ''}`;
}

export const KIND_LABELS = {
  gateway_clearing: 'Gateway clearing',
  client_funding: 'Client funding',
  escrow: 'Escrow',
  payable: 'Payable to engineers',
  paid_out: 'Paid out',
  revenue: 'Platform revenue',
};

export const KIND_HINTS = {
  gateway_clearing: 'What card charges brought in, less refunds sent back (negative while the platform holds it)',
  client_funding: 'Refunds held for a client until they reach the card',
  escrow: 'Funded milestones waiting for approval or a dispute',
  payable: 'Released to engineers, not yet paid out',
  paid_out: 'Sent to engineers\' payout accounts',
  revenue: 'Platform fees kept from releases',
};

export const RELAXED = {
  nice_to_have: 'Dropped the nice-to-have skills',
  seniority: 'Seniority widened by one level',
  overlap: 'Minimum overlap no longer required',
};

const names = new Map(); // engineer id -> Promise<name>
/** An engineer's name (admins may read every profile); the id when it cannot be read. */
export function engineerName(id) {
  if (!id) return Promise.resolve('—');
  if (!names.has(id)) {
    names.set(id, get(`/api/v1/engineers/${encodeURIComponent(id)}`)
      .then((d) => d.engineer?.name || id)
      .catch(() => { names.delete(id); return id; }));
  }
  return names.get(id);
}

/**
 * A table whose cells carry their column's name (data-label), so that on
 * a phone each row stacks as a small card (see .admin-table in app.css).
 * cols = [{label, num?, cls?}], rows = [{cells: [...], id?, cls?}].
 */
export function stackTable(cols, rows, { caption, cls } = {}) {
  return h('div', { class: 'table-wrap' }, h('table', { class: ['admin-table', cls] },
    caption ? h('caption', { class: 'sr-only' }, caption) : null,
    h('thead', h('tr', cols.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', rows.map((r) => h('tr', { id: r.id || null, class: r.cls || null },
      r.cells.map((cell, i) => h('td', { class: [cols[i].num ? 'num' : null, cols[i].cls], dataset: { label: cols[i].label } }, h('div', { class: 'cell' }, cell))))))));
}

/** The last few characters of an opaque id, for people to tell rows apart. */
export function shortId(id) {
  return id ? `…${String(id).slice(-6)}` : '—';
}
