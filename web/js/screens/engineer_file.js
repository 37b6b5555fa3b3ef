// engineer_file: a vetter's (or admin's) view of one engineer: the
// profile, skills self-rated and vetted, the assessment results, the audit
// trail as a timeline (who, when, from, to), and the scorecard that
// records the interview and decides: five rubric areas 1-5 with notes,
// each skill level confirmed or corrected, vetted at a level or rejected
// (POST /api/v1/engineers/{id}/scorecard). Afterwards, the new state.
import { h, mount } from '../dom.js';
import { ApiError, get, post, session } from '../api.js';
import { date, exactTime, money, stateLabel } from '../format.js';
import { card, chip, confirmDialog, failed, facts, field, loading, pageHead, table, timeAgo } from '../ui.js';
import { skillLevels } from '../charts.js';
import { LEVEL_WORDS, levelText, loadCatalog, radioGroup, showGroupedErrors, skillName, stepper, vettingChip } from './vetting_common.js';

const AREAS = [
  ['concepts', 'Core async concepts', 'The event loop, tasks, gather and wait, cancellation, timeouts.'],
  ['must_have', 'Must-have skills', 'Depth in the skills they would be hired for (see the list below).'],
  ['testing', 'Testing async code', 'pytest-asyncio, mocking awaitables, testing timeouts and races.'],
  ['production', 'Production scenarios', 'Backpressure, graceful shutdown, leaks, tracing, rate limits.'],
  ['senior', 'Senior signals', 'Trade-offs, ownership, explaining clearly, mentoring.'],
];
const SCORE_WORDS = ['', 'No evidence', 'Weak', 'Meets the bar', 'Strong', 'Exceptional'];
const LEVELS = [['mid', 'Mid'], ['senior', 'Senior'], ['staff', 'Staff']];
const ACTIONS = {
  'vetting.transition': 'State changed',
  'assessment.started': 'Started the assessment',
  'assessment.submitted': 'Submitted the assessment',
};

function who(actorId, eng) {
  if (!actorId) return 'The system';
  if (actorId === eng.id) return eng.name;
  if (actorId === session.me?.id) return `You (${session.me.name})`;
  return 'A vetter or admin';
}

function timeline(items, eng) {
  if (!items.length) return h('p', { class: 'muted' }, 'Nothing recorded yet.');
  return h('ol', { class: 'timeline audit' }, [...items].reverse().map((it) => h('li', { class: 'audit-item' },
    h('p', { class: 'item-title' }, ACTIONS[it.action] || stateLabel(it.action.replace(/\./g, '_')),
      it.from || it.to ? h('span', { class: 'audit-move' }, ': ', it.from ? chip(it.from) : null, it.from ? h('span', { 'aria-label': 'to' }, ' → ') : null, it.to ? chip(it.to) : null) : null),
    h('p', { class: 'meta' }, who(it.actor_id, eng), ' · ', h('time', { datetime: it.at, title: exactTime(it.at) }, exactTime(it.at)), ' · ', timeAgo(it.at)))));
}

function quizCard(eng, audit, queued) {
  const started = audit.filter((a) => a.action === 'assessment.started');
  const submitted = audit.filter((a) => a.action === 'assessment.submitted');
  const passedAt = audit.find((a) => a.action === 'vetting.transition' && a.to === 'assessment_passed');
  const rows = [];
  if (queued?.assessment) rows.push(['Passing score', h('strong', `${queued.assessment.score} of ${queued.assessment.total}`), ' (pass mark 14)']);
  rows.push(['Attempts started', String(started.length)]);
  rows.push(['Attempts submitted', String(submitted.length)]);
  if (passedAt) rows.push(['Passed', exactTime(passedAt.at)]);
  return card('Assessment',
    facts(rows.map(([k, ...v]) => [k, h('span', ...v)])),
    !queued?.assessment && passedAt ? h('p', { class: 'meta' }, 'The score is shown while the engineer is in the queue; this server does not give a vetter past scores.') : null);
}

export default async function render(view, ctx) {
  loading(view, 'Loading the engineer’s file');
  const id = ctx.params.id;
  let eng; let audit; let cat; let queue;
  try {
    [eng, audit, cat, queue] = await Promise.all([
      get(`/api/v1/engineers/${encodeURIComponent(id)}`).then((d) => d.engineer),
      get(`/api/v1/engineers/${encodeURIComponent(id)}/audit`).then((d) => d.items || []),
      loadCatalog(),
      get('/api/v1/vetting/queue').then((d) => d.items || []).catch(() => []),
    ]);
  } catch (err) {
    if (err.status === 404) {
      mount(view, pageHead('Engineer not found'), h('p', 'There is no engineer with this address.'), h('p', h('a', { href: '/vetting' }, 'Back to the queue')));
      return;
    }
    failed(view, err, () => render(view, ctx));
    return;
  }
  if (!ctx.current) return;
  ctx.title(eng.name);
  const queued = queue.find((q) => q.engineer.id === eng.id);
  draw(view, ctx, eng, audit, cat, queued);
}

function draw(view, ctx, eng, audit, cat, queued, justDecided) {
  const v = eng.vetting || {};
  const skills = eng.skills || [];

  const profile = card('Profile',
    eng.headline ? null : h('p', { class: 'muted' }, 'No profile yet.'),
    eng.bio ? h('p', { class: 'bio' }, eng.bio) : null,
    facts([
      eng.email ? ['Email', h('a', { href: `mailto:${eng.email}` }, eng.email)] : null,
      eng.hourly_rate ? ['Rate', `${money(eng.hourly_rate)} an hour`] : null,
      eng.timezone ? ['Time zone', eng.timezone.replace(/_/g, ' ')] : null,
      eng.hours_per_week != null ? ['Hours a week', String(eng.hours_per_week)] : null,
      eng.years_experience != null ? ['Experience', `${eng.years_experience} years`] : null,
      ['Available', eng.available ? 'Yes' : 'No'],
      (eng.links || []).length ? ['Links', h('ul', { class: 'plain' }, eng.links.map((l) => h('li', h('a', { href: l, rel: 'noopener noreferrer', target: '_blank' }, l))))] : null,
      v.status === 'rejected' && v.reapply_after ? ['May re-apply', date(v.reapply_after)] : null,
    ]));

  const vettedOnes = skills.filter((s) => s.vetted_level);
  const skillsCard = card('Skills',
    skills.length ? table(['Skill', 'Area', 'Self-rated', 'Vetted'],
      skills.map((s) => [skillName(cat, s.id), cat?.groupOf.get(s.id) || '', levelText(s.self_level), s.vetted_level ? levelText(s.vetted_level) : h('span', { class: 'muted' }, 'Not yet')]),
      { caption: 'Self-rated by the engineer; vetted at the interview' }) : h('p', { class: 'muted' }, 'No skills listed.'),
    vettedOnes.length ? h('div', { class: 'skill-chart' }, skillLevels(vettedOnes.map((s) => ({ name: skillName(cat, s.id), level: s.vetted_level })))) : null);

  const decided = justDecided ? h('div', { class: 'notice notice-good', role: 'status' },
    h('p', h('strong', v.status === 'vetted' ? `${eng.name} is vetted${v.level ? ` as ${v.level}` : ''}. ` : `${eng.name} was not vetted. `),
      v.status === 'vetted' ? 'They are in matching from now on: client requests that fit their vetted skills invite them.'
        : `They may re-apply from ${date(v.reapply_after)}.`),
    h('a', { class: 'btn btn-primary', href: '/vetting' }, 'Back to the queue')) : null;

  let scoreSection;
  if (v.status === 'assessment_passed') {
    scoreSection = scorecard(view, ctx, eng, audit, cat, queued);
  } else if (!justDecided) {
    const why = {
      registered: 'The engineer has not completed their profile yet.',
      profile_complete: 'The engineer has not passed the assessment yet; the scorecard opens once they do.',
      interviewed: 'A scorecard is recorded; the decision is pending.',
      vetted: `Vetted${v.level ? ` as ${v.level}` : ''}: the scorecard is recorded.`,
      rejected: 'Not vetted: the scorecard is recorded.',
    }[v.status] || '';
    scoreSection = card('Scorecard', h('p', why));
  }

  const head = pageHead(eng.name, { sub: eng.headline || '' , actions: h('a', { class: 'btn', href: '/vetting' }, 'Queue') });
  head.querySelector('h1').append(' ', vettingChip(v));
  mount(view,
    head,
    decided,
    h('section', { class: 'card', 'aria-labelledby': 'ef-progress' }, h('h2', { id: 'ef-progress' }, 'Where they are'), stepper(v, { staff: true })),
    h('div', { class: 'cols ef-cols' },
      h('div', { class: 'stack' }, profile, skillsCard, scoreSection),
      h('div', { class: 'stack' }, quizCard(eng, audit, queued),
        h('section', { class: 'card', 'aria-labelledby': 'ef-audit' }, h('h2', { id: 'ef-audit' }, 'History'), timeline(audit, eng)))));
  if (justDecided) view.querySelector('.notice')?.focus?.();
}

function scorecard(view, ctx, eng, audit, cat, queued) {
  const skills = eng.skills || [];
  const areaFields = AREAS.map(([key, title, hint]) => h('div', { class: 'rubric-area' },
    radioGroup({ legend: title, name: `scores.${key}`, group: `scores.${key}`, hint,
      options: [1, 2, 3, 4, 5].map((n) => [n, h('span', h('strong', String(n)), ` ${SCORE_WORDS[n]}`)]), cls: 'choices score-choices' }),
    field({ label: `Notes on ${title.toLowerCase()}`, name: `note_${key}`, required: false,
      input: h('textarea', { name: `note_${key}`, rows: 2, maxlength: 800 }) })));

  const skillRows = skills.map((s, i) => {
    const sel = h('select', { name: `skill_${s.id}`, class: 'w-m' },
      h('option', { value: '' }, 'Not assessed: leave unconfirmed'),
      [1, 2, 3, 4, 5].map((n) => h('option', { value: String(n), selected: n === (s.vetted_level || s.self_level) },
        `${n} – ${LEVEL_WORDS[n]}${n === s.self_level ? ' (as self-rated)' : ''}`)));
    return field({ label: `${skillName(cat, s.id)}: self-rated ${s.self_level}`, name: `skill_${s.id}`, input: sel, required: false,
      hint: i === 0 ? 'Confirm the level you saw in the interview, or correct it. A confirmed level is what matching uses.' : undefined });
  });

  const levelGroup = radioGroup({ legend: 'Level', name: 'level', options: LEVELS, hint: 'Matching fits seniority to what clients ask for.' });
  levelGroup.classList.add('level-group');
  const decision = radioGroup({ legend: 'Your decision', name: 'decision', options: [['vetted', 'Vet: they meet the bar'], ['rejected', 'Reject: not this time (they may re-apply in 90 days)']] });
  const syncLevel = () => { levelGroup.hidden = form.elements.decision.value !== 'vetted'; };

  const submitBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Record the scorecard');
  const form = h('form', { class: 'scorecard', novalidate: true, 'aria-labelledby': 'sc-title' },
    h('h3', 'Rubric'),
    h('p', { class: 'hint' }, 'Score each area from 1 (no evidence) to 5 (exceptional). Notes are optional and go into the scorecard’s notes.'),
    areaFields,
    h('h3', 'Skill levels'),
    skills.length ? skillRows : h('p', { class: 'muted' }, 'No skills listed.'),
    h('h3', 'Decision'),
    decision,
    levelGroup,
    field({ label: 'Overall notes', name: 'notes', required: true, hint: 'What you saw, for the record and for the next vetter. Not shown to the engineer.',
      input: h('textarea', { name: 'notes', rows: 5, maxlength: 4000, required: true }) }),
    h('div', { class: 'actions' }, submitBtn));
  form.addEventListener('change', (ev) => { if (ev.target.name === 'decision') syncLevel(); });
  syncLevel();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (submitBtn.disabled) return;
    const fd = new FormData(form);
    const errors = [];
    const scores = {};
    for (const [key] of AREAS) {
      const val = fd.get(`scores.${key}`);
      if (!val) errors.push({ field: `scores.${key}`, message: 'needs a score from 1 to 5' });
      else scores[key] = Number(val);
    }
    const confirmList = skills.filter((s) => fd.get(`skill_${s.id}`)).map((s) => ({ id: s.id, level: Number(fd.get(`skill_${s.id}`)) }));
    const dec = fd.get('decision');
    if (!dec) errors.push({ field: 'decision', message: 'choose vet or reject' });
    const level = dec === 'vetted' ? fd.get('level') : null;
    if (dec === 'vetted' && !level) errors.push({ field: 'level', message: 'choose mid, senior or staff' });
    const overall = String(fd.get('notes') || '').trim();
    if (!overall) errors.push({ field: 'notes', message: 'are needed' });
    const areaNotes = AREAS.map(([key, title]) => [title, String(fd.get(`note_${key}`) || '').trim()]).filter(([, t]) => t);
    const notes = [overall, ...areaNotes.map(([t, n]) => `${t} (${scores[AREAS.find((a) => a[1] === t)[0]] || '?'}/5): ${n}`)].join('\n\n');
    if (notes.length > 5000) errors.push({ field: 'notes', message: `are ${notes.length} characters with the area notes; at most 5,000` });
    if (errors.length) {
      showGroupedErrors(form, new ApiError(422, { detail: 'Check the highlighted fields.', errors }));
      return;
    }
    const corrected = confirmList.filter((c) => c.level !== skills.find((s) => s.id === c.id).self_level).length;
    const ok = await confirmDialog({
      title: dec === 'vetted' ? `Vet ${eng.name} as ${level}?` : `Reject ${eng.name}?`,
      body: [dec === 'vetted'
        ? `They join matching at once: client requests that fit invite them. ${confirmList.length} skill level${confirmList.length === 1 ? '' : 's'} confirmed${corrected ? `, ${corrected} corrected` : ''}; confirmed levels cannot be changed by the engineer.`
        : 'They are told they were not vetted and may start again in 90 days.',
      'A scorecard cannot be edited afterwards.'],
      confirm: dec === 'vetted' ? `Vet as ${level}` : 'Reject', tone: dec === 'vetted' ? 'primary' : 'danger',
    });
    if (!ok) return;
    submitBtn.disabled = true;
    submitBtn.setAttribute('aria-busy', 'true');
    const body = { scores, skills: confirmList, decision: dec, notes };
    if (level) body.level = level;
    try {
      const out = await post(`/api/v1/engineers/${encodeURIComponent(eng.id)}/scorecard`, body);
      const fresh = await get(`/api/v1/engineers/${encodeURIComponent(eng.id)}/audit`).then((d) => d.items || []).catch(() => audit);
      if (ctx.current) draw(view, ctx, out.engineer, fresh, cat, queued, true);
    } catch (err) {
      submitBtn.disabled = false;
      submitBtn.removeAttribute('aria-busy');
      // skills[i] from the server counts the confirmed list we sent
      if (err instanceof ApiError) {
        err.errors = err.errors.map((e) => {
          const m = /^skills\[(\d+)\]/.exec(e.field || '');
          return m && confirmList[Number(m[1])] ? { ...e, field: `skill_${confirmList[Number(m[1])].id}` } : e;
        });
      }
      if (err.status === 409) {
        err.detail = `${err.detail}. Someone may have recorded a scorecard already: reload to see the current state.`;
      }
      showGroupedErrors(form, err);
    }
  });

  return h('section', { class: 'card', 'aria-labelledby': 'sc-title' },
    h('h2', { id: 'sc-title' }, 'Scorecard'),
    h('p', { class: 'meta' }, `Record the interview with ${eng.name}.${queued ? ` Quiz: ${queued.assessment.score}/${queued.assessment.total}.` : ''}`),
    form);
}
