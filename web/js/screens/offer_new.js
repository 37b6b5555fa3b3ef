// offer_new: the client makes an offer to a candidate who accepted the
// invitation: fixed price in 1-20 milestones, or hourly with a weekly cap.
// Amounts are typed in major units; the running total, the platform fee
// and what the engineer receives are shown before anything is sent. The
// server's field errors (milestones[0].amount ...) land beside the row's
// inputs, whose data-field names follow the rows as they are added and
// removed.
import { h, mount } from '../dom.js';
import { ApiError, get, post, qs } from '../api.js';
import { fromMinor, money, toMinor } from '../format.js';
import { card, chip, failed, field, link, onSubmit, pageHead, select, toast } from '../ui.js';
import { feeOf, feePercent, terms, today } from './money_common.js';
const MAX_MILESTONES = 20;

/** The candidate and its request: from ?request= when the shortlist links here, else by looking through the client's requests. */
async function findCandidate(candidateId, requestId) {
  const look = async (rid) => {
    const r = await get(`/api/v1/requests/${encodeURIComponent(rid)}`);
    const c = (r.candidates || []).find((x) => x.id === candidateId);
    return c ? { request: r, candidate: c } : null;
  };
  if (requestId) {
    const found = await look(requestId).catch(() => null);
    if (found) return found;
  }
  let cursor = null;
  for (let page = 0; page < 4; page += 1) {
    const list = await get(`/api/v1/requests${qs({ limit: 50, cursor })}`);
    const ids = (list.items || []).map((r) => r.id);
    for (let i = 0; i < ids.length; i += 8) {
      const hits = await Promise.all(ids.slice(i, i + 8).map((id) => look(id).catch(() => null)));
      const hit = hits.find(Boolean);
      if (hit) return hit;
    }
    cursor = list.next_cursor;
    if (!cursor) break;
  }
  return null;
}

/** The server counts amounts in minor units; say its limits in the units the client typed. */
function friendlier(err, currency) {
  if (!(err instanceof ApiError)) return err;
  err.errors = err.errors.map((e) => {
    const m = /^must be between (\d+) and (\d+)$/.exec(e.message || '');
    if (m && /amount|hourly_rate/.test(e.field)) {
      return { ...e, message: `must be between ${money(Number(m[1]), currency)} and ${money(Number(m[2]), currency)}` };
    }
    if (e.field === 'candidate_id') return { ...e, field: '', message: `This candidate cannot get an offer: ${e.message}` };
    return e;
  });
  return err;
}

export default async function render(view, ctx) {
  const candidateId = ctx.params.candidate;
  let found = null;
  let t;
  try {
    [found, t] = await Promise.all([findCandidate(candidateId, ctx.query.get('request')).catch(() => null), terms()]);
  } catch (e) {
    if (ctx.current) failed(view, e, () => ctx.navigate(location.pathname + location.search, { replace: true }));
    return;
  }
  if (!ctx.current) return;
  const FEE_BPS = t.fee_bps; // what the server will fix on this contract
  const CURRENCIES = t.currencies;
  const req = found?.request;
  const cand = found?.candidate;
  const rate = cand?.explain?.rate?.rate;
  const currency0 = (rate && rate.currency) || req?.budget?.currency || 'USD';
  const engineerName = cand?.engineer_name || 'the engineer';
  ctx.title(`Offer to ${engineerName}`);

  const fixedState = { rows: [{ title: '', amount: '', due: '' }] };
  const form = h('form', { class: 'card offer-form', novalidate: true });
  const totals = h('div', { class: 'offer-totals', 'aria-live': 'polite' });
  const rowsBox = h('div', { class: 'milestone-rows' });
  const addBtn = h('button', { type: 'button', class: 'btn btn-small' }, '+ Add a milestone');
  const currencySel = select('currency', CURRENCIES.map((c) => [c, c]), currency0);
  const typeChoice = (value, label, hint) => h('label', { class: 'choice choice-card' },
    h('input', { type: 'radio', name: 'type', value, checked: value === (req?.engagement === 'hourly' ? 'hourly' : 'fixed') }),
    h('span', h('strong', label), h('br'), h('span', { class: 'meta' }, hint)));
  const typeField = h('div', { class: 'field', dataset: { field: 'type' } },
    h('fieldset', h('legend', 'How will you pay?'),
      h('div', { class: 'choices' },
        typeChoice('fixed', 'Fixed price', 'Milestones you fund one by one and approve when delivered'),
        typeChoice('hourly', 'Hourly', 'A weekly cap you fund each week; you approve the hours worked'))));

  const rateInput = h('input', { type: 'text', name: 'hourly_rate', inputmode: 'decimal', autocomplete: 'off',
    class: 'w-s', value: rate ? fromMinor(rate.amount, rate.currency) : '' });
  const capInput = h('input', { type: 'number', name: 'weekly_cap_hours', min: 1, max: 60, step: 1, class: 'w-s',
    value: String(req?.hours_per_week || 20) });
  const startInput = h('input', { type: 'date', name: 'start_date', min: today(), value: '' });
  const hourlyBox = h('div', { class: 'hourly-box' },
    h('div', { class: 'form-row' },
      field({ label: 'Hourly rate', name: 'hourly_rate', input: rateInput, required: true,
        hint: rate ? `${engineerName} asks ${money(rate.amount, rate.currency)} an hour` : 'In the currency below, e.g. 95.00' }),
      field({ label: 'Weekly cap (hours)', name: 'weekly_cap_hours', input: capInput, required: true, hint: '1 to 60 hours a week' }),
      field({ label: 'Start date', name: 'start_date', input: startInput, required: false, hint: 'Leave empty to start this week' })));
  const fixedBox = h('div', { class: 'fixed-box' },
    h('h2', 'Milestones'),
    h('p', { class: 'hint' }, `1 to ${MAX_MILESTONES} milestones. You fund each one into escrow when work on it starts and release it when you approve the delivery.`),
    rowsBox, h('div', { class: 'actions' }, addBtn));

  const cur = () => currencySel.value;
  const isHourly = () => form.querySelector('input[name=type]:checked')?.value === 'hourly';

  function saveRows() {
    rowsBox.querySelectorAll('.milestone-row').forEach((row, i) => {
      const r = fixedState.rows[i];
      if (!r) return;
      r.title = row.querySelector('[data-part=title]').value;
      r.amount = row.querySelector('[data-part=amount]').value;
      r.due = row.querySelector('[data-part=due]').value;
    });
  }

  function drawRows(focusIndex) {
    const n = fixedState.rows.length;
    mount(rowsBox, fixedState.rows.map((r, i) => {
      const title = h('input', { type: 'text', name: `milestones[${i}].title`, value: r.title, maxlength: 200, dataset: { part: 'title' },
        required: true, autocomplete: 'off' });
      const amount = h('input', { type: 'text', name: `milestones[${i}].amount`, value: r.amount, inputmode: 'decimal',
        dataset: { part: 'amount' }, required: true, autocomplete: 'off' });
      const due = h('input', { type: 'date', name: `milestones[${i}].due`, value: r.due, min: today(), dataset: { part: 'due' }, required: true });
      const remove = n > 1 ? h('button', { type: 'button', class: 'btn btn-small btn-link', 'aria-label': `Remove milestone ${i + 1}`,
        onClick: () => { saveRows(); fixedState.rows.splice(i, 1); drawRows(Math.max(0, i - 1)); update(); } }, 'Remove') : null;
      return h('fieldset', { class: 'milestone-row' },
        h('legend', `Milestone ${i + 1}`),
        h('div', { class: 'form-row milestone-fields' },
          field({ label: 'What will be delivered', name: `milestones[${i}].title`, input: title }),
          field({ label: `Amount (${cur()})`, name: `milestones[${i}].amount`, input: amount, hint: 'e.g. 1500.00' }),
          field({ label: 'Due date', name: `milestones[${i}].due`, input: due })),
        remove ? h('div', { class: 'actions' }, remove) : null);
    }));
    addBtn.disabled = n >= MAX_MILESTONES;
    addBtn.textContent = n >= MAX_MILESTONES ? `The most is ${MAX_MILESTONES} milestones` : '+ Add a milestone';
    if (focusIndex !== undefined) rowsBox.querySelectorAll('[data-part=title]')[focusIndex]?.focus();
  }

  function feeLines(amount, label, feeTotal) {
    const c = cur();
    const fee = feeTotal ?? feeOf(amount, FEE_BPS);
    return h('dl', { class: 'facts offer-facts' },
      h('dt', label), h('dd', { class: 'num' }, money(amount, c)),
      h('dt', `Platform fee (${feePercent(FEE_BPS)} of each release)`), h('dd', { class: 'num' }, `− ${money(fee, c)}`),
      h('dt', h('strong', `${engineerName} receives`)), h('dd', { class: 'num' }, h('strong', money(amount - fee, c))));
  }

  function update() {
    const c = cur();
    form.querySelectorAll('.milestone-row').forEach((row) => {
      const l = row.querySelector('[data-field$=".amount"] label');
      if (l) l.firstChild.textContent = `Amount (${c})`;
    });
    if (isHourly()) {
      hourlyBox.hidden = false;
      fixedBox.hidden = true;
      const r = toMinor(rateInput.value, c);
      const hours = Number(capInput.value);
      if (r === null || !(hours > 0)) {
        mount(totals, h('p', { class: 'meta' }, 'Enter a rate and a weekly cap to see what a week costs.'));
      } else {
        mount(totals, h('h2', 'Each week'),
          feeLines(r * hours, `Escrow at the cap (${hours} h × ${money(r, c)})`),
          h('p', { class: 'meta' }, `You fund the week's cap into escrow. When you approve the timesheet, the hours worked go to ${engineerName} less the fee, and the unused part of the cap is refunded to your card.`));
      }
    } else {
      hourlyBox.hidden = true;
      fixedBox.hidden = false;
      saveRows();
      const amounts = fixedState.rows.map((r) => toMinor(r.amount, c));
      const total = amounts.reduce((s, a) => s + (a || 0), 0);
      const bad = amounts.filter((a, i) => a === null && fixedState.rows[i].amount.trim()).length;
      mount(totals, h('h2', 'Total'),
        feeLines(total, `${fixedState.rows.length} milestone${fixedState.rows.length === 1 ? '' : 's'}`,
          amounts.reduce((s, a) => s + feeOf(a || 0, FEE_BPS), 0)),
        bad ? h('p', { class: 'meta' }, `${bad} amount${bad === 1 ? ' is' : 's are'} not a number yet and ${bad === 1 ? 'is' : 'are'} not counted.`) : null,
        h('p', { class: 'meta' }, 'Nothing is charged now. You fund each milestone into escrow from the contract page once the engineer accepts.'));
    }
  }

  addBtn.addEventListener('click', () => {
    saveRows();
    if (fixedState.rows.length >= MAX_MILESTONES) return;
    fixedState.rows.push({ title: '', amount: '', due: '' });
    drawRows(fixedState.rows.length - 1);
    update();
  });
  form.addEventListener('input', update);
  form.addEventListener('change', update);

  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send the offer');
  mount(form,
    typeField,
    field({ label: 'Currency', name: 'currency', input: currencySel, required: true, hint: 'Every amount of this contract is in this currency' }),
    fixedBox, hourlyBox,
    totals,
    h('div', { class: 'actions' }, submit, link(req ? `/requests/${req.id}` : '/requests', 'Cancel')));
  drawRows();
  update();

  onSubmit(form, async () => {
    const c = cur();
    const body = { candidate_id: candidateId, type: isHourly() ? 'hourly' : 'fixed', currency: c };
    const errs = [];
    if (body.type === 'fixed') {
      saveRows();
      body.milestones = fixedState.rows.map((r, i) => {
        const amount = toMinor(r.amount, c);
        if (!r.title.trim()) errs.push({ field: `milestones[${i}].title`, message: 'is required' });
        if (amount === null) errs.push({ field: `milestones[${i}].amount`, message: r.amount.trim() ? 'must be an amount such as 1500.00' : 'is required' });
        if (!r.due) errs.push({ field: `milestones[${i}].due`, message: 'is required' });
        else if (r.due < today()) errs.push({ field: `milestones[${i}].due`, message: 'must not be in the past' });
        return { title: r.title.trim(), amount, due: r.due };
      });
    } else {
      body.hourly_rate = toMinor(rateInput.value, c);
      body.weekly_cap_hours = Number.parseInt(capInput.value, 10);
      if (body.hourly_rate === null) errs.push({ field: 'hourly_rate', message: rateInput.value.trim() ? 'must be an amount such as 95.00' : 'is required' });
      if (!Number.isInteger(body.weekly_cap_hours)) errs.push({ field: 'weekly_cap_hours', message: 'must be a whole number of hours' });
      if (startInput.value) body.start_date = startInput.value;
    }
    if (errs.length) throw new ApiError(422, { detail: 'some fields are invalid', errors: errs });
    let k;
    try {
      k = await post('/api/v1/contracts', body);
    } catch (e) {
      throw friendlier(e, c);
    }
    toast(`Offer sent to ${engineerName}.`, 'good');
    ctx.navigate(`/contracts/${k.id}`);
  }, 'Sending…');

  const notAccepted = cand && cand.status !== 'accepted';
  mount(view,
    pageHead(`Make an offer to ${engineerName}`, {
      sub: req ? h('span', 'For ', link(`/requests/${req.id}`, req.title), ' · candidate ', chip(cand.status)) : null,
    }),
    !found ? h('div', { class: 'notice notice-warn' },
      h('p', 'We could not find this candidate among your requests. You can still send the offer; the server checks that the engineer accepted your invitation.')) : null,
    notAccepted ? h('div', { class: 'notice notice-warn' },
      h('p', `${engineerName} has not accepted your invitation (${cand.status}), so an offer will be refused. Offers go to candidates who accepted.`)) : null,
    h('div', { class: 'cols' },
      form,
      card('How the money moves',
        h('ol', { class: 'how-steps' },
          h('li', `${engineerName} accepts the offer.`),
          h('li', 'You fund a milestone (or a week): the money moves from your card into escrow.'),
          h('li', `${engineerName} delivers; you approve, and escrow goes to ${engineerName} less the ${feePercent(FEE_BPS)} platform fee.`),
          h('li', 'Not happy? Ask for changes or open a dispute; ending the contract refunds any funded escrow.')),
        rate ? facts2(engineerName, rate, req) : null)));
}

function facts2(name, rate, req) {
  return h('dl', { class: 'facts' },
    h('dt', `${name}'s rate`), h('dd', money(rate.amount, rate.currency), ' an hour'),
    req?.budget ? [h('dt', 'Your budget'), h('dd', money(req.budget), req.engagement === 'hourly' ? ' an hour' : '')] : null,
    req?.hours_per_week ? [h('dt', 'Hours a week'), h('dd', String(req.hours_per_week))] : null);
}
