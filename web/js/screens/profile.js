// profile: an engineer's own profile and where they are on the way to
// being vetted. The vetting state as a chip and a stepper of what comes
// next; the profile form (PUT /api/v1/me/profile, errors beside their
// fields, skills[2].level beside that skill); skills from the catalog with
// self-levels 1-5; once vetted, the vetted levels as a picture.
import { h, mount } from '../dom.js';
import { ApiError, get, put } from '../api.js';
import { date, fromMinor, money, toMinor, viewerZone } from '../format.js';
import { card, clearErrors, failed, field, loading, pageHead, select, toast } from '../ui.js';
import { skillLevels } from '../charts.js';
import { LEVEL_WORDS, levelText, loadCatalog, showGroupedErrors, skillName, stepper, vettingChip } from './vetting_common.js';

const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF', 'SEK', 'NOK', 'DKK', 'PLN', 'NZD', 'SGD'];

function zones() {
  let list = [];
  try { list = Intl.supportedValuesOf('timeZone'); } catch { list = []; }
  if (!list.includes('UTC')) list = ['UTC', ...list];
  if (!list.includes(viewerZone)) list = [viewerZone, ...list];
  return list;
}

/** What to do next, as one notice with the one primary action. */
function nextStep(e) {
  const v = e.vetting || {};
  const s = v.status || 'registered';
  const now = Date.now();
  switch (s) {
    case 'registered':
      return h('div', { class: 'notice notice-info' }, h('p', h('strong', 'Next: complete your profile. '),
        'Fill in the form below and rate your skills; then you can take the assessment.'));
    case 'profile_complete':
      return h('div', { class: 'notice notice-info next-step' },
        h('p', h('strong', 'Next: the assessment. '), '20 questions on async Python, 30 minutes, 14 correct to pass. Start it when you have half an hour free.'),
        h('a', { class: 'btn btn-primary', href: '/assessment' }, 'Take the assessment'));
    case 'assessment_passed':
      return h('div', { class: 'notice notice-good' }, h('p', h('strong', 'You passed the assessment. '),
        'You are in the vetters’ queue for an interview; they will contact you by email.'));
    case 'interviewed':
      return h('div', { class: 'notice notice-info' }, h('p', h('strong', 'Interview done. '), 'The decision comes next.'));
    case 'vetted':
      return h('div', { class: 'notice notice-good' }, h('p', h('strong', `You are vetted${v.level ? ` as ${v.level}` : ''}. `),
        'Clients’ requests that match your skills invite you; keep “available” on to be matched.'),
      h('a', { class: 'btn', href: '/invitations' }, 'See invitations'));
    case 'rejected': {
      const open = !v.reapply_after || Date.parse(v.reapply_after) <= now;
      return h('div', { class: `notice ${open ? 'notice-info' : 'notice-warn'} next-step` },
        h('p', h('strong', 'Not vetted this time. '), open ? 'You may start again: take the assessment once more.'
          : `You may start again from ${date(v.reapply_after)}. Meanwhile you can keep your profile up to date.`),
        open ? h('a', { class: 'btn btn-primary', href: '/assessment' }, 'Start again') : null);
    }
    default:
      return null;
  }
}

export default async function render(view, ctx) {
  loading(view, 'Loading your profile');
  let eng;
  let cat;
  try {
    [eng, cat] = await Promise.all([get('/api/v1/me/profile').then((d) => d.engineer), loadCatalog()]);
  } catch (err) {
    failed(view, err, () => render(view, ctx));
    return;
  }
  if (!ctx.current) return;
  draw(view, ctx, eng, cat);
}

function draw(view, ctx, eng, cat) {
  const v = eng.vetting || {};
  const fresh = !eng.headline;
  // the skills being edited: [{id, level, vetted}]
  let skills = (eng.skills || []).map((s) => ({ id: s.id, level: s.self_level, vetted: s.vetted_level || 0 }));

  // ---- the vetted picture
  const vetted = (eng.skills || []).filter((s) => s.vetted_level);
  const vettedCard = v.status === 'vetted' || vetted.length
    ? card('Your vetted skill levels',
      h('p', { class: 'meta' }, 'Confirmed by a vetter at your interview. These are what matching uses; you cannot change them.'),
      vetted.length ? h('div', { class: 'skill-chart' }, skillLevels(vetted.map((s) => ({ name: skillName(cat, s.id), level: s.vetted_level }))))
        : h('p', 'No skill levels were confirmed.'))
    : null;

  // ---- the form
  const rate = eng.hourly_rate;
  const currency = rate?.currency || 'USD';
  const tzSel = select('timezone', zones().map((z) => [z, z.replace(/_/g, ' ')]), eng.timezone || viewerZone, { autocomplete: 'off' });
  const rateInput = h('input', { type: 'text', name: 'rate', inputmode: 'decimal', class: 'w-s', autocomplete: 'off',
    value: rate ? fromMinor(rate.amount, rate.currency) : '', 'aria-describedby': 'rate-hint' });
  const curSel = select('currency', CURRENCIES.map((c) => [c, c]), currency, { class: 'w-s', 'aria-label': 'Currency' });
  const ratePreview = h('p', { class: 'hint', 'aria-live': 'polite' });
  const updatePreview = () => {
    const m = toMinor(rateInput.value, curSel.value);
    ratePreview.textContent = m ? `Clients see ${money(m, curSel.value)} an hour.` : '';
  };
  rateInput.addEventListener('input', updatePreview);
  curSel.addEventListener('change', updatePreview);
  updatePreview();

  const skillList = h('ul', { class: 'skill-rows' });
  const addSel = h('select', { name: 'add_skill' });
  const addBtn = h('button', { type: 'button', class: 'btn' }, 'Add skill');

  function fillAdd() {
    const chosen = new Set(skills.map((s) => s.id));
    addSel.replaceChildren(h('option', { value: '' }, 'Choose a skill…'),
      ...cat.groups.map((g) => h('optgroup', { label: g.name },
        g.skills.filter((s) => !chosen.has(s.id)).map((s) => h('option', { value: s.id }, s.name)))));
  }

  function drawSkills() {
    fillAdd();
    if (!skills.length) {
      skillList.replaceChildren(h('li', { class: 'muted skill-none' }, 'No skills yet. Add the ones you would be hired for; at least one is needed.'));
      return;
    }
    skillList.replaceChildren(...skills.map((s, i) => {
      const id = `skill-${s.id}`;
      const out = h('output', { for: id, class: 'skill-level-word' }, levelText(s.level));
      const range = h('input', { type: 'range', id, min: 1, max: 5, step: 1, value: s.level, class: 'skill-range',
        disabled: !!s.vetted, 'aria-valuetext': `${s.level} of 5: ${LEVEL_WORDS[s.level]}` });
      range.addEventListener('input', () => {
        s.level = Number(range.value);
        out.textContent = levelText(s.level);
        range.setAttribute('aria-valuetext', `${s.level} of 5: ${LEVEL_WORDS[s.level]}`);
      });
      const name = skillName(cat, s.id);
      return h('li', { class: 'field skill-row', dataset: { field: `skills[${i}]` } },
        h('label', { for: id }, name),
        h('div', { class: 'skill-controls' },
          range, out,
          s.vetted ? h('span', { class: 'meta' }, `Confirmed at ${s.vetted} by vetting`)
            : h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Remove ${name}`, onClick: () => {
              skills = skills.filter((x) => x !== s);
              drawSkills();
              addSel.focus();
            } }, 'Remove')));
    }));
  }
  addBtn.addEventListener('click', () => {
    const id = addSel.value;
    if (!id) { addSel.focus(); return; }
    skills.push({ id, level: 3, vetted: 0 });
    drawSkills();
    document.getElementById(`skill-${id}`)?.focus();
  });
  drawSkills();

  const linksText = (eng.links || []).join('\n');
  const form = h('form', { class: 'profile-form', novalidate: true },
    field({ label: 'Headline', name: 'headline', value: eng.headline || '', required: true,
      hint: 'One line clients see first, e.g. “Senior Python engineer: FastAPI and asyncpg”.', attrs: { maxlength: 120 } }),
    field({ label: 'About you', name: 'bio', required: true, hint: 'What you have built and run; numbers help.',
      input: h('textarea', { name: 'bio', rows: 6, maxlength: 5000, required: true }, eng.bio || '') }),
    h('div', { class: 'form-row' },
      h('div', { class: 'field', dataset: { field: 'hourly_rate' } },
        h('label', { for: 'rate-amount' }, 'Hourly rate'),
        h('p', { class: 'hint', id: 'rate-hint' }, 'In whole units with cents if any, e.g. 95 or 95.50. Between 5 and 1,000.'),
        h('div', { class: 'row' }, Object.assign(rateInput, { id: 'rate-amount' }), curSel),
        ratePreview),
      field({ label: 'Time zone', name: 'timezone', input: tzSel, required: true,
        hint: `Where you work from; clients see your overlap with them. Yours here: ${viewerZone.replace(/_/g, ' ')}.` })),
    h('div', { class: 'form-row' },
      field({ label: 'Hours a week', name: 'hours_per_week', type: 'number', value: eng.hours_per_week ?? '', required: true,
        hint: 'What you can give clients, 1 to 60.', attrs: { min: 1, max: 60, inputmode: 'numeric', class: 'w-s' } }),
      field({ label: 'Years of experience', name: 'years_experience', type: 'number', value: eng.years_experience ?? '', required: true,
        hint: 'Professional years, 0 to 50.', attrs: { min: 0, max: 50, inputmode: 'numeric', class: 'w-s' } })),
    field({ label: 'Links', name: 'links', required: false, hint: 'GitHub, a portfolio, talks: one https:// address a line, up to a few.',
      input: h('textarea', { name: 'links', rows: 3, spellcheck: 'false' }, linksText) }),
    h('div', { class: 'field', dataset: { field: 'available' } },
      h('label', { class: 'choice', for: 'available' },
        h('input', { type: 'checkbox', id: 'available', name: 'available', checked: eng.available !== false }),
        'Available for new work'),
      h('p', { class: 'hint' }, 'When off, matching does not invite you to new requests.')),
    h('div', { class: 'field', dataset: { field: 'skills' } },
      h('label', { for: 'add-skill' }, 'Skills'),
      h('p', { class: 'hint' }, 'Rate yourself honestly from 1 (aware of it) to 5 (expert: you teach it). A vetter confirms or corrects each level at the interview.'),
      h('div', { class: 'row skill-add' }, Object.assign(addSel, { id: 'add-skill' }), addBtn),
      skillList),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: v.status === 'registered' || fresh ? 'btn btn-primary' : 'btn' },
        fresh ? 'Save profile' : 'Save changes'),
      h('span', { class: 'form-status', role: 'status' })));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btn = form.querySelector('button[type=submit]');
    if (btn.disabled) return;
    clearErrors(form);
    const status = form.querySelector('.form-status');
    status.textContent = '';
    const fd = new FormData(form);
    const errors = [];
    const amount = toMinor(fd.get('rate'), fd.get('currency'));
    if (amount === null) errors.push({ field: 'hourly_rate', message: 'must be a number such as 95 or 95.50' });
    else if (amount < 500 || amount > 100000) {
      errors.push({ field: 'hourly_rate', message: `must be between ${money(500, fd.get('currency'))} and ${money(100000, fd.get('currency'))} an hour` });
    }
    const intOf = (k) => (String(fd.get(k) || '').trim() === '' ? NaN : Number(fd.get(k)));
    const body = {
      headline: String(fd.get('headline') || '').trim(),
      bio: String(fd.get('bio') || '').trim(),
      hourly_rate: { amount, currency: fd.get('currency') },
      timezone: fd.get('timezone'),
      hours_per_week: intOf('hours_per_week'),
      years_experience: intOf('years_experience'),
      links: String(fd.get('links') || '').split(/\s+/).map((s) => s.trim()).filter(Boolean),
      available: form.elements.available.checked,
      skills: skills.map((s) => ({ id: s.id, level: s.level })),
    };
    if (!body.headline) errors.push({ field: 'headline', message: 'is needed' });
    if (!body.bio) errors.push({ field: 'bio', message: 'is needed' });
    if (!Number.isInteger(body.hours_per_week)) errors.push({ field: 'hours_per_week', message: 'must be a whole number from 1 to 60' });
    if (!Number.isInteger(body.years_experience)) errors.push({ field: 'years_experience', message: 'must be a whole number from 0 to 50' });
    if (!body.skills.length) errors.push({ field: 'skills', message: 'needs at least one skill' });
    if (errors.length) {
      showGroupedErrors(form, new ApiError(422, { detail: 'Check the highlighted fields.', errors }));
      return;
    }
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      const out = await put('/api/v1/me/profile', body);
      const before = v.status;
      eng = out.engineer;
      toast(before === 'registered' ? 'Profile saved. Next: the assessment.' : 'Profile saved.', 'good');
      draw(view, ctx, eng, cat);
      view.querySelector('.next-step a, h1')?.focus();
    } catch (err) {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
      showGroupedErrors(form, err);
    }
  });

  const head = pageHead('Your profile', {
    sub: v.status === 'vetted' ? 'What clients see when matching invites you.' : 'What vetters and, once you are vetted, clients see.',
  });
  head.querySelector('h1').append(' ', vettingChip(v));

  mount(view,
    head,
    h('section', { class: 'card vet-progress', 'aria-labelledby': 'vet-progress-title' },
      h('h2', { id: 'vet-progress-title' }, 'Getting vetted'),
      stepper(v),
      nextStep(eng)),
    vettedCard,
    h('section', { class: 'card', 'aria-labelledby': 'profile-form-title' },
      h('h2', { id: 'profile-form-title' }, fresh ? 'Complete your profile' : 'Profile'),
      form));
}
