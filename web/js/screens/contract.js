// contract: one contract for its client, its engineer and admins: the
// state, the parties, the money as a picture (released, in escrow,
// refunded, not yet funded), each milestone (or hourly week) with its state
// and the ONE next action for the viewer, the receipts (every charge and
// refund, refunds linked to the charge they refund), disputes and their
// outcome, reviews after the end, and a timeline of what happened.
//
// Money actions (fund, approve, approve a timesheet) go through
// moneyAction(), one per milestone and action, kept across re-renders, so
// a retry after a lost answer reuses its Idempotency-Key. Live events for
// this contract re-read it; open forms keep what was typed (drafts), their
// errors and the focus across those re-renders.
import { h, mount } from '../dom.js';
import { ApiError, get, moneyAction, post } from '../api.js';
import { date, exactTime, money, stateLabel } from '../format.js';
import { splitBar } from '../charts.js';
import { busy, card, chip, confirmDialog, empty, facts, failed, field, link, onSubmit, pageHead, showErrors, timeAgo, timeExact, toast } from '../ui.js';
import { TEST_CARDS, contractMoney, daysUntil, dueWords, feeOf, feePercent, moneyParts, today, wideBar } from './money_common.js';

const LIVE = ['contract.offered', 'contract.accepted', 'contract.declined', 'contract.ended',
  'milestone.funded', 'milestone.submitted', 'milestone.released', 'milestone.changes_requested',
  'milestone.disputed', 'milestone.resolved', 'dispute.resolved', 'timesheet.submitted', 'timesheet.approved',
  'review.written', 'reviews.published', 'refund.succeeded', 'refund.failed'];
const SUBMIT_AUTO_RELEASE_S = 14 * 86400;
const TIMESHEET_AUTO_RELEASE_S = 5 * 86400;

export default async function render(view, ctx) {
  const id = ctx.params.id;
  const me = ctx.me;
  const ui = {
    open: new Set(), // panel keys that are open
    drafts: new Map(), // `${panel}:${name}` -> value
    errors: new Map(), // panel -> ApiError shown on its form
    acts: new Map(), // `${action}:${id}` -> moneyAction, kept while retrying
    pageError: null,
  };
  let data = null;
  let loadSeq = 0;

  const act = (key) => {
    if (!ui.acts.has(key)) ui.acts.set(key, moneyAction());
    return ui.acts.get(key);
  };

  async function load() {
    const seq = ++loadSeq;
    const k = await get(`/api/v1/contracts/${encodeURIComponent(id)}`);
    const hourly = k.type === 'hourly';
    const disputeIds = [...new Set(k.milestones.map((m) => m.dispute_id).filter(Boolean))];
    const [pay, ts, rv, ...ds] = await Promise.allSettled([
      get(`/api/v1/contracts/${id}/payments`),
      hourly ? get(`/api/v1/contracts/${id}/timesheets`) : Promise.resolve({ items: [] }),
      k.status === 'ended' ? get(`/api/v1/contracts/${id}/reviews`) : Promise.resolve(null),
      ...disputeIds.map((d) => get(`/api/v1/disputes/${d}`)),
    ]);
    if (seq !== loadSeq) return null;
    return {
      k,
      payments: pay.status === 'fulfilled' ? pay.value.items || [] : null,
      paymentsError: pay.status === 'rejected' ? pay.reason : null,
      timesheets: ts.status === 'fulfilled' ? ts.value.items || [] : null,
      reviews: rv.status === 'fulfilled' ? rv.value : null,
      disputes: new Map(ds.filter((d) => d.status === 'fulfilled').map((d) => [d.value.id, d.value])),
    };
  }

  let reloadTimer = null;
  async function reload() {
    try {
      const d = await load();
      if (!d || !ctx.current) return;
      data = d;
      draw();
    } catch (e) {
      if (ctx.current) toast(`Could not refresh the contract: ${e.detail || e.message}`, 'bad');
    }
  }
  const reloadSoon = () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(reload, 150);
  };

  try {
    data = await load();
  } catch (e) {
    if (!ctx.current) return;
    if (e.status === 404) {
      mount(view, pageHead('Contract not found'), empty('There is no such contract, or it is not yours.',
        'Your contracts are listed on the contracts page.', link('/contracts', 'See your contracts')));
      return;
    }
    failed(view, e, () => ctx.navigate(location.pathname, { replace: true }));
    return;
  }
  if (!ctx.current || !data) return;

  for (const t of LIVE) {
    ctx.onCleanup(ctx.live.on(t, (d) => { if (!d || !d.contract_id || d.contract_id === id) reloadSoon(); }));
  }
  ctx.onCleanup(ctx.live.on('resync', reloadSoon));
  ctx.onCleanup(() => clearTimeout(reloadTimer));

  // ---- drawing ---------------------------------------------------------------------------------

  function draw() {
    const active = document.activeElement;
    const keep = active && view.contains(active) && active.dataset && active.dataset.k
      ? { k: active.dataset.k, start: active.selectionStart, end: active.selectionEnd } : null;
    const { k } = data;
    ctx.title(`${k.request_title} · contract`);
    const role = me.id === k.client_id ? 'client' : me.id === k.engineer_id ? 'engineer' : 'admin';
    const other = role === 'client' ? k.engineer_name : k.client_name;
    const mny = contractMoney(k, data.payments);
    const actions = [];
    if (k.status === 'active' && role !== 'admin') {
      actions.push(h('button', { type: 'button', class: 'btn', dataset: { k: 'end' }, onClick: (ev) => endContract(ev.currentTarget, mny) }, 'End contract'));
    }
    mount(view,
      pageHead(k.request_title, {
        state: k.status,
        sub: [k.type === 'hourly' ? 'Hourly' : 'Fixed price', ' · client ', k.client_name, ' · engineer ', k.engineer_name,
          ' · offered ', timeAgo(k.created_at)],
        actions: actions.length ? actions : null,
      }),
      ui.pageError ? h('div', { class: 'notice notice-bad', role: 'alert' }, h('p', ui.pageError)) : null,
      headline(k, role, other, mny),
      h('div', { class: 'cols' },
        h('div', { class: 'stack' },
          moneyCard(k, role, mny),
          milestonesCard(k, role, mny),
          data.disputes.size ? disputesCard(k, role) : null,
          k.status === 'ended' ? reviewsCard(k, role, other) : null,
          receiptsCard(k)),
        h('div', { class: 'stack' }, partiesCard(k, role), timelineCard(k))));
    if (keep) {
      const el = view.querySelector(`[data-k="${CSS.escape(keep.k)}"]`);
      if (el) {
        el.focus({ preventScroll: true });
        try { if (keep.start !== null && keep.start !== undefined) el.setSelectionRange(keep.start, keep.end); } catch { /* not a text field */ }
      }
    }
  }

  /** The one thing the viewer should know or do first. */
  function headline(k, role, other, mny) {
    if (k.status === 'offered' && role === 'engineer') {
      const total = k.type === 'hourly'
        ? `${money(k.hourly_rate, k.currency)} an hour, up to ${k.weekly_cap_hours} h a week (${money(k.hourly_rate * k.weekly_cap_hours, k.currency)} a week at the cap)`
        : `${money(k.milestones.reduce((s, m) => s + m.amount, 0), k.currency)} in ${k.milestones.length} milestone${k.milestones.length === 1 ? '' : 's'}`;
      return h('section', { class: 'card offer-answer', 'aria-labelledby': 'offer-h' },
        h('h2', { id: 'offer-h' }, `${k.client_name} offers you this contract`),
        h('p', total, `. The platform keeps ${feePercent(k.fee_bps)} of each release; you receive the rest. Work starts once the client funds a milestone into escrow.`),
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'btn btn-primary', dataset: { k: 'accept' }, onClick: (ev) => answer(ev.currentTarget, 'accept') }, 'Accept the offer'),
          h('button', { type: 'button', class: 'btn', dataset: { k: 'decline' }, onClick: (ev) => answer(ev.currentTarget, 'decline') }, 'Decline')));
    }
    const n = nextFor(k, role);
    if (!n) return null;
    return h('div', { class: `notice notice-${n.tone || 'info'}` }, h('p', n.text));
  }

  function nextFor(k, role) {
    if (k.status === 'offered') return role === 'client' ? { text: `Waiting for ${k.engineer_name} to accept or decline your offer.` } : null;
    if (k.status === 'declined') return { text: `${k.engineer_name} declined this offer. Nothing was charged.`, tone: 'warn' };
    if (k.status === 'withdrawn') return { text: 'This offer was withdrawn.', tone: 'warn' };
    if (k.status === 'ended') return { text: `This contract ended ${exactTime(k.ended_at)}.${role !== 'admin' ? ' Reviews are open for 14 days after the end.' : ''}` };
    const count = (st) => k.milestones.filter((m) => m.status === st).length;
    const what = k.type === 'hourly' ? ['week', 'weeks'] : ['milestone', 'milestones'];
    const word = (n) => (n === 1 ? what[0] : what[1]);
    if (role === 'client') {
      if (count('submitted')) return { text: `${count('submitted')} ${word(count('submitted'))} to review: approve to release the money, or ask for changes.`, tone: 'warn' };
      if (count('pending')) return { text: `Fund the next ${what[0]} so ${k.engineer_name} can start: the money waits in escrow until you approve.` };
    }
    if (role === 'engineer') {
      const todo = k.milestones.filter((m) => m.status === 'funded');
      if (todo.length) return { text: `${todo.length} ${word(todo.length)} funded and ready for you to deliver.`, tone: 'good' };
      if (count('pending')) return { text: `Waiting for ${k.client_name} to fund the next ${what[0]}. Start work once it is funded.` };
    }
    if (count('disputed')) return { text: 'A dispute is open: the money stays in escrow until an admin decides.', tone: 'warn' };
    return null;
  }

  function moneyCard(k, role, mny) {
    const c = k.currency;
    const totalTxt = k.type === 'hourly'
      ? `${money(k.hourly_rate, c)} an hour × up to ${k.weekly_cap_hours} h a week`
      : money(k.milestones.reduce((s, m) => s + m.amount, 0), c);
    return card('Money',
      h('div', { class: 'kpis money-kpis' },
        kpi(money(mny.released, c), 'Released'),
        kpi(money(mny.escrow, c), 'In escrow'),
        kpi(money(mny.refunded, c), 'Refunded'),
        kpi(money(mny.unfunded, c), k.type === 'hourly' ? 'Next week, not funded' : 'Not yet funded')),
      wideBar(splitBar(moneyParts(mny, c), { title: 'Where this contract\'s money is' })),
      moneyFacts([
        [k.type === 'hourly' ? 'Rate' : 'Contract total', totalTxt],
        ['Platform fee', `${feePercent(k.fee_bps)} of each release, fixed when the offer was made`],
        mny.released ? [role === 'engineer' ? 'You received' : `${k.engineer_name} received`,
          `${money(mny.net, c)} (${money(mny.released, c)} released − ${money(mny.fee, c)} fee)`] : null,
      ]),
      data.paymentsError ? h('p', { class: 'meta' }, 'Receipts could not be read, so the picture comes from the milestone states.') : null);
  }

  function moneyFacts(pairs) {
    const f = facts(pairs);
    f.classList.add('money-facts');
    return f;
  }

  function kpi(value, label) {
    return h('div', { class: 'kpi' }, h('div', { class: 'kpi-value' }, value), h('div', { class: 'kpi-label' }, label));
  }

  function partiesCard(k, role) {
    return card('Contract',
      facts([
        ['Client', k.client_name + (role === 'client' ? ' (you)' : '')],
        ['Engineer', k.engineer_name + (role === 'engineer' ? ' (you)' : '')],
        ['Type', k.type === 'hourly' ? `Hourly, up to ${k.weekly_cap_hours} h a week` : `Fixed price, ${k.milestones.length} milestone${k.milestones.length === 1 ? '' : 's'}`],
        ['Currency', k.currency],
        ['Request', role === 'engineer' ? k.request_title : link(`/requests/${k.request_id}`, k.request_title)],
        ['Offered', timeExact(k.created_at)],
        k.accepted_at ? ['Accepted', timeExact(k.accepted_at)] : null,
        k.ended_at ? ['Ended', timeExact(k.ended_at)] : null,
      ]),
      h('p', link('/messages', role === 'admin' ? 'Conversations' : 'Message about this contract')));
  }

  // ---- milestones ------------------------------------------------------------------------------

  function milestonesCard(k, role, mny) {
    const hourly = k.type === 'hourly';
    const items = [...k.milestones].sort((a, b) => a.position - b.position);
    return h('section', { class: 'card', 'aria-labelledby': 'ms-h' },
      h('h2', { id: 'ms-h' }, hourly ? 'Weeks' : 'Milestones'),
      hourly ? h('p', { class: 'meta' }, `Each week is funded at the cap (${money(k.hourly_rate * k.weekly_cap_hours, k.currency)}); the approved hours go to the engineer and the rest is refunded.`) : null,
      h('ol', { class: 'list milestones' }, items.map((m) => milestoneItem(k, m, role, mny))));
  }

  function timesheetOf(m) {
    return (data.timesheets || []).filter((t) => t.milestone_id === m.id).sort((a, b) => (a.submitted_at < b.submitted_at ? 1 : -1))[0];
  }

  function milestoneItem(k, m, role, mny) {
    const c = k.currency;
    const hourly = k.type === 'hourly';
    const ts = hourly ? timesheetOf(m) : null;
    const b = mny.byMilestone.get(m.id);
    const bits = [];
    if (!hourly && m.due) bits.push(h('span', `Due ${date(m.due)}`, ['released', 'refunded', 'resolved'].includes(m.status) ? null : ` (${dueWords(m.due)})`));
    if (hourly && m.week_start) bits.push(h('span', `Week from Monday ${date(m.week_start)}`));
    if (m.funded_at) bits.push(h('span', 'funded ', timeAgo(m.funded_at)));
    if (m.submitted_at) bits.push(h('span', 'submitted ', timeAgo(m.submitted_at)));
    if (m.settled_at) bits.push(h('span', `${stateLabel(m.status).toLowerCase()} `, timeAgo(m.settled_at)));
    const sep = (arr) => arr.flatMap((x, i) => (i ? [' · ', x] : [x]));
    return h('li', { class: 'milestone', id: m.id, dataset: { status: m.status } },
      h('div', { class: 'spread' },
        h('h3', { class: 'item-title' }, m.title, ' ', m.status === 'pending' ? chip('pending', 'Not funded') : chip(m.status)),
        h('span', { class: 'num milestone-amount' }, money(m.amount, c), hourly ? h('span', { class: 'meta' }, ' cap') : null)),
      h('p', { class: 'meta' }, sep(bits)),
      m.status === 'funded' && m.changes_note ? h('div', { class: 'notice notice-warn' }, h('p', h('strong', 'Changes requested: '), m.changes_note)) : null,
      m.note && !hourly ? h('div', { class: 'delivery' },
        h('p', h('strong', 'Delivery note: '), m.note),
        m.links && m.links.length ? h('ul', { class: 'links' }, m.links.map((u) => h('li', h('a', { href: u, rel: 'noopener noreferrer nofollow', target: '_blank' }, u)))) : null) : null,
      ts ? timesheetBox(k, ts) : null,
      b && b.released && ['released', 'resolved'].includes(m.status)
        ? h('p', { class: 'meta' }, `${money(b.released, c)} released; ${role === 'engineer' ? 'you' : k.engineer_name} received ${money(b.released - feeOf(b.released, k.fee_bps), c)} after the ${money(feeOf(b.released, k.fee_bps), c)} fee.`) : null,
      m.dispute_id ? h('p', { class: 'meta' }, 'Dispute: ', h('a', { href: `#${m.dispute_id}` }, data.disputes.get(m.dispute_id) ? stateLabel(data.disputes.get(m.dispute_id).status) : 'see below')) : null,
      nextAction(k, m, role, ts));
  }

  function timesheetBox(k, t) {
    return h('div', { class: 'timesheet' },
      h('p', h('strong', 'Timesheet: '), `${t.hours} h × ${money(k.hourly_rate, k.currency)} = ${money(t.amount, k.currency)} `, chip(t.status),
        h('span', { class: 'meta' }, ' submitted ', timeAgo(t.submitted_at), t.approved_at ? [', approved ', timeAgo(t.approved_at)] : null)),
      h('p', { class: 'ts-note' }, t.note));
  }

  function nextAction(k, m, role, ts) {
    if (k.status !== 'active') return null;
    const c = k.currency;
    const hourly = k.type === 'hourly';
    const box = (...kids) => h('div', { class: 'next-action' }, ...kids);
    const wait = (text) => box(h('p', { class: 'meta waiting' }, text));
    const fee = feeOf(m.amount, k.fee_bps);
    if (role === 'admin') {
      return m.status === 'disputed' ? box(link('/admin/disputes', 'Resolve this dispute in the disputes queue')) : null;
    }
    const disputeBtn = () => toggleBtn(`dispute:${m.id}`, 'Open a dispute', 'btn btn-link');
    if (role === 'client') {
      if (m.status === 'pending') {
        return box(panelButtons([toggleBtn(`fund:${m.id}`, `Fund ${money(m.amount, c)}`, 'btn btn-primary')]),
          panel(`fund:${m.id}`, () => fundForm(k, m)));
      }
      if (m.status === 'funding') return wait('The card is being charged…');
      if (m.status === 'funded') {
        return box(h('p', { class: 'meta waiting' }, hourly
          ? `In escrow. Waiting for ${k.engineer_name}'s timesheet for this week.`
          : `In escrow. Waiting for ${k.engineer_name} to deliver.`),
        panelButtons([disputeBtn()]), panel(`dispute:${m.id}`, () => disputeForm(k, m)));
      }
      if (m.status === 'submitted') {
        if (hourly) {
          if (!ts || ts.status !== 'submitted') return wait('Submitted; the timesheet is loading.');
          const auto = new Date(new Date(ts.submitted_at).getTime() + TIMESHEET_AUTO_RELEASE_S * 1000).toISOString();
          return box(
            h('p', { class: 'meta' }, 'Approved by itself ', timeAgo(auto), ' if you do nothing.'),
            panelButtons([
              h('button', { type: 'button', class: 'btn btn-primary', dataset: { k: `approve-ts:${ts.id}` }, onClick: (ev) => approveTimesheet(ev.currentTarget, k, m, ts) },
                `Approve ${ts.hours} h (${money(ts.amount, c)})`),
              disputeBtn()]),
            panel(`dispute:${m.id}`, () => disputeForm(k, m)));
        }
        const auto = new Date(new Date(m.submitted_at).getTime() + SUBMIT_AUTO_RELEASE_S * 1000).toISOString();
        return box(
          h('p', { class: 'meta' }, 'Released by itself ', timeAgo(auto), ' if you do nothing.'),
          panelButtons([
            h('button', { type: 'button', class: 'btn btn-primary', dataset: { k: `approve:${m.id}` }, onClick: (ev) => approve(ev.currentTarget, k, m) },
              `Approve and release ${money(m.escrow || m.amount, c)}`),
            toggleBtn(`changes:${m.id}`, 'Request changes', 'btn'),
            disputeBtn()]),
          panel(`changes:${m.id}`, () => changesForm(m)),
          panel(`dispute:${m.id}`, () => disputeForm(k, m)));
      }
      if (m.status === 'disputed') return wait('Disputed: the money stays in escrow until an admin decides.');
      return null;
    }
    // engineer
    if (m.status === 'pending') return wait(`Not funded yet: wait for ${k.client_name} to fund it before you start.`);
    if (m.status === 'funding') return wait('The client\'s card is being charged…');
    if (m.status === 'funded') {
      if (hourly) {
        const from = m.week_start;
        if (from && daysUntil(from) > 0) {
          return box(h('p', { class: 'meta waiting' }, `Funded. You can submit this week's timesheet from Monday ${date(from)}.`),
            panelButtons([disputeBtn()]), panel(`dispute:${m.id}`, () => disputeForm(k, m)));
        }
        return box(panelButtons([toggleBtn(`timesheet:${m.id}`, 'Submit the timesheet', 'btn btn-primary'), disputeBtn()]),
          panel(`timesheet:${m.id}`, () => timesheetForm(k, m)),
          panel(`dispute:${m.id}`, () => disputeForm(k, m)));
      }
      return box(
        h('p', { class: 'meta' }, `${money(m.escrow || m.amount, c)} is in escrow. You receive ${money(m.amount - fee, c)} after the ${feePercent(k.fee_bps)} fee when ${k.client_name} approves.`),
        panelButtons([toggleBtn(`submit:${m.id}`, m.changes_note ? 'Submit the changes' : 'Submit the work', 'btn btn-primary'), disputeBtn()]),
        panel(`submit:${m.id}`, () => submitForm(k, m)),
        panel(`dispute:${m.id}`, () => disputeForm(k, m)));
    }
    if (m.status === 'submitted') {
      const auto = new Date(new Date(m.submitted_at).getTime() + (hourly ? TIMESHEET_AUTO_RELEASE_S : SUBMIT_AUTO_RELEASE_S) * 1000).toISOString();
      return box(h('p', { class: 'meta waiting' }, `Waiting for ${k.client_name} to review. Released to you by itself `, timeAgo(auto), ' if they do nothing.'),
        panelButtons([disputeBtn()]), panel(`dispute:${m.id}`, () => disputeForm(k, m)));
    }
    if (m.status === 'disputed') return wait('Disputed: the money stays in escrow until an admin decides.');
    return null;
  }

  function panelButtons(btns) {
    return h('div', { class: 'actions' }, btns.filter(Boolean));
  }

  function toggleBtn(key, label, cls) {
    const open = ui.open.has(key);
    if (open) return null; // the open panel has its own submit and Cancel
    return h('button', { type: 'button', class: cls, 'aria-expanded': open ? 'true' : 'false', 'aria-controls': `p-${key.replace(/[^a-z0-9]/gi, '-')}`,
      dataset: { k: `t:${key}` },
      onClick: () => {
        if (ui.open.has(key)) { ui.open.delete(key); ui.errors.delete(key); } else ui.open.add(key);
        draw();
        if (ui.open.has(key)) view.querySelector(`#p-${CSS.escape(key.replace(/[^a-z0-9]/gi, '-'))} input, #p-${CSS.escape(key.replace(/[^a-z0-9]/gi, '-'))} textarea`)?.focus();
      } }, label);
  }

  /** An open panel's form: drafts restored and saved, its last error shown again. */
  function panel(key, build) {
    if (!ui.open.has(key)) return null;
    const form = build();
    form.id = `p-${key.replace(/[^a-z0-9]/gi, '-')}`;
    form.classList.add('panel');
    form.querySelectorAll('input, textarea, select').forEach((el) => {
      const dk = `${key}:${el.name}`;
      el.dataset.k = el.type === 'radio' ? `${dk}:${el.value}` : dk;
      if (ui.drafts.has(dk)) {
        if (el.type === 'radio') el.checked = ui.drafts.get(dk) === el.value;
        else el.value = ui.drafts.get(dk);
      }
    });
    form.querySelectorAll('button[type=submit]').forEach((b) => { b.dataset.k = `${key}:submit`; });
    const save = (ev) => {
      const el = ev.target;
      if (!el.name) return;
      if (el.type === 'radio') { if (el.checked) ui.drafts.set(`${key}:${el.name}`, el.value); } else ui.drafts.set(`${key}:${el.name}`, el.value);
    };
    form.addEventListener('input', save);
    form.addEventListener('change', save);
    const cancel = h('button', { type: 'button', class: 'btn btn-link', dataset: { k: `${key}:cancel` },
      onClick: () => { ui.open.delete(key); ui.errors.delete(key); draw(); view.querySelector(`[data-k="${CSS.escape(`t:${key}`)}"]`)?.focus(); } }, 'Cancel');
    form.querySelector('.actions')?.append(cancel);
    if (ui.errors.has(key)) {
      const err = ui.errors.get(key);
      queueMicrotask(() => { if (form.isConnected) { const f = document.activeElement; showErrors(form, err); if (f && f !== document.body && view.contains(f) && f.dataset.k) f.focus({ preventScroll: true }); } });
    }
    return form;
  }

  /** onSubmit for a panel: the error is kept for re-renders; success closes the panel and forgets its drafts. */
  function wire(form, key, handler, busyLabel) {
    return onSubmit(form, async (fd) => {
      try {
        const out = await handler(fd);
        if (out === false) return;
        ui.errors.delete(key);
        ui.open.delete(key);
        for (const dk of [...ui.drafts.keys()]) if (dk.startsWith(`${key}:`)) ui.drafts.delete(dk);
        await reload();
      } catch (e) {
        ui.errors.set(key, e);
        throw e;
      }
    }, busyLabel);
  }

  function fundForm(k, m) {
    const key = `fund:${m.id}`;
    const c = k.currency;
    const fee = feeOf(m.amount, k.fee_bps);
    const form = h('form', { novalidate: true },
      h('div', { class: 'field', dataset: { field: 'payment_method' } },
        h('fieldset',
          h('legend', 'Pay with a test card'),
          h('p', { class: 'hint' }, 'This is the sandbox: no real money moves. Choose how the test card should behave.'),
          h('div', { class: 'choices choices-col' }, TEST_CARDS.map(([tok, label, hint], i) => h('label', { class: 'choice' },
            h('input', { type: 'radio', name: 'payment_method', value: tok, checked: i === 0 }),
            h('span', h('strong', label), ' ', h('code', tok), h('br'), h('span', { class: 'meta' }, hint))))))),
      h('p', `${money(m.amount, c)} moves from the card into escrow. ${k.engineer_name} receives ${money(m.amount - fee, c)} after the ${feePercent(k.fee_bps)} fee (${money(fee, c)}) when you approve.`),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, `Fund ${money(m.amount, c)}`)));
    return wire(form, key, async (fd) => {
      const pm = String(fd.get('payment_method') || '');
      const ok = await confirmDialog({
        title: `Fund “${m.title}”?`,
        body: [`${money(m.amount, c)} moves from your card into escrow; the engineer receives ${money(m.amount - fee, c)} after the ${feePercent(k.fee_bps)} fee when you approve.`,
          h('p', { class: 'meta' }, `Card: ${TEST_CARDS.find((t) => t[0] === pm)?.[1] || pm} (${pm}). The money stays in escrow until you approve, ask for changes, dispute, or end the contract (which refunds it).`)],
        confirm: `Fund ${money(m.amount, c)}`,
      });
      if (!ok) return false;
      try {
        await act(key).run('POST', `/api/v1/milestones/${m.id}/fund`, { payment_method: pm });
      } catch (e) {
        if (e.status === 402) {
          reloadSoon(); // the declined charge shows in the receipts
          const reason = e.detail ? ` The bank said: ${e.detail.replace(/^[a-z_]+: /, '')}.` : '';
          throw new ApiError(402, { type: e.type, detail: `Your card was declined.${reason} Nothing was charged and “${m.title}” is still not funded. Choose another card and try again.` });
        }
        if (e.transient) throw new ApiError(e.status, { detail: `${e.detail} Press Fund again: the retry uses the same request, so you cannot be charged twice.` });
        throw e;
      }
      toast(`Funded: ${money(m.amount, c)} is in escrow for “${m.title}”.`, 'good');
      return true;
    }, 'Charging the card…');
  }

  function submitForm(k, m) {
    const key = `submit:${m.id}`;
    const form = h('form', { novalidate: true },
      field({ label: 'What you delivered', name: 'note', input: h('textarea', { name: 'note', rows: 4, maxlength: 5000, required: true }),
        hint: 'What is done, how to try it, anything the client should check' }),
      field({ label: 'Links', name: 'links', input: h('textarea', { name: 'links', rows: 2, required: false }),
        hint: 'Pull requests, branches, docs: one http(s) link per line, up to 5' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Submit for review')));
    return wire(form, key, async (fd) => {
      const links = String(fd.get('links') || '').split(/\s+/).map((s) => s.trim()).filter(Boolean);
      const note = String(fd.get('note') || '').trim();
      if (!note) throw new ApiError(422, { errors: [{ field: 'note', message: 'is required: say what you delivered' }] });
      if (links.length > 5) throw new ApiError(422, { errors: [{ field: 'links', message: 'can be at most 5' }] });
      await post(`/api/v1/milestones/${m.id}/submit`, { note, links });
      toast(`Submitted “${m.title}” for review.`, 'good');
    }, 'Submitting…');
  }

  function changesForm(m) {
    const key = `changes:${m.id}`;
    const form = h('form', { novalidate: true },
      field({ label: 'What needs to change', name: 'note', input: h('textarea', { name: 'note', rows: 3, maxlength: 2000, required: true }),
        hint: 'The money stays in escrow; the engineer sees this note and submits again' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send the request')));
    return wire(form, key, async (fd) => {
      const note = String(fd.get('note') || '').trim();
      if (!note) throw new ApiError(422, { errors: [{ field: 'note', message: 'is required' }] });
      await post(`/api/v1/milestones/${m.id}/request-changes`, { note });
      toast('Changes requested.', 'good');
    }, 'Sending…');
  }

  function disputeForm(k, m) {
    const key = `dispute:${m.id}`;
    const form = h('form', { novalidate: true },
      h('p', { class: 'meta' }, `A dispute freezes this ${k.type === 'hourly' ? 'week' : 'milestone'}'s escrow (${money(m.escrow || m.amount, k.currency)}) until an admin decides how much goes to the engineer and how much is refunded.`),
      field({ label: 'Why are you disputing?', name: 'reason', input: h('textarea', { name: 'reason', rows: 3, maxlength: 2000, required: true }) }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-danger' }, 'Open the dispute')));
    return wire(form, key, async (fd) => {
      const reason = String(fd.get('reason') || '').trim();
      if (!reason) throw new ApiError(422, { errors: [{ field: 'reason', message: 'is required' }] });
      const ok = await confirmDialog({ title: 'Open a dispute?', body: `The escrow of “${m.title}” stays frozen until an admin resolves the dispute. Both of you are told.`, confirm: 'Open the dispute', tone: 'danger' });
      if (!ok) return false;
      await post(`/api/v1/milestones/${m.id}/dispute`, { reason });
      toast('Dispute opened. An admin will review it.', 'info');
      return true;
    }, 'Opening…');
  }

  function timesheetForm(k, m) {
    const key = `timesheet:${m.id}`;
    const c = k.currency;
    const out = h('p', { class: 'meta', 'aria-live': 'polite' });
    const hours = h('input', { type: 'number', name: 'hours', min: 0, max: k.weekly_cap_hours, step: 1, required: true, class: 'w-s' });
    const sum = () => {
      const n = Number.parseInt(hours.value, 10);
      if (!Number.isInteger(n) || n < 0) { out.textContent = `Up to ${k.weekly_cap_hours} h at ${money(k.hourly_rate, c)} an hour.`; return; }
      const amt = n * k.hourly_rate;
      out.textContent = `${n} h × ${money(k.hourly_rate, c)} = ${money(amt, c)}; you receive ${money(amt - feeOf(amt, k.fee_bps), c)} after the ${feePercent(k.fee_bps)} fee. The unused ${money(Math.max(0, m.amount - amt), c)} goes back to the client.`;
    };
    hours.addEventListener('input', sum);
    const form = h('form', { novalidate: true },
      h('div', { class: 'form-row' },
        field({ label: 'Week starting (Monday)', name: 'week_start', input: h('input', { type: 'date', name: 'week_start', value: m.week_start || '', max: today(), required: true }),
          hint: `This week started Monday ${date(m.week_start)}` }),
        field({ label: 'Hours worked', name: 'hours', input: hours, hint: `0 to ${k.weekly_cap_hours}` })),
      out,
      field({ label: 'What you worked on', name: 'note', input: h('textarea', { name: 'note', rows: 3, maxlength: 2000, required: true }) }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Submit the timesheet')));
    queueMicrotask(sum);
    return wire(form, key, async (fd) => {
      const n = Number.parseInt(String(fd.get('hours') || ''), 10);
      const note = String(fd.get('note') || '').trim();
      const errs = [];
      if (!Number.isInteger(n)) errs.push({ field: 'hours', message: 'must be a whole number of hours' });
      if (!note) errs.push({ field: 'note', message: 'is required' });
      if (errs.length) throw new ApiError(422, { errors: errs });
      await post(`/api/v1/contracts/${k.id}/timesheets`, { week_start: String(fd.get('week_start') || ''), hours: n, note });
      toast('Timesheet submitted.', 'good');
    }, 'Submitting…');
  }

  // ---- actions without a form ------------------------------------------------------------------

  async function approve(btn, k, m) {
    const c = k.currency;
    const amt = m.escrow || m.amount;
    const fee = feeOf(amt, k.fee_bps);
    const ok = await confirmDialog({
      title: `Approve “${m.title}”?`,
      body: [`${money(amt, c)} moves from escrow to ${k.engineer_name}, who receives ${money(amt - fee, c)} after the ${feePercent(k.fee_bps)} platform fee (${money(fee, c)}).`,
        'This releases the money and cannot be undone.'],
      confirm: `Release ${money(amt, c)}`,
    });
    if (!ok) return;
    await runAction(btn, `approve:${m.id}`, () => act(`approve:${m.id}`).run('POST', `/api/v1/milestones/${m.id}/approve`),
      `Released ${money(amt, c)} to ${k.engineer_name}.`, 'Releasing…');
  }

  async function approveTimesheet(btn, k, m, ts) {
    const c = k.currency;
    const fee = feeOf(ts.amount, k.fee_bps);
    const rest = Math.max(0, (m.escrow || m.amount) - ts.amount);
    const ok = await confirmDialog({
      title: `Approve ${ts.hours} h for the week of ${date(ts.week_start)}?`,
      body: [`${ts.hours} h × ${money(k.hourly_rate, c)} = ${money(ts.amount, c)} moves from escrow to ${k.engineer_name}, who receives ${money(ts.amount - fee, c)} after the ${feePercent(k.fee_bps)} fee (${money(fee, c)}).`,
        rest ? `The unused ${money(rest, c)} of this week's escrow is refunded to your card.` : 'The whole week\'s escrow is used; nothing is refunded.',
        'The next week opens for funding.'],
      confirm: `Approve ${money(ts.amount, c)}`,
    });
    if (!ok) return;
    await runAction(btn, `approve-ts:${ts.id}`, () => act(`approve-ts:${ts.id}`).run('POST', `/api/v1/timesheets/${ts.id}/approve`),
      `Approved: ${money(ts.amount, c)} released${rest ? `, ${money(rest, c)} refunded` : ''}.`, 'Approving…');
  }

  async function answer(btn, how) {
    const k = data.k;
    if (how === 'decline') {
      const ok = await confirmDialog({ title: 'Decline this offer?', body: `${k.client_name} is told. Nothing was charged, and this cannot be undone.`, confirm: 'Decline the offer', tone: 'danger' });
      if (!ok) return;
    }
    await runAction(btn, how, () => post(`/api/v1/contracts/${k.id}/${how}`),
      how === 'accept' ? 'You accepted the contract. The client funds the first milestone next.' : 'You declined the offer.', how === 'accept' ? 'Accepting…' : 'Declining…');
  }

  async function endContract(btn, mny) {
    const k = data.k;
    const c = k.currency;
    const ok = await confirmDialog({
      title: 'End this contract?',
      body: [mny.escrow ? `The ${money(mny.escrow, c)} in escrow is refunded to ${k.client_name}'s card.` : 'Nothing is in escrow, so no money moves.',
        'Milestones not yet funded are dropped. Both of you can then write a review for 14 days.',
        h('p', { class: 'meta' }, 'A contract with submitted or disputed work cannot end until that is settled.')],
      confirm: 'End the contract',
      tone: 'danger',
    });
    if (!ok) return;
    await runAction(btn, 'end', () => post(`/api/v1/contracts/${k.id}/end`), mny.escrow ? `Contract ended; ${money(mny.escrow, c)} is being refunded.` : 'Contract ended.', 'Ending…');
  }

  async function runAction(btn, key, fn, okText, busyLabel) {
    ui.pageError = null;
    try {
      await busy(btn, fn, busyLabel);
      ui.acts.delete(key);
      toast(okText, 'good');
    } catch (e) {
      const retry = e instanceof ApiError && e.transient ? ' Try again: the retry is the same request, so nothing moves twice.' : '';
      ui.pageError = `${e.detail || e.message}${retry}`;
      toast(ui.pageError, 'bad', 8000);
    }
    await reload();
    if (ui.pageError) view.querySelector('.notice-bad[role=alert]')?.focus?.();
  }

  // ---- receipts, disputes, reviews, timeline ----------------------------------------------------

  function receiptsCard(k) {
    const ps = data.payments;
    if (ps === null) {
      return card('Receipts', h('p', { class: 'meta' }, `The receipts could not be read (${data.paymentsError?.detail || 'unavailable'}).`));
    }
    if (!ps.length) {
      return card('Receipts', empty('No payments yet.', k.status === 'active' ? 'Each charge to the card and each refund appears here with its status.' : 'Nothing was charged on this contract.'));
    }
    const byId = new Map(ps.map((p) => [p.id, p]));
    const rows = ps.map((p) => {
      const refund = p.kind === 'refund';
      const of = refund && p.refund_of ? byId.get(p.refund_of) : null;
      return h('tr', { id: p.id, class: refund ? 'refund-row' : null },
        h('td', timeExact(p.created_at)),
        h('td',
          h('strong', refund ? 'Refund' : 'Card charge'), ' · ', p.milestone_title,
          refund && p.refund_of ? h('div', { class: 'meta' }, 'Refunds ', h('a', { href: `#${p.refund_of}` }, of ? `the charge of ${money(of.amount, of.currency)} on ${exactTime(of.created_at)}` : 'a charge')) : null,
          p.error ? h('div', { class: 'meta receipt-failure' }, p.error.replace(/^[a-z_]+: /, '')) : null),
        h('td', chip(p.status)),
        h('td', { class: 'mono ref' }, p.gateway_ref || '—'),
        h('td', { class: 'num' }, refund ? '−' : '', money(p.amount, p.currency), /[A-Za-z]/.test(money(p.amount, p.currency)) ? null : [' ', h('span', { class: 'meta' }, p.currency)]));
    });
    return h('section', { class: 'card', 'aria-labelledby': 'rc-h' },
      h('h2', { id: 'rc-h' }, 'Receipts'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'receipts' },
        h('caption', { class: 'sr-only' }, 'Every charge and refund of this contract, oldest first'),
        h('thead', h('tr', ['Date', 'What', 'Status', 'Reference'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col', class: 'num' }, 'Amount'))),
        h('tbody', rows))),
      h('p', { class: 'meta' }, `Times in ${Intl.DateTimeFormat().resolvedOptions().timeZone}. A failed charge moved no money.`));
  }

  function disputesCard(k, role) {
    const c = k.currency;
    const name = (uid) => (uid === k.client_id ? k.client_name : uid === k.engineer_id ? k.engineer_name : 'an admin');
    return h('section', { class: 'card', 'aria-labelledby': 'dp-h' },
      h('h2', { id: 'dp-h' }, 'Disputes'),
      h('ul', { class: 'list' }, [...data.disputes.values()].map((d) => h('li', { id: d.id },
        h('div', { class: 'spread' }, h('h3', { class: 'item-title' }, d.milestone_title || 'Milestone', ' ', chip(d.status)), h('span', { class: 'num' }, money(d.amount, c))),
        h('p', h('strong', 'Reason: '), d.reason),
        h('p', { class: 'meta' }, `Opened by ${name(d.opened_by)}${d.opened_by === me.id ? ' (you)' : ''} `, timeAgo(d.created_at)),
        d.status === 'resolved'
          ? h('div', { class: 'notice notice-good' },
            h('p', h('strong', 'Outcome: '), `${money(d.release, c)} released to ${k.engineer_name}`,
              d.release ? ` (${money(d.release - feeOf(d.release, k.fee_bps), c)} after the fee)` : '',
              `, ${money(d.refund, c)} refunded to ${k.client_name}.`),
            h('p', { class: 'meta' }, 'Resolved ', timeAgo(d.resolved_at), ` (${exactTime(d.resolved_at)})`))
          : h('p', { class: 'meta' }, `${money(d.escrow?.amount ?? d.amount, c)} stays in escrow until an admin decides.`,
            role === 'admin' ? [' ', link('/admin/disputes', 'Resolve it')] : null)))));
  }

  function reviewsCard(k, role, other) {
    const r = data.reviews;
    if (!r) return card('Reviews', h('p', { class: 'meta' }, 'Reviews could not be read just now.'));
    const mine = r.items.find((x) => x.author_id === me.id);
    const theirs = r.items.filter((x) => x.author_id !== me.id);
    const open = r.window_closes_at && new Date(r.window_closes_at).getTime() > Date.now();
    const parts = [];
    if (role !== 'admin' && !mine) {
      parts.push(open ? reviewForm(k, other, r) : h('p', { class: 'meta' }, 'The review window has closed.'));
    }
    if (mine) parts.push(reviewView(mine, 'Your review'));
    theirs.forEach((x) => parts.push(reviewView(x, role === 'admin' ? `${x.author_name} (${x.author_role})` : `${x.author_name}'s review of you`)));
    if (role !== 'admin' && !theirs.length) {
      const wrote = r.written - (mine ? 1 : 0) > 0;
      parts.push(h('p', { class: 'meta' }, wrote
        ? `${other} has written a review. It shows once you write yours${open ? ', or when the window closes ' : ''}`
        : `${other}'s review shows here once you have both written, or when the window closes `,
      open ? timeAgo(r.window_closes_at) : null, '.'));
    }
    if (role === 'admin' && !theirs.length) parts.push(h('p', { class: 'meta' }, 'No published reviews yet.'));
    return h('section', { class: 'card', 'aria-labelledby': 'rv-h' }, h('h2', { id: 'rv-h' }, 'Reviews'),
      open ? h('p', { class: 'meta' }, 'Reviews are double-blind: neither of you sees the other\'s until both have written or the window closes ', timeAgo(r.window_closes_at), '.') : null,
      ...parts);
  }

  function stars(n) {
    return h('span', { class: 'stars', 'aria-label': `${n} of 5 stars`, role: 'img' }, '★'.repeat(n), h('span', { class: 'stars-off' }, '★'.repeat(5 - n)));
  }

  function reviewView(x, heading) {
    return h('article', { class: 'review' },
      h('h3', heading),
      h('p', stars(x.rating), ' ', h('span', { class: 'meta' }, `${x.rating}/5`)),
      h('p', { class: 'review-comment' }, x.comment),
      h('p', { class: 'meta' }, 'Written ', timeAgo(x.created_at), x.published_at ? null : ' · not visible to the other party yet'));
  }

  function reviewForm(k, other) {
    const key = 'review';
    const WORDS = ['Poor', 'Fair', 'Good', 'Very good', 'Excellent'];
    const labels = [];
    const paint = () => {
      const v = Number(form.querySelector('input[name=rating]:checked')?.value || 0);
      labels.forEach((l, i) => l.classList.toggle('on', i < v));
    };
    const starsField = h('div', { class: 'field', dataset: { field: 'rating' } },
      h('fieldset', h('legend', `Your rating of ${other}`),
        h('div', { class: 'star-input' }, WORDS.map((w, i) => {
          const l = h('label', { class: 'star', title: `${i + 1} – ${w}` },
            h('input', { type: 'radio', name: 'rating', value: String(i + 1), class: 'star-radio' }),
            h('span', { 'aria-hidden': 'true' }, '★'),
            h('span', { class: 'sr-only' }, `${i + 1} star${i ? 's' : ''}, ${w}`));
          labels.push(l);
          return l;
        })),
        h('p', { class: 'hint star-word', 'aria-live': 'polite' })));
    const form = h('form', { novalidate: true },
      starsField,
      field({ label: 'Comment', name: 'comment', input: h('textarea', { name: 'comment', rows: 3, maxlength: 2000, required: true }),
        hint: 'What was it like to work together? Others see this on the profile.' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Publish my review')));
    form.addEventListener('change', () => {
      paint();
      const v = Number(form.querySelector('input[name=rating]:checked')?.value || 0);
      form.querySelector('.star-word').textContent = v ? `${v} of 5: ${WORDS[v - 1]}` : '';
    });
    ui.open.add(key);
    const f = panel(key, () => form);
    queueMicrotask(() => { paint(); const v = Number(form.querySelector('input[name=rating]:checked')?.value || 0); form.querySelector('.star-word').textContent = v ? `${v} of 5: ${WORDS[v - 1]}` : ''; });
    f.querySelector('[data-k="review:cancel"]')?.remove();
    return wire(f, key, async (fd) => {
      const rating = Number(fd.get('rating') || 0);
      const comment = String(fd.get('comment') || '').trim();
      const errs = [];
      if (!rating) errs.push({ field: 'rating', message: 'is required: choose 1 to 5 stars' });
      if (!comment) errs.push({ field: 'comment', message: 'is required' });
      if (errs.length) throw new ApiError(422, { errors: errs });
      await post(`/api/v1/contracts/${k.id}/review`, { rating, comment });
      toast('Review written.', 'good');
    }, 'Publishing…');
  }

  function timelineCard(k) {
    const ev = [];
    const add = (at, text, tone, rank = 5) => { if (at) ev.push({ at, text, tone, rank, i: ev.length }); };
    add(k.created_at, `${k.client_name} offered the contract`, null, 0);
    if (k.accepted_at) add(k.accepted_at, `${k.engineer_name} accepted`, null, 1);
    for (const m of k.milestones) {
      add(m.funded_at, `“${m.title}” funded into escrow`, 'info', 3);
      add(m.submitted_at, k.type === 'hourly' ? `Timesheet for “${m.title}” submitted` : `“${m.title}” submitted for review`, 'warn', 4);
      if (m.settled_at) {
        const word = { released: 'released to the engineer', refunded: m.funded_at ? 'refunded' : 'dropped', resolved: 'settled by the dispute' }[m.status] || stateLabel(m.status).toLowerCase();
        add(m.settled_at, `“${m.title}” ${word}`, m.status === 'released' ? 'good' : null, 7);
      }
    }
    for (const p of data.payments || []) {
      if (p.kind === 'charge' && p.status === 'failed') add(p.created_at, `A card charge of ${money(p.amount, p.currency)} for “${p.milestone_title}” was declined`, 'bad', 2);
      if (p.kind === 'refund') {
        add(p.created_at, `Refund of ${money(p.amount, p.currency)} for “${p.milestone_title}” started`, null, 8);
        if (p.settled_at && p.status !== 'pending') add(p.settled_at, `Refund of ${money(p.amount, p.currency)} ${p.status === 'succeeded' ? 'reached the card' : 'failed'}`, p.status === 'failed' ? 'bad' : 'good', 9);
      }
    }
    for (const t of data.timesheets || []) if (t.approved_at) add(t.approved_at, `Timesheet approved: ${t.hours} h, ${money(t.amount, k.currency)}`, 'good', 6);
    for (const d of data.disputes.values()) {
      add(d.created_at, `Dispute opened on “${d.milestone_title}”`, 'warn', 5);
      if (d.resolved_at) add(d.resolved_at, `Dispute resolved: ${money(d.release, k.currency)} released, ${money(d.refund, k.currency)} refunded`, 'good');
    }
    for (const r of data.reviews?.items || []) add(r.created_at, `${r.author_name} wrote a review`, null, 11);
    if (k.ended_at) add(k.ended_at, 'The contract ended', null, 10);
    ev.sort((a, b) => (a.at !== b.at ? (a.at < b.at ? -1 : 1) : a.rank - b.rank || a.i - b.i));
    return card('What happened',
      h('ol', { class: 'timeline' }, ev.map((e) => h('li', { class: e.tone ? `tl-${e.tone}` : null },
        h('span', e.text), h('br'), h('span', { class: 'meta' }, timeExact(e.at))))),
      h('p', { class: 'meta' }, `Times in your zone (${Intl.DateTimeFormat().resolvedOptions().timeZone}).`));
  }

  draw();
}
