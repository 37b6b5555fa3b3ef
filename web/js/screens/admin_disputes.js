// admin_disputes: disputes, open first (GET /api/v1/admin/disputes), and
// one dispute (?id=dsp_...) opened into the split form: the escrowed
// amount, what goes to the engineer (and what they receive after the
// platform fee) and what is refunded to the client, always adding up to
// the escrow (editing one side sets the other), drawn as a split bar; a
// confirm step says what moves where, and the resolve is a money action
// (one Idempotency-Key kept across retries). The contract (names, fee,
// the milestone's escrow) comes from GET /api/v1/contracts/{id}.
import { h, mount } from '../dom.js';
import { ApiError, get, moneyAction, qs } from '../api.js';
import { exactTime, fromMinor, money, toMinor } from '../format.js';
import { splitBar } from '../charts.js';
import { card, chip, clearErrors, confirmDialog, empty, facts, failed, field, loading, pageHead, showErrors, timeAgo, toast } from '../ui.js';
import { feeOf, feePercent, wideBar } from './money_common.js';
import { kpi } from './admin_common.js';

const LIVE = ['admin.dispute_opened', 'dispute.resolved', 'milestone.resolved', 'milestone.disputed'];
const contracts = new Map(); // contract id -> Promise<contract>

function contractOf(id) {
  if (!contracts.has(id)) {
    contracts.set(id, get(`/api/v1/contracts/${encodeURIComponent(id)}`).catch((e) => { contracts.delete(id); throw e; }));
  }
  return contracts.get(id);
}

export default async function render(view, ctx) {
  const id = ctx.query.get('id');
  if (id) return detail(view, ctx, id);
  return list(view, ctx);
}

// ---- the list ---------------------------------------------------------------------------------

async function list(view, ctx) {
  loading(view, 'Loading the disputes');
  const status = ['open', 'resolved', 'all'].includes(ctx.query.get('status')) ? ctx.query.get('status') : 'open';
  const head = pageHead('Disputes', { sub: 'Open disputes first, oldest first: the escrow stays frozen until you split it.' });

  async function load() {
    const [open, resolved] = await Promise.all([
      status === 'resolved' ? Promise.resolve(null) : get(`/api/v1/admin/disputes${qs({ status: 'open', limit: 50 })}`),
      status === 'open' ? Promise.resolve(null) : get(`/api/v1/admin/disputes${qs({ status: 'resolved', limit: 50 })}`),
    ]);
    const items = [
      ...(open?.items || []).filter((d) => d.status === 'open').sort((a, b) => (a.created_at < b.created_at ? -1 : 1)),
      ...(resolved?.items || []).filter((d) => d.status === 'resolved').sort((a, b) => ((a.resolved_at || '') < (b.resolved_at || '') ? 1 : -1)),
    ];
    return { items, more: !!(open?.next_cursor || resolved?.next_cursor) };
  }

  function draw(d) {
    const openN = d.items.filter((x) => x.status === 'open').length;
    mount(view, head,
      h('nav', { class: 'filter-bar row', 'aria-label': 'Which disputes' },
        [['open', 'Open'], ['resolved', 'Resolved'], ['all', 'All']].map(([k, label]) => h('a', {
          href: k === 'open' ? '/admin/disputes' : `/admin/disputes?status=${k}`, 'aria-current': status === k ? 'page' : null,
        }, label))),
      !d.items.length
        ? empty(status === 'resolved' ? 'No resolved disputes yet.' : 'No open disputes.',
          status === 'resolved' ? 'Disputes you split appear here with their outcome.' : 'When a client or an engineer disputes a milestone it appears here at once, and on your home page.')
        : h('section', { class: 'card', 'aria-labelledby': 'dl-h' },
          h('h2', { id: 'dl-h' }, status === 'resolved' ? 'Resolved' : status === 'all' ? `${openN} open, then resolved` : `${openN} open`),
          h('ol', { class: 'list dispute-list' }, d.items.map(item))),
      d.more ? h('p', { class: 'meta' }, 'Only the first 50 of each are shown.') : null);
  }

  /** One dispute of the list: GET /admin/disputes names its milestone, request and both parties. */
  function item(x) {
    const title = x.milestone_title;
    const reqTitle = x.request_title;
    const client = x.client_name;
    const eng = x.engineer_name;
    const opener = x.opened_by === x.client_id ? client : x.opened_by === x.engineer_id ? eng : 'a party';
    const href = `/admin/disputes?id=${encodeURIComponent(x.id)}`;
    return h('li', { class: 'dispute-item', dataset: { dispute: x.id, status: x.status } },
      h('div', { class: 'spread' },
        h('h3', { class: 'item-title' }, h('a', { href }, title), ' ', chip(x.status)),
        h('span', { class: 'num dispute-amount' }, money(x.amount, x.currency))),
      h('p', { class: 'meta' }, reqTitle ? `${reqTitle} · ` : '', `${client} and ${eng} · opened by ${opener} `, timeAgo(x.created_at)),
      h('p', { class: 'dispute-reason' }, h('strong', 'Reason: '), x.reason),
      x.status === 'resolved'
        ? h('p', { class: 'meta' }, `Split: ${money(x.release, x.currency)} to ${eng}, ${money(x.refund, x.currency)} refunded to ${client}; resolved `, timeAgo(x.resolved_at), '.')
        : h('div', { class: 'actions' }, h('a', { class: 'btn btn-primary btn-small', href }, 'Split the escrow', h('span', { class: 'sr-only' }, ` of ${title}`))));
  }

  let data;
  try {
    data = await load();
  } catch (e) {
    if (!ctx.current) return;
    failed(view, e, () => ctx.navigate(location.pathname + location.search, { replace: true }));
    return;
  }
  if (!ctx.current) return;
  draw(data);
  let t = null;
  const again = () => {
    clearTimeout(t);
    t = setTimeout(async () => { try { const d = await load(); if (ctx.current) draw(d); } catch { /* keep what is shown */ } }, 250);
  };
  for (const ty of LIVE) ctx.onCleanup(ctx.live.on(ty, again));
  ctx.onCleanup(ctx.live.on('resync', again));
  ctx.onCleanup(() => clearTimeout(t));
}

// ---- one dispute: the split form --------------------------------------------------------------

async function findDispute(id) {
  return get(`/api/v1/disputes/${encodeURIComponent(id)}`);
}

async function detail(view, ctx, id) {
  loading(view, 'Loading the dispute');
  const act = moneyAction();
  let d;
  let k;
  const back = h('p', h('a', { href: '/admin/disputes' }, '← All open disputes'));
  try {
    contracts.clear(); // the split needs the escrow as it is now, not as the list read it
    d = await findDispute(id);
    k = await contractOf(d.contract_id);
  } catch (e) {
    if (!ctx.current) return;
    if (e.status === 404) {
      mount(view, back, pageHead('Dispute not found'),
        empty('There is no such dispute on this server.', 'It may have been mistyped, or the link is old.', h('a', { href: '/admin/disputes' }, 'See the open disputes')));
      return;
    }
    failed(view, e, () => ctx.navigate(location.pathname + location.search, { replace: true }));
    return;
  }
  if (!ctx.current) return;
  const m = k.milestones.find((x) => x.id === d.milestone_id) || {};
  const c = d.currency || k.currency;
  const title = d.milestone_title || m.title || 'Milestone';
  ctx.title(`Dispute: ${title}`);
  const feeBps = k.fee_bps;
  const escrow = d.status === 'open' ? (m.escrow || d.escrow?.amount || d.amount) : d.amount;
  const opener = d.opened_by === k.client_id ? `${k.client_name} (client)` : d.opened_by === k.engineer_id ? `${k.engineer_name} (engineer)` : 'a party';

  const about = card('What is disputed',
    facts([
      ['Contract', h('a', { href: `/contracts/${k.id}` }, k.request_title)],
      ['Milestone', title],
      ['Client', k.client_name],
      ['Engineer', k.engineer_name],
      ['Opened by', [opener, ' ', timeAgo(d.created_at)]],
      ['Escrowed', h('strong', money(escrow, c))],
      ['Platform fee', `${feePercent(feeBps)} of what is released`],
    ]),
    h('div', { class: 'dispute-reason-box' }, h('h3', 'Reason given'), h('p', { class: 'dispute-reason' }, d.reason)),
    m.note ? h('div', { class: 'delivery' }, h('p', h('strong', 'Delivery note: '), m.note)) : null);

  const heading = pageHead(`Dispute over “${title}”`, { state: d.status, sub: [`${k.client_name} and ${k.engineer_name} · ${money(escrow, c)} in escrow`] });

  if (d.status !== 'open') {
    mount(view, back, heading, outcome(d, k, c), about);
    return;
  }

  // the split: cents are the truth; the two inputs always add up to the escrow
  let release = Math.floor(escrow / 2);
  const releaseIn = h('input', { name: 'release', inputmode: 'decimal', class: 'w-s', autocomplete: 'off', value: fromMinor(release, c) });
  const refundIn = h('input', { name: 'refund', inputmode: 'decimal', class: 'w-s', autocomplete: 'off', value: fromMinor(escrow - release, c) });
  const slider = h('input', { type: 'range', name: 'share', min: 0, max: 100, step: 1, value: 50, class: 'split-range' });
  const sums = h('div', { class: 'split-sums', 'aria-live': 'polite' });
  const picture = h('div', { class: 'split-picture' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Resolve with this split');

  function paint() {
    const refund = escrow - release;
    const fee = feeOf(release, feeBps);
    slider.value = String(Math.round((release / escrow) * 100));
    slider.setAttribute('aria-valuetext', `${money(release, c)} to the engineer, ${money(refund, c)} to the client`);
    mount(sums,
      h('p', { class: 'split-equation' },
        h('span', { class: 'split-total' }, `Escrow ${money(escrow, c)}`), ' = ',
        h('span', { class: 'split-release' }, `${money(release, c)} to ${k.engineer_name}`), ' + ',
        h('span', { class: 'split-refund' }, `${money(refund, c)} to ${k.client_name}`)),
      h('p', { class: 'meta' }, release
        ? `${k.engineer_name} receives ${money(release - fee, c)} after the ${feePercent(feeBps)} platform fee (${money(fee, c)}); ${refund ? `${money(refund, c)} goes back to ${k.client_name}'s card.` : 'nothing is refunded.'}`
        : `Nothing is released; all ${money(refund, c)} goes back to ${k.client_name}'s card.`));
    mount(picture, wideBar(splitBar([
      { label: `${k.engineer_name} receives`, value: release - fee, text: money(release - fee, c), fill: 2 },
      { label: 'Platform fee', value: fee, text: money(fee, c), fill: 1 },
      { label: `Refunded to ${k.client_name}`, value: refund, text: money(refund, c), fill: 3 },
    ], { title: `How the ${money(escrow, c)} in escrow is split` })));
  }

  function setRelease(v) {
    release = Math.max(0, Math.min(escrow, v));
    paint();
  }

  /** While typing: a message beside the field only (no summary, the focus stays); the summary comes on submit. */
  function inline(input, msg) {
    const f = input.closest('.field');
    f.querySelector('.field-error')?.remove();
    f.classList.toggle('has-error', !!msg);
    if (!msg) { input.removeAttribute('aria-invalid'); return; }
    input.setAttribute('aria-invalid', 'true');
    f.querySelector('label').after(h('p', { class: 'field-error', role: 'alert' }, h('span', { class: 'sr-only' }, 'Error: '), msg));
  }

  function typed(input, other, isRelease) {
    form.querySelector('.error-summary')?.remove();
    inline(other, null);
    const v = toMinor(input.value, c);
    if (v === null || v > escrow) {
      inline(input, v === null ? 'Enter an amount such as 250.00' : `At most the ${money(escrow, c)} in escrow`);
      submit.disabled = true;
      return;
    }
    inline(input, null);
    submit.disabled = false;
    setRelease(isRelease ? v : escrow - v);
    other.value = fromMinor(isRelease ? escrow - release : release, c);
  }
  releaseIn.addEventListener('input', () => typed(releaseIn, refundIn, true));
  refundIn.addEventListener('input', () => typed(refundIn, releaseIn, false));
  slider.addEventListener('input', () => {
    clearErrors(form);
    submit.disabled = false;
    setRelease(Math.round((escrow * Number(slider.value)) / 100));
    releaseIn.value = fromMinor(release, c);
    refundIn.value = fromMinor(escrow - release, c);
  });
  const preset = (label, r) => h('button', { type: 'button', class: 'btn btn-small', onClick: () => {
    clearErrors(form);
    submit.disabled = false;
    setRelease(r);
    releaseIn.value = fromMinor(release, c);
    refundIn.value = fromMinor(escrow - release, c);
  } }, label);

  const sym = money(0, c).replace(/[\d.,\s]/g, '') || c;
  const form = h('form', { class: 'card split-form', novalidate: true, 'aria-labelledby': 'split-h' },
    h('h2', { id: 'split-h' }, 'Split the escrow'),
    h('p', { class: 'meta' }, `Whatever you release goes to ${k.engineer_name}, less the fee; the rest is refunded to ${k.client_name}. The two always add up to ${money(escrow, c)}.`),
    h('div', { class: 'actions split-presets', role: 'group', 'aria-label': 'Quick splits' },
      preset(`All to ${k.engineer_name}`, escrow), preset('Half each', Math.floor(escrow / 2)), preset(`All back to ${k.client_name}`, 0)),
    h('div', { class: 'field' },
      h('label', { for: 'split-share' }, 'Share released to the engineer'),
      Object.assign(slider, { id: 'split-share' }),
      h('div', { class: 'spread meta', 'aria-hidden': 'true' }, h('span', `All to ${k.client_name}`), h('span', `All to ${k.engineer_name}`))),
    h('div', { class: 'form-row' },
      field({ label: `To ${k.engineer_name} (released, ${sym})`, name: 'release', input: releaseIn, required: true, hint: `Before the ${feePercent(feeBps)} fee` }),
      field({ label: `To ${k.client_name} (refunded, ${sym})`, name: 'refund', input: refundIn, required: true, hint: 'Back to the card that funded it' })),
    sums, picture,
    h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const r = toMinor(releaseIn.value, c);
    const f = toMinor(refundIn.value, c);
    if (r === null || f === null || r + f !== escrow) {
      showErrors(form, new ApiError(422, { errors: [{ field: 'release', message: `and the refund must add up to ${money(escrow, c)}` }] }));
      return;
    }
    if (r === 0 && f === 0) return;
    const fee = feeOf(r, feeBps);
    const ok = await confirmDialog({
      title: 'Resolve this dispute?',
      body: [
        h('p', `Of the ${money(escrow, c)} in escrow for “${title}”:`),
        h('ul', { class: 'confirm-moves' },
          h('li', `${money(r, c)} is released to ${k.engineer_name}, who receives ${money(r - fee, c)} after the ${money(fee, c)} fee;`),
          h('li', `${money(f, c)} is refunded to ${k.client_name}'s card.`)),
        h('p', { class: 'meta' }, 'Both parties are told at once. This cannot be undone.')],
      confirm: `Resolve: ${money(r, c)} / ${money(f, c)}`,
    });
    if (!ok) return;
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    submit.textContent = 'Resolving…';
    try {
      const out = await act.run('POST', `/api/v1/disputes/${encodeURIComponent(d.id)}/resolve`, { release: r, refund: f });
      contracts.delete(k.id);
      toast(`Resolved: ${money(r, c)} to ${k.engineer_name}, ${money(f, c)} back to ${k.client_name}.`, 'good');
      d = { ...d, ...(out || {}), status: 'resolved', release: out?.release ?? r, refund: out?.refund ?? f };
      mount(view, back, pageHead(`Dispute over “${title}”`, { state: 'resolved', sub: [`${k.client_name} and ${k.engineer_name}`] }), outcome(d, k, c), about);
      window.scrollTo(0, 0);
      view.querySelector('.outcome')?.focus({ preventScroll: true });
    } catch (e) {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
      submit.textContent = 'Resolve with this split';
      if (e.status === 409 && e.body?.state === 'resolved') {
        contracts.delete(k.id);
        toast('Someone resolved this dispute already.', 'info');
        ctx.navigate(location.pathname + location.search, { replace: true });
        return;
      }
      const err = e.transient ? new ApiError(e.status, { ...e.body, detail: `${e.detail} Press Resolve again: the retry is the same request, so nothing moves twice.` }) : e;
      showErrors(form, err);
    }
  });

  mount(view, back, heading, h('div', { class: 'cols' }, h('div', { class: 'stack' }, form), h('div', { class: 'stack' }, about)));
  paint();

  // someone else resolving it meanwhile: say so and show the outcome
  const onResolved = (data) => {
    const did = data?.dispute?.id || data?.dispute_id || data?.id;
    if (did && did !== d.id) return;
    if (!data || (data.milestone_id && data.milestone_id !== d.milestone_id && !did)) return;
    findDispute(d.id).then((fresh) => {
      if (!ctx.current || fresh.status !== 'resolved' || submit.getAttribute('aria-busy')) return;
      d = fresh;
      contracts.delete(k.id);
      mount(view, back, pageHead(`Dispute over “${title}”`, { state: 'resolved' }), outcome(d, k, c), about);
    }).catch(() => {});
  };
  ctx.onCleanup(ctx.live.on('dispute.resolved', onResolved));
  ctx.onCleanup(ctx.live.on('milestone.resolved', onResolved));
}

function outcome(d, k, c) {
  const fee = feeOf(d.release || 0, k.fee_bps);
  return h('section', { class: 'card outcome', tabindex: '-1', 'aria-labelledby': 'out-h' },
    h('h2', { id: 'out-h' }, 'Outcome ', chip('resolved')),
    h('div', { class: 'kpis' },
      kpi(money(d.release, c), `Released to ${k.engineer_name}`),
      kpi(money(d.refund, c), `Refunded to ${k.client_name}`),
      kpi(money((d.release || 0) + (d.refund || 0), c), 'Escrow split')),
    wideBar(splitBar([
      { label: `${k.engineer_name} received`, value: (d.release || 0) - fee, text: money((d.release || 0) - fee, c), fill: 2 },
      { label: 'Platform fee', value: fee, text: money(fee, c), fill: 1 },
      { label: `Refunded to ${k.client_name}`, value: d.refund || 0, text: money(d.refund || 0, c), fill: 3 },
    ], { title: 'How the escrow was split' })),
    h('p', { class: 'meta' }, 'Resolved ', d.resolved_at ? [timeAgo(d.resolved_at), ` (${exactTime(d.resolved_at)})`] : 'just now',
      '. Both parties see this on ', h('a', { href: `/contracts/${k.id}` }, 'the contract page'), '.'),
    h('p', h('a', { href: '/admin/disputes' }, 'Back to the open disputes')));
}

