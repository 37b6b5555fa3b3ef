// landing: what Offline Pixel is, for someone who is not signed in: the
// journey from a request to an approved payment, the bar an engineer
// clears before anyone is matched to them (with live vetted counts per
// framework from GET /api/v1/frameworks), and what each side gets.
// Space for the figures is held from the first paint, so nothing moves
// when they arrive.
import { h, mount, svg } from '../dom.js';
import { get } from '../api.js';

// the five frameworks of the skills catalog, in the order the nav shows them
export const FRAMEWORKS = [
  { id: 'fastapi', name: 'FastAPI' },
  { id: 'sanic', name: 'Sanic' },
  { id: 'django-async', name: 'Django (async)' },
  { id: 'aiohttp', name: 'aiohttp' },
  { id: 'starlette', name: 'Starlette' },
];

const JOURNEY = [
  ['Raise a request', 'Frameworks, must-have skills, seniority, budget, your time zone and the overlap you need.'],
  ['Matched within 8 hours', 'A ranked shortlist the moment you submit, each candidate with the reasons they are there. Three acceptances make a match; the 8-hour clock is tracked and escalated.'],
  ['Talk to experts', 'A conversation per candidate, live. Propose up to three interview slots; both sides get a calendar invite.'],
  ['Fund into escrow', 'Offer a fixed price with milestones or an hourly contract. Each milestone is paid into escrow before work starts; the fee is shown before you confirm.'],
  ['Expert works', 'The engineer submits each milestone with a note and links, or a weekly timesheet.'],
  ['Review and approve', 'Approve to release the payment, ask for changes, or open a dispute. Silence for 14 days releases it automatically.'],
];

const RUBRIC = ['Core async concepts', 'Must-have skills', 'Testing async code', 'Production scenarios', 'Senior signals'];

/** A decorative picture of a ranked, explained shortlist (drawn, not an image). */
function shortlistPicture() {
  const rows = [[0.92, 'good'], [0.81, 'good'], [0.68, 'mid']];
  return svg('svg', { class: 'landing-art', viewBox: '0 0 280 200', 'aria-hidden': 'true', focusable: 'false' },
    svg('rect', { class: 'art-card', x: 1, y: 1, width: 278, height: 198, rx: 12 }),
    svg('rect', { class: 'art-line', x: 20, y: 20, width: 120, height: 10, rx: 5 }),
    svg('circle', { class: 'art-clock', cx: 248, cy: 26, r: 12 }),
    svg('path', { class: 'art-hand', d: 'M248 18v8l6 4' }),
    rows.map(([frac, tone], i) => {
      const y = 52 + i * 48;
      return svg('g', null,
        svg('circle', { class: 'art-avatar', cx: 34, cy: y + 16, r: 14 }),
        svg('rect', { class: 'art-line', x: 58, y: y + 4, width: 90, height: 8, rx: 4 }),
        svg('rect', { class: 'art-track', x: 58, y: y + 20, width: 160, height: 8, rx: 4 }),
        svg('rect', { class: tone === 'good' ? 'art-fill' : 'art-fill-2', x: 58, y: y + 20, width: 160 * frac, height: 8, rx: 4 }),
        svg('path', { class: 'art-check', d: `M236 ${y + 16}l6 6 12-12` }));
    }));
}

/** A small line icon for each journey step. */
const STEP_ICONS = [
  'M6 4h9l5 5v11H6z M15 4v5h5 M9 13h8 M9 17h5', // request form
  'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z M12 7v5l3 3', // clock
  'M4 5h16v10H9l-5 4z', // chat
  'M4 8h16v11H4z M4 8l8-4 8 4 M12 12v4', // vault
  'M8 9l-4 3 4 3 M16 9l4 3-4 3 M13 6l-2 12', // code
  'M5 12l4 4 10-10', // approve
];
function stepIcon(i) {
  return svg('svg', { class: 'step-icon', viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' },
    svg('path', { d: STEP_ICONS[i] }));
}

function frameworkCard(fw) {
  const count = h('span', { class: 'fw-count', dataset: { framework: fw.id } }, '—');
  const label = h('span', { class: 'fw-label' }, 'vetted engineers');
  const a = h('a', { class: 'fw-card', href: `/hire/${fw.id}` },
    h('span', { class: 'fw-name' }, fw.name), h('span', { class: 'fw-figure' }, count, ' ', label),
    h('span', { class: 'fw-more' }, `See ${fw.name} engineers`, h('span', { 'aria-hidden': 'true' }, ' →')));
  return { el: h('li', a), count, label, a, fw };
}

export default async function render(view, ctx) {
  ctx.title('Hire vetted async Python engineers');
  const cards = FRAMEWORKS.map(frameworkCard);
  const figureNote = h('p', { class: 'meta fw-note', role: 'status' }, 'Loading the latest figures…');
  const total = h('span', { class: 'fw-total' }, '');

  mount(view,
    h('section', { class: 'hero landing-hero', 'aria-labelledby': 'landing-title' },
      h('div', { class: 'landing-hero-text' },
        h('h1', { id: 'landing-title' }, 'Hire async Python engineers who have proven it'),
        h('p', 'FastAPI, Sanic, async Django, aiohttp and Starlette engineers who passed a timed assessment and a scored interview. A ranked, explained shortlist the moment you ask; a match within 8 hours; your money held in escrow until you approve.'),
        h('div', { class: 'actions' },
          h('a', { class: 'btn btn-primary', href: `/signup?role=client&next=${encodeURIComponent('/requests/new')}` }, 'Raise a request'),
          h('a', { class: 'btn', href: '/signup?role=engineer' }, 'Apply as an engineer')),
        h('p', { class: 'meta' }, 'Already have an account? ', h('a', { href: '/signin' }, 'Sign in'), '.')),
      shortlistPicture()),

    h('section', { class: 'landing-section', 'aria-labelledby': 'how' },
      h('h2', { id: 'how' }, 'How it works'),
      h('ol', { class: 'steps landing-steps' },
        JOURNEY.map(([title, text], i) => h('li', h('div', { class: 'step-head' }, stepIcon(i), h('h3', title)), h('p', text))))),

    h('section', { class: 'landing-section', id: 'frameworks', tabindex: '-1', 'aria-labelledby': 'fw-title' },
      h('div', { class: 'spread' }, h('h2', { id: 'fw-title' }, 'Vetted engineers by framework'), total),
      h('p', 'Only engineers who cleared every step below are ever matched. Pick a framework to see their levels, rates and vetted skills.'),
      h('ul', { class: 'fw-grid' }, cards.map((c) => c.el)),
      figureNote),

    h('section', { class: 'landing-section', 'aria-labelledby': 'bar' },
      h('h2', { id: 'bar' }, 'The vetting bar'),
      h('ol', { class: 'bar-steps' },
        h('li', { class: 'card' },
          h('h3', '1. A timed assessment'),
          h('p', '20 questions on real async Python, drawn at random from a bank of 72 and shuffled, in 30 minutes. The pass mark is 70% (14 of 20). Answers never reach the browser before grading; retakes are limited.'),
          passMark()),
        h('li', { class: 'card' },
          h('h3', '2. A structured interview'),
          h('p', 'A vetter scores five rubric areas from 1 to 5, with notes, and confirms or corrects every self-rated skill level:'),
          h('ul', { class: 'rubric' }, RUBRIC.map((r) => h('li', r))))),
      h('p', { class: 'notice notice-info' }, h('strong', 'Only vetted engineers are matched. '),
        'Each is vetted at a level (mid, senior or staff), and every step is recorded in an audit trail.')),

    h('section', { class: 'landing-section', 'aria-labelledby': 'get' },
      h('h2', { id: 'get' }, 'What each side gets'),
      h('div', { class: 'grid get-grid' },
        h('section', { class: 'card', 'aria-labelledby': 'get-clients' },
          h('h3', { id: 'get-clients' }, 'Clients'),
          h('ul', { class: 'ticks' },
            h('li', 'A ranked shortlist the moment you submit, with why each engineer is on it: must-haves, frameworks, seniority, time-zone overlap, rate.'),
            h('li', 'A match within 8 hours, tracked by the system; if it slips, the search widens and you are told honestly.'),
            h('li', 'Escrow on a double-entry ledger: every movement balances, and nothing is ever lost or moved twice.'),
            h('li', 'Fees shown before you confirm any payment.'),
            h('li', '14 days to review each submission; after that it releases automatically.'),
            h('li', 'Disputes settled by an admin, who can split a milestone between a release and a refund.')),
          h('a', { class: 'btn btn-primary', href: `/signup?role=client&next=${encodeURIComponent('/requests/new')}` }, 'Raise a request')),
        h('section', { class: 'card', 'aria-labelledby': 'get-engineers' },
          h('h3', { id: 'get-engineers' }, 'Engineers'),
          h('ul', { class: 'ticks' },
            h('li', 'No bidding: invitations come to you, matched on your vetted skills, rate and hours.'),
            h('li', 'Every milestone is funded into escrow before you start work.'),
            h('li', 'Paid on approval, or automatically 14 days after you submit if the client is silent.'),
            h('li', 'Your balance and payouts in one place; payouts go out in regular batches.'),
            h('li', 'Disputes decided by an admin, who can split a milestone between a release to you and a refund.'),
            h('li', 'Your vetted level and skills shown to clients, so you are not judged on a CV.')),
          h('a', { class: 'btn', href: '/signup?role=engineer' }, 'Apply as an engineer')))));

  // the figures fill the held space; a failure leaves the links working
  try {
    const d = await get('/api/v1/frameworks');
    if (!ctx.current) return;
    const byId = new Map((d.items || []).map((f) => [f.id, f]));
    let sum = 0;
    for (const c of cards) {
      const f = byId.get(c.fw.id);
      const n = f ? Number(f.vetted_count) || 0 : 0;
      sum += n;
      c.count.textContent = String(n);
      c.label.textContent = n === 1 ? 'vetted engineer' : 'vetted engineers';
    }
    total.textContent = `${sum} vetted in all`;
    figureNote.textContent = 'Counted live from the vetted pool.';
  } catch (err) {
    if (!ctx.current) return;
    figureNote.textContent = 'The live figures are not available right now; each framework page still shows its engineers when they are.';
  }
}

/** 14 of 20 as a row of squares: what 70% means. */
function passMark() {
  const cells = Array.from({ length: 20 }, (_, i) =>
    svg('rect', { class: i < 14 ? 'art-fill-2' : 'art-track', x: i * 14, y: 0, width: 11, height: 11, rx: 2 }));
  return h('figure', { class: 'pass-mark' },
    svg('svg', { viewBox: '0 0 277 11', role: 'img', 'aria-label': 'Pass mark: 14 of 20 questions correct' }, cells),
    h('figcaption', { class: 'meta' }, 'Pass: 14 of 20 correct'));
}
