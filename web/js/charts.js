// charts: small inline SVG pictures drawn from data, for where people
// would rather look than read: a candidate's score parts, skill levels,
// a countdown ring, money split into parts. Every chart carries a text
// alternative (role="img" with an aria-label, or a legend), so nothing is
// said only by colour or shape.
import { h, svg } from './dom.js';
import { duration } from './format.js';

/**
 * Horizontal bars: rows = [{label, value, max, text?}], each bar value/max;
 * `text` (e.g. a formatted amount) replaces the "value/max" after the bar.
 * Used for a candidate's score parts (explain) and for skill levels (1-5).
 */
export function bars(rows, { title, labelWidth = 120, valueWidth = 56, width = 360, rowHeight = 22, fill = 1 } = {}) {
  const height = rows.length * rowHeight;
  const barW = width - labelWidth - valueWidth;
  const desc = rows.map((r) => `${r.label}: ${r.text ?? `${fmt(r.value)} of ${r.max}`}`).join('; ');
  return svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${title ? `${title}. ` : ''}${desc}` },
    rows.map((r, i) => {
      const y = i * rowHeight;
      const w = r.max > 0 ? Math.max(0, Math.min(1, r.value / r.max)) * barW : 0;
      return svg('g', null,
        svg('text', { x: 0, y: y + rowHeight * 0.68, text: r.label }),
        svg('rect', { class: 'track', x: labelWidth, y: y + 4, width: barW, height: rowHeight - 8, rx: 3 }),
        svg('rect', { class: `fill-${r.fill || fill}`, x: labelWidth, y: y + 4, width: w, height: rowHeight - 8, rx: 3 }),
        svg('text', { x: labelWidth + barW + 6, y: y + rowHeight * 0.68, text: r.text ?? `${fmt(r.value)}/${r.max}` }));
    }));
}

function fmt(v) {
  return Number.isInteger(v) ? String(v) : Number(v).toFixed(1);
}

const EXPLAIN_PARTS = [
  ['must_have', 'Must-haves'], ['frameworks', 'Frameworks'], ['seniority', 'Seniority'], ['overlap', 'Overlap'],
  ['nice_to_have', 'Nice-to-haves'], ['rating', 'Rating'], ['rate', 'Rate fit'], ['responsiveness', 'Responsive'],
];

/** A candidate's score parts (the shortlist's `explain`) as bars. */
export function scoreParts(explain) {
  const rows = EXPLAIN_PARTS.filter(([k]) => explain && explain[k])
    .map(([k, label]) => ({ label, value: explain[k].points || 0, max: explain[k].max || 0 }));
  return bars(rows, { title: 'Score parts' });
}

/** Skill levels 1-5: skills = [{name|id, level}] */
export function skillLevels(skills, { title = 'Vetted skill levels' } = {}) {
  return bars(skills.map((s) => ({ label: s.name || s.id, value: s.level || 0, max: 5 })), { title, labelWidth: 150, fill: 2 });
}

/**
 * A ring that empties as a deadline nears, with the time left beside it.
 * secondsLeft/total; tone turns amber under a quarter, red when passed.
 */
export function countdownRing(secondsLeft, total, { label = 'left' } = {}) {
  const r = 16;
  const c = 2 * Math.PI * r;
  const frac = total > 0 ? Math.max(0, Math.min(1, secondsLeft / total)) : 0;
  const tone = secondsLeft <= 0 ? 'bad' : frac < 0.25 ? 'warn' : 'good';
  const text = secondsLeft <= 0 ? `overdue by ${duration(-secondsLeft)}` : `${duration(secondsLeft)} ${label}`;
  return h('span', { class: 'countdown' },
    svg('svg', { class: 'chart', viewBox: '0 0 40 40', 'aria-hidden': 'true' },
      svg('circle', { class: 'ring-track', cx: 20, cy: 20, r, 'stroke-width': 5 }),
      svg('circle', { class: `ring-${tone}`, cx: 20, cy: 20, r, 'stroke-width': 5, 'stroke-dasharray': `${c * frac} ${c}`,
        transform: 'rotate(-90 20 20)', 'stroke-linecap': 'round' })),
    h('span', text));
}

/**
 * One bar split into parts (money of a contract: released, in escrow,
 * refunded, not yet funded), with a legend that says each amount.
 * parts = [{label, value, text}] where text is the formatted amount.
 */
export function splitBar(parts, { title = 'Split', width = 360, height = 18 } = {}) {
  const total = parts.reduce((s, p) => s + Math.max(0, p.value), 0);
  let x = 0;
  const rects = parts.map((p, i) => {
    const w = total > 0 ? (Math.max(0, p.value) / total) * width : 0;
    const r = svg('rect', { class: p.fill === 0 ? 'track' : `fill-${p.fill || i + 1}`, x, y: 0, width: w, height });
    x += w;
    return r;
  });
  return h('div', null,
    svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-label': `${title}: ${parts.map((p) => `${p.label} ${p.text}`).join(', ')}` },
    svg('rect', { class: 'track', x: 0, y: 0, width, height, rx: 4 }), ...rects),
    h('ul', { class: 'legend' }, parts.map((p, i) => h('li',
      h('span', { class: `swatch swatch-${p.fill === 0 ? 0 : p.fill || i + 1}`, 'aria-hidden': 'true' }), `${p.label}: ${p.text}`))));
}
