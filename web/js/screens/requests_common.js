// requests_common: what the client's request screens and the engineer's
// invitations share: the SLA ring that ticks (the 8-hour match clock, or
// an invitation's 24 hours), a request's terms said in words, skill tags
// with the catalog's names, and the budget in the request's own terms.
import { h, mount } from '../dom.js';
import { date, money } from '../format.js';
import { countdownRing } from '../charts.js';
import { facts } from '../ui.js';
import { loadCatalog, serverOffset, skillName } from './vetting_common.js';

export { loadCatalog, skillName };

export const SLA_SECONDS = 8 * 3600;
export const INVITE_SECONDS = 24 * 3600;
export const OPEN = new Set(['matching', 'matched', 'breached']);

// the server's clock minus ours (it may run on a test clock): deadlines are the server's times
let offset = 0;
let offsetAt = 0;
let learned = false;
/** Reads the server's clock offset (at most once a minute); screens await it with their data. */
export async function syncClock() {
  if (learned || Date.now() - offsetAt < 60000) return offset;
  offset = await serverOffset();
  offsetAt = Date.now();
  return offset;
}
/**
 * A request read from the server says how long its SLA has left, which
 * pins the server's clock even when the Date header does not (a test clock).
 */
export function learnClock(req) {
  if (req?.status === 'matching' && req.sla_seconds_left > 0) {
    offset = new Date(req.sla_deadline).getTime() - req.sla_seconds_left * 1000 - Date.now();
    offsetAt = Date.now();
    learned = true;
    return;
  }
  // otherwise the latest thing that happened is no later than the server's now
  const times = [req?.created_at, req?.matched_at, req?.breached_at,
    ...(req?.candidates || []).flatMap((c) => [c.invited_at, c.responded_at])].filter(Boolean).map((t) => new Date(t).getTime());
  const floor = times.length ? Math.max(...times) : 0;
  if (floor > Date.now() + offset) { offset = floor - Date.now(); offsetAt = Date.now(); learned = true; }
}
const serverNow = () => Date.now() + offset;

// every ring on the page ticks from one timer; a ring dropped from the page is forgotten
const rings = new Set();
setInterval(() => {
  for (const r of rings) {
    if (!r.el.isConnected) { if (r.mounted) rings.delete(r); continue; }
    r.mounted = true;
    r.draw();
  }
}, 15000);

/**
 * A countdown ring to `deadline` (ms since the epoch, on the server's
 * clock) over `total` seconds that redraws itself every 15 s.
 */
export function liveRing(deadline, total, { label = 'left', done, overdue = false } = {}) {
  const el = h('span', { class: 'sla-ring' });
  const r = { el, mounted: false };
  r.draw = () => {
    const left = Math.round((deadline - serverNow()) / 1000);
    // the server says it passed while our clock disagrees (a test clock): say only that
    const disagree = overdue && left > 0;
    const ring = countdownRing(disagree ? -1 : left, total, { label });
    if (disagree) ring.lastChild.textContent = 'deadline passed';
    if (left <= 0 && done) mount(el, done); else mount(el, ring);
  };
  r.draw();
  rings.add(r);
  return el;
}

/** A request's 8-hour SLA as a ring while it is matching or breached (overdue). */
export function slaRing(req) {
  if (req.status !== 'matching' && req.status !== 'breached') return null;
  return liveRing(new Date(req.sla_deadline).getTime(), SLA_SECONDS, { label: 'to match', overdue: req.status === 'breached' });
}

/** An invitation's 24 hours to answer. */
export function inviteRing(inv) {
  const end = new Date(inv.expires_at).getTime();
  const total = (end - new Date(inv.invited_at).getTime()) / 1000 || INVITE_SECONDS;
  return liveRing(end, total, { label: 'to answer' });
}

/** "$150.00 an hour at most" / "$12,000.00 in total (about 8 weeks)" */
export function budgetWords(req) {
  if (!req?.budget) return '—';
  if (req.engagement === 'hourly') return `${money(req.budget)} an hour at most`;
  const weeks = req.estimated_weeks ? ` over about ${req.estimated_weeks} week${req.estimated_weeks === 1 ? '' : 's'}` : '';
  return `${money(req.budget)} in total${weeks}`;
}

export function engagementWords(e) {
  return e === 'hourly' ? 'Hourly' : e === 'fixed' ? 'Fixed price' : '—';
}

const SENIORITY = { mid: 'Mid-level', senior: 'Senior', staff: 'Staff' };
export const seniorityWords = (s) => SENIORITY[s] || s || '—';

/** Skill ids as tags with their catalog names. */
export function skillTags(cat, ids, { cls = '' } = {}) {
  if (!ids || !ids.length) return h('span', { class: 'meta' }, 'none');
  return h('ul', { class: 'tags' }, ids.map((id) => h('li', { class: ['tag', cls] }, skillName(cat, id))));
}

/** The terms of a request as a definition list (the client's request page, an engineer's invitation). */
export function requestFacts(req, cat, { short = false } = {}) {
  return facts([
    ['Engagement', engagementWords(req.engagement)],
    ['Budget', budgetWords(req)],
    ['Seniority', seniorityWords(req.seniority)],
    ['Hours a week', String(req.hours_per_week ?? '—')],
    ['Must-haves', skillTags(cat, req.must_have, { cls: 'tag-must' })],
    req.nice_to_have?.length || !short ? ['Nice-to-haves', skillTags(cat, req.nice_to_have)] : null,
    req.frameworks?.length || !short ? ['Frameworks', skillTags(cat, req.frameworks)] : null,
    ['Time zone', `${(req.timezone || '—').replace(/_/g, ' ')}, at least ${req.min_overlap_hours ?? 0} h overlap`],
    ['Start', date(req.start_date)],
  ]);
}

export const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
