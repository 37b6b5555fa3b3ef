// hire: one framework's vetted pool, for anyone (GET /api/v1/frameworks/{id}):
// how many engineers are vetted, at which levels, the hourly rate range,
// a few anonymised vetted-skill profiles, and the one next step: start a
// request with this framework (signed out: through sign-up first).
import { h, mount, svg } from '../dom.js';
import { get } from '../api.js';
import { money } from '../format.js';
import { card, pageHead } from '../ui.js';
import { bars } from '../charts.js';
import { FRAMEWORKS } from './landing.js';

const LEVELS = [['mid', 'Mid'], ['senior', 'Senior'], ['staff', 'Staff']];
const LEVEL_NAME = Object.fromEntries(LEVELS);

function levelChip(level) {
  return h('span', { class: 'chip chip-info level-chip', dataset: { level: level || '' } }, LEVEL_NAME[level] || 'Vetted');
}

/** Where "Start a request" goes: the form for a client, sign-up first when signed out. */
function startHref(id, me) {
  const form = `/requests/new?framework=${encodeURIComponent(id)}`;
  if (!me) return `/signup?role=client&next=${encodeURIComponent(form)}`;
  return form;
}

function otherFrameworks(current) {
  return h('nav', { class: 'fw-switch', 'aria-label': 'Frameworks' },
    h('h2', { class: 'sr-only' }, 'Other frameworks'),
    h('ul', FRAMEWORKS.map((f) => h('li',
      h('a', { href: `/hire/${f.id}`, 'aria-current': f.id === current ? 'page' : null }, f.name)))));
}

/** How many at each level: one bar split into the three, with a legend that says the counts. */
function levelsPicture(levels, total) {
  const counts = LEVELS.map(([k, label]) => ({ k, label, n: Number(levels?.[k]) || 0 }));
  const sum = counts.reduce((s, c) => s + c.n, 0) || 0;
  const width = 360;
  let x = 0;
  const rects = counts.map((c, i) => {
    const w = sum > 0 ? (c.n / sum) * width : 0;
    const r = svg('rect', { class: `fill-${i + 1}`, x, y: 0, width: w, height: 20 });
    x += w;
    return r;
  });
  const desc = counts.map((c) => `${c.label} ${c.n}`).join(', ');
  return h('div', { class: 'levels' },
    svg('svg', { class: 'chart', viewBox: `0 0 ${width} 20`, role: 'img', 'aria-label': `Vetted levels: ${desc}` },
      svg('rect', { class: 'track', x: 0, y: 0, width, height: 20, rx: 4 }), ...rects),
    h('ul', { class: 'legend' }, counts.map((c, i) => h('li',
      h('span', { class: `swatch swatch-${i + 1}`, 'aria-hidden': 'true' }),
      `${c.label}: ${c.n}${sum ? ` (${Math.round((c.n / sum) * 100)}%)` : ''}`))),
    total && sum !== total ? h('p', { class: 'meta' }, `${total - sum} without a recorded level.`) : null);
}

/** min, median and max hourly rate on one line, each named in text too. */
function ratePicture(rate) {
  const { min, median, max, currency } = rate;
  const span = Math.max(1, max - min);
  const pos = (v) => 12 + ((v - min) / span) * 336;
  const label = `Hourly rates from ${money(min, currency)} to ${money(max, currency)}, median ${money(median, currency)}`;
  return h('div', { class: 'rate-range' },
    svg('svg', { class: 'chart', viewBox: '0 0 360 28', role: 'img', 'aria-label': label },
      svg('rect', { class: 'track', x: 12, y: 11, width: 336, height: 6, rx: 3 }),
      svg('rect', { class: 'fill-1', x: 12, y: 11, width: 336, height: 6, rx: 3 }),
      svg('circle', { class: 'rate-end', cx: pos(min), cy: 14, r: 6 }),
      svg('circle', { class: 'rate-end', cx: pos(max), cy: 14, r: 6 }),
      svg('circle', { class: 'rate-median', cx: pos(median), cy: 14, r: 9 })),
    h('dl', { class: 'rate-figures' },
      h('div', h('dt', 'Lowest'), h('dd', money(min, currency))),
      h('div', h('dt', 'Median'), h('dd', money(median, currency))),
      h('div', h('dt', 'Highest'), h('dd', money(max, currency)))));
}

/** charts.skillLevels with room for the catalog's longer names ("Async context managers"). */
function skillBars(skills) {
  return bars(skills.map((s) => ({ label: s.name || s.id, value: s.level || 0, max: 5 })),
    { title: 'Vetted skill levels', labelWidth: 175, width: 380, fill: 2 });
}

function profileCard(p, i) {
  const skills = (p.skills || []).slice().sort((a, b) => (b.level || 0) - (a.level || 0));
  const id = `profile-${i}`;
  return h('li', { class: 'card profile-card', 'aria-labelledby': id },
    h('div', { class: 'row' }, levelChip(p.level),
      p.years_experience != null ? h('span', { class: 'meta' }, `${p.years_experience} ${p.years_experience === 1 ? 'year' : 'years'}`) : null,
      p.timezone ? h('span', { class: 'meta' }, p.timezone.replace(/_/g, ' ')) : null),
    h('h3', { id }, p.headline || 'Vetted async Python engineer'),
    skills.length ? skillBars(skills.slice(0, 6)) : h('p', { class: 'meta' }, 'No vetted skill levels recorded yet.'));
}

function notFound(view, ctx, id) {
  ctx.title('Framework not found');
  mount(view,
    pageHead('We do not match engineers for that framework'),
    h('p', `"${id}" is not one of the frameworks our engineers are vetted on. These five are:`),
    h('ul', { class: 'fw-links' }, FRAMEWORKS.map((f) => h('li', h('a', { href: `/hire/${f.id}` }, `${f.name} engineers`)))),
    h('p', h('a', { href: '/#frameworks' }, 'See every framework on the home page'), '.'));
}

export default async function render(view, ctx) {
  const id = ctx.params.framework;
  const known = FRAMEWORKS.find((f) => f.id === id);
  if (!known) { notFound(view, ctx, id); return; }

  let d = null;
  let problem = null;
  try {
    d = await get(`/api/v1/frameworks/${encodeURIComponent(id)}`);
  } catch (err) {
    problem = err;
  }
  if (!ctx.current) return;
  const name = known.name; // the short name (the catalog's can be long: "Django (async views, ORM)")
  ctx.title(`Hire ${name} engineers`);
  const me = ctx.me;
  const canStart = !me || me.role === 'client';
  const start = canStart
    ? h('a', { class: 'btn btn-primary', href: startHref(id, me) }, `Start a request with ${name}`)
    : null;
  const startNote = me && !canStart
    ? h('p', { class: 'meta' }, 'Requests are raised from a client account.')
    : (!me ? h('p', { class: 'meta' }, 'You will create a free client account first; it takes a minute.') : null);

  const head = pageHead(`Hire vetted ${name} engineers`, {
    sub: 'Every engineer here passed a timed async Python assessment and a scored interview with a vetter.',
    actions: start,
  });

  if (!d) {
    mount(view, head, otherFrameworks(id),
      h('div', { class: 'notice notice-warn', role: 'status' },
        h('p', h('strong', 'The figures for this framework are not available right now. '), problem?.detail || ''),
        h('p', 'You can still raise a request: the shortlist is ranked from the whole vetted pool the moment you submit.')),
      startNote);
    return;
  }

  const total = Number(d.vetted_count) || 0;
  const profiles = d.profiles || [];
  mount(view, head, otherFrameworks(id),
    h('div', { class: 'kpis' },
      h('div', { class: 'kpi' }, h('div', { class: 'kpi-value', dataset: { figure: 'vetted_count' } }, String(total)),
        h('div', { class: 'kpi-label' }, total === 1 ? 'vetted engineer' : 'vetted engineers')),
      h('div', { class: 'kpi' }, h('div', { class: 'kpi-value' }, d.rate ? money(d.rate.median, d.rate.currency) : '—'),
        h('div', { class: 'kpi-label' }, 'median hourly rate'))),
    total === 0
      ? h('div', { class: 'notice notice-info' },
        h('p', h('strong', `No ${name} engineers are vetted yet. `),
          'Raise a request anyway: it is matched against every vetted engineer, and the 8-hour clock still runs.'))
      : h('div', { class: 'hire-figures' },
        card('Levels', h('p', { class: 'meta' }, 'The level each engineer was vetted at.'), levelsPicture(d.levels, total)),
        card('Hourly rates', d.rate ? ratePicture(d.rate) : h('p', { class: 'meta' }, 'No rates published yet.'))),
    h('section', { 'aria-labelledby': 'profiles-title', class: 'hire-profiles' },
      h('h2', { id: 'profiles-title' }, 'Some of the vetted engineers'),
      h('p', { class: 'meta' }, 'Anonymised: names and contact details are shared once you are talking. Bars are vetted skill levels, 1 to 5, confirmed in the interview.'),
      profiles.length
        ? h('ul', { class: 'grid profile-grid' }, profiles.map(profileCard))
        : h('p', 'No profiles to show yet.')),
    h('section', { class: 'card hire-cta', 'aria-labelledby': 'cta-title' },
      h('h2', { id: 'cta-title' }, `Ready to hire a ${name} engineer?`),
      h('p', 'A ranked shortlist, with why each engineer is on it, the moment you submit; a match within 8 hours; escrow until you approve.'),
      start ? h('div', { class: 'actions' }, start.cloneNode(true)) : null, startNote ? startNote.cloneNode(true) : null));
}
