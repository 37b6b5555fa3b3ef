// request_new: the client raises a request. The form knows the skills
// catalog (GET /api/v1/skills): frameworks as checkboxes, every other skill
// in its group with "Not needed / Must-have / Nice-to-have", and a search
// that narrows the list as you type. Fixed or hourly, a budget in a
// currency, the time zone (every IANA zone this browser knows), the
// overlap and the start date. The server's field errors land beside their
// fields (a bad skill beside that skill's row); on success the request
// page opens with its shortlist. ?framework=fastapi (from the hire pages)
// ticks that framework.
import { h, mount, nextId } from '../dom.js';
import { ApiError, post } from '../api.js';
import { money, toMinor, viewerZone } from '../format.js';
import { card, failed, field, onSubmit, pageHead, select, toast } from '../ui.js';
import { loadCatalog, skillName } from './requests_common.js';

const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF', 'SEK', 'NOK', 'DKK', 'PLN', 'NZD', 'SGD'];
const MAX_SKILLS = 10;

function isoDay(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function zones() {
  try {
    const z = Intl.supportedValuesOf('timeZone');
    return z.includes('UTC') ? z : ['UTC', ...z];
  } catch {
    return ['UTC', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Singapore', 'Australia/Sydney'];
  }
}

function nowIn(zone) {
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: zone, hour: '2-digit', minute: '2-digit', weekday: 'short' }).format(new Date());
  } catch {
    return null;
  }
}

/** The server's limits are in minor units and its paths name array items; say it in the form's terms. */
function friendlier(err, body, currency) {
  if (!(err instanceof ApiError)) return err;
  err.errors = err.errors.map((e) => {
    const f = e.field || '';
    const m = /^(must_have|nice_to_have)\[(\d+)\]$/.exec(f);
    if (m) {
      const id = body[m[1]]?.[Number(m[2])];
      if (id) return { ...e, field: `skill.${id}`, message: `(${m[1] === 'must_have' ? 'must-have' : 'nice-to-have'}): ${e.message}` };
    }
    if (/^frameworks\[\d+\]$/.test(f)) return { ...e, field: 'frameworks' };
    if (f === 'must_have' && /between/.test(e.message || '')) return { ...e, message: `need 1 to ${MAX_SKILLS} must-haves: mark them below` };
    if (f === 'nice_to_have') return { ...e, field: 'must_have', message: `(nice-to-haves) ${e.message}` };
    const r = /^must be between (\d+) and (\d+)$/.exec(e.message || '');
    if (r && f === 'budget.amount') return { ...e, message: `must be between ${money(Number(r[1]), currency)} and ${money(Number(r[2]), currency)}` };
    return e;
  });
  return err;
}

export default async function render(view, ctx) {
  let cat;
  try {
    cat = await loadCatalog();
  } catch (e) {
    if (!ctx.current) return;
    failed(view, e, () => ctx.navigate(location.pathname + location.search, { replace: true }));
    return;
  }
  if (!ctx.current) return;
  const wanted = (ctx.query.get('framework') || '').split(',').filter(Boolean);
  const fwGroup = cat.groups.find((g) => g.id === 'frameworks');
  const skillGroups = cat.groups.filter((g) => g.id !== 'frameworks');

  const form = h('form', { class: 'card request-form', novalidate: true });

  // --- what
  const titleIn = h('input', { type: 'text', name: 'title', maxlength: 120, autocomplete: 'off', required: true });
  const descIn = h('textarea', { name: 'description', maxlength: 10000, rows: 5, required: true });

  // --- frameworks
  const fwBoxes = (fwGroup?.skills || []).map((s) => h('label', { class: 'choice' },
    h('input', { type: 'checkbox', name: 'frameworks', value: s.id, id: nextId('fw'), checked: wanted.includes(s.id) }), s.name));
  // showErrors puts a field's message after its first label (a fieldset has a legend): a label for screen readers
  const fwField = h('div', { class: 'field', dataset: { field: 'frameworks' } },
    h('label', { class: 'sr-only', for: fwBoxes[0]?.querySelector('input').id || null }, 'Frameworks'),
    h('fieldset', h('legend', 'Frameworks ', h('span', { class: 'optional' }, '(optional)')),
      h('p', { class: 'hint' }, 'The ones your code is on. Engineers vetted on them rank higher.'),
      h('div', { class: 'choices' }, fwBoxes)));

  // --- the skills picker
  const selects = new Map(); // id -> <select>
  const search = h('input', { type: 'search', name: 'skill-search', autocomplete: 'off', class: 'search', placeholder: 'e.g. asyncpg, cancellation, tracing' });
  const counts = h('p', { class: 'skill-counts', 'aria-live': 'polite' });
  const chosenBox = h('div', { class: 'skill-chosen' });
  const noMatch = h('p', { class: 'meta', hidden: true }, 'No skill matches that. Try a shorter word.');
  const groupEls = skillGroups.map((g) => {
    const rows = g.skills.map((s) => {
      const sel = select(`skill.${s.id}`, [['', 'Not needed'], ['must', 'Must-have'], ['nice', 'Nice-to-have']], '',
        { class: 'skill-choice', dataset: { skill: s.id } });
      selects.set(s.id, sel);
      const row = field({ label: s.name, name: `skill.${s.id}`, input: sel, required: true });
      row.classList.add('skill-pick');
      row.dataset.search = `${s.name} ${s.id} ${g.name}`.toLowerCase();
      return row;
    });
    return h('section', { class: 'skill-group', dataset: { group: g.id } }, h('h3', g.name), h('div', { class: 'skill-grid' }, rows));
  });
  const picked = (kind) => [...selects].filter(([, s]) => s.value === kind).map(([id]) => id);
  function updateSkills() {
    const must = picked('must');
    const nice = picked('nice');
    for (const [, s] of selects) s.closest('.skill-pick').dataset.choice = s.value;
    counts.textContent = `${must.length} must-have${must.length === 1 ? '' : 's'} (1 to ${MAX_SKILLS}) · ${nice.length} nice-to-have${nice.length === 1 ? '' : 's'} (up to ${MAX_SKILLS})`;
    mount(chosenBox,
      must.length ? h('p', h('strong', 'Must-haves: '), must.map((id) => skillName(cat, id)).join(', ')) : null,
      nice.length ? h('p', h('strong', 'Nice-to-haves: '), nice.map((id) => skillName(cat, id)).join(', ')) : null);
  }
  function filterSkills() {
    const q = search.value.trim().toLowerCase();
    let shown = 0;
    for (const g of groupEls) {
      let inGroup = 0;
      for (const row of g.querySelectorAll('.skill-pick')) {
        const hit = !q || row.dataset.search.includes(q) || row.querySelector('select').value; // chosen ones stay in view
        row.hidden = !hit;
        if (hit) inGroup += 1;
      }
      g.hidden = inGroup === 0;
      shown += inGroup;
    }
    noMatch.hidden = shown > 0;
  }
  search.addEventListener('input', filterSkills);
  const skillsField = h('div', { class: 'field skills-field', dataset: { field: 'must_have' } },
    h('label', { for: (search.id = nextId('skill-search')) }, 'Skills needed'),
    h('p', { class: 'hint', id: `${search.id}-hint` },
      'Mark what the engineer must have (scored at their vetted level) and what would be nice. Type to find a skill.'),
    search, counts, chosenBox, noMatch, groupEls);
  search.setAttribute('aria-describedby', `${search.id}-hint`);

  // --- who and how
  const seniority = select('seniority', [['mid', 'Mid-level'], ['senior', 'Senior'], ['staff', 'Staff']], 'senior', { class: 'w-m' });
  const engChoice = (value, label, hint) => h('label', { class: 'choice choice-card' },
    h('input', { type: 'radio', name: 'engagement', value, checked: value === 'hourly' }),
    h('span', h('strong', label), h('br'), h('span', { class: 'meta' }, hint)));
  const engField = h('div', { class: 'field', dataset: { field: 'engagement' } },
    h('fieldset', h('legend', 'How will you pay?'),
      h('div', { class: 'choices' },
        engChoice('hourly', 'Hourly', 'Weekly timesheets, up to a rate you set'),
        engChoice('fixed', 'Fixed price', 'A total, paid by milestones'))));
  const currency = select('budget.currency', CURRENCIES.map((c) => [c, c]), 'USD');
  const amount = h('input', { type: 'text', name: 'budget.amount', inputmode: 'decimal', autocomplete: 'off', class: 'w-s', required: true });
  const weeks = h('input', { type: 'number', name: 'estimated_weeks', min: 1, max: 104, step: 1, class: 'w-s', value: '8' });
  const hours = h('input', { type: 'number', name: 'hours_per_week', min: 1, max: 60, step: 1, class: 'w-s', value: '20', required: true });
  const amountField = field({ label: 'Maximum hourly rate', name: 'budget.amount', input: amount, required: true, hint: 'e.g. 120.00' });
  const weeksField = field({ label: 'Estimated weeks', name: 'estimated_weeks', input: weeks, required: true, hint: 'Turns the total into an hourly ceiling for matching' });
  const isHourly = () => form.querySelector('input[name=engagement]:checked')?.value !== 'fixed';
  function updateEngagement() {
    const hourly = isHourly();
    amountField.querySelector('label').firstChild.textContent = hourly ? `Maximum hourly rate (${currency.value})` : `Total budget (${currency.value})`;
    weeksField.hidden = hourly;
    const a = toMinor(amount.value, currency.value);
    const hint = amountField.querySelector('.hint');
    if (a && !hourly && Number(weeks.value) > 0 && Number(hours.value) > 0) {
      hint.textContent = `About ${money(Math.floor(a / (Number(weeks.value) * Number(hours.value))), currency.value)} an hour at ${hours.value} h a week`;
    } else {
      hint.textContent = hourly ? 'The most you pay an hour, e.g. 120.00. Only engineers at or under it are matched.' : 'e.g. 12000.00';
    }
  }

  // --- when and where
  const tzList = h('datalist', { id: nextId('zones') }, zones().map((z) => h('option', { value: z })));
  const tz = h('input', { type: 'text', name: 'timezone', list: tzList.id, value: viewerZone, autocomplete: 'off', spellcheck: 'false', class: 'w-m', required: true });
  const tzField = field({ label: 'Your time zone', name: 'timezone', input: tz, required: true, hint: 'Pick a zone from the list, e.g. Europe/Berlin.' });
  const updateTz = () => {
    const n = nowIn(tz.value.trim());
    tzField.querySelector('.hint').textContent = n ? `It is ${n} there now. Type to search, e.g. "New_York" or "Berlin".` : 'Pick a zone from the list, e.g. Europe/Berlin.';
  };
  const overlap = h('input', { type: 'number', name: 'min_overlap_hours', min: 0, max: 12, step: 1, value: '3', class: 'w-s', required: true });
  const start = new Date();
  start.setDate(start.getDate() + 7);
  const startIn = h('input', { type: 'date', name: 'start_date', min: isoDay(new Date()), value: isoDay(start), class: 'w-m', required: true });

  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Raise the request');
  mount(form,
    h('h2', 'What do you need?'),
    field({ label: 'Title', name: 'title', input: titleIn, required: true, hint: 'One line, e.g. "FastAPI payments service: payouts and webhooks"' }),
    field({ label: 'Description', name: 'description', input: descIn, required: true, hint: 'What the work is, what exists today, what done looks like.' }),
    h('h2', 'Skills'),
    fwField,
    skillsField,
    h('h2', 'Who and how'),
    field({ label: 'Seniority', name: 'seniority', input: seniority, required: true, hint: 'The level the engineer was vetted at' }),
    engField,
    h('div', { class: 'form-row' },
      amountField,
      field({ label: 'Currency', name: 'budget.currency', input: currency, required: true, hint: 'Engineers charging in it are matched' })),
    h('div', { class: 'form-row' },
      field({ label: 'Hours a week', name: 'hours_per_week', input: hours, required: true, hint: '1 to 60' }),
      weeksField),
    h('h2', 'When and where'),
    tzField, tzList,
    h('div', { class: 'form-row' },
      field({ label: 'Overlap (hours)', name: 'min_overlap_hours', input: overlap, required: true, hint: 'Of your 09:00 to 17:00 the engineer also works' }),
      field({ label: 'Start date', name: 'start_date', input: startIn, required: true, hint: 'Today or later' })),
    h('div', { class: 'actions' }, submit, h('a', { href: '/requests' }, 'Cancel')));

  form.addEventListener('change', (ev) => {
    if (ev.target.classList.contains('skill-choice')) updateSkills();
    updateEngagement();
  });
  form.addEventListener('input', (ev) => { if (ev.target === tz) updateTz(); if ([amount, weeks, hours].includes(ev.target)) updateEngagement(); });
  updateSkills();
  updateEngagement();
  updateTz();

  onSubmit(form, async () => {
    const cur = currency.value;
    const int = (el) => (/^\d+$/.test(el.value.trim()) ? Number(el.value.trim()) : el.value.trim() === '' ? null : Number.NaN);
    const body = {
      title: titleIn.value.trim(),
      description: descIn.value.trim(),
      frameworks: fwBoxes.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => i.value),
      must_have: picked('must'),
      nice_to_have: picked('nice'),
      seniority: seniority.value,
      engagement: isHourly() ? 'hourly' : 'fixed',
      budget: { amount: toMinor(amount.value, cur), currency: cur },
      hours_per_week: int(hours),
      timezone: tz.value.trim(),
      min_overlap_hours: int(overlap),
      start_date: startIn.value,
    };
    if (!isHourly()) body.estimated_weeks = int(weeks);
    // only what cannot be sent as JSON is checked here; the server judges the rest
    const errs = [];
    if (body.budget.amount === null) errs.push({ field: 'budget.amount', message: amount.value.trim() ? `must be an amount such as 120.00` : 'is required' });
    for (const k of ['hours_per_week', 'min_overlap_hours', 'estimated_weeks']) {
      if (!(k in body)) continue;
      if (Number.isNaN(body[k])) errs.push({ field: k, message: 'must be a whole number' });
      if (body[k] === null) errs.push({ field: k, message: 'is required' });
    }
    if (errs.length) throw new ApiError(422, { detail: 'some fields are invalid', errors: errs });
    let req;
    try {
      req = await post('/api/v1/requests', body);
    } catch (e) {
      throw friendlier(e, body, cur);
    }
    const n = (req.candidates || []).length;
    toast(n ? `Request raised: ${n} engineer${n === 1 ? '' : 's'} invited.` : 'Request raised. We keep searching for engineers.', 'good');
    ctx.navigate(`/requests/${req.id}`);
  }, 'Finding engineers…');

  mount(view,
    pageHead('Raise a request', { sub: 'A ranked shortlist of vetted engineers the moment you submit' }),
    h('div', { class: 'cols' },
      form,
      h('aside', { class: 'stack' },
        card('What happens next',
          h('ol', { class: 'how-steps' },
            h('li', 'You see up to five vetted engineers at once, ranked, with why each is on the list.'),
            h('li', 'They are invited straight away and have 24 hours to answer.'),
            h('li', 'Within 8 hours three should accept. If not, we widen the search and tell you.'),
            h('li', 'Talk to those who accept, then make an offer. Nothing is charged until you fund a milestone.'))))));
}
