// format: money, times and state names, the same way on every page.
// Money is integer minor units plus an ISO 4217 currency, shown in the
// viewer's locale; times are shown in the viewer's zone with the zone
// named; deadlines are relative ("in 3 h 12 min") with the exact time on
// hover.

const moneyFmt = new Map();
function moneyFormatter(currency) {
  let f = moneyFmt.get(currency);
  if (!f) {
    try {
      f = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    } catch {
      f = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD' });
    }
    moneyFmt.set(currency, f);
  }
  return f;
}

/** Digits after the point for a currency (JPY 0, USD 2). */
export function minorDigits(currency) {
  return moneyFormatter(currency).resolvedOptions().maximumFractionDigits;
}

/** money(150000, 'USD') -> "$1,500.00" */
export function money(amount, currency) {
  if (amount === null || amount === undefined) return '—';
  if (typeof amount === 'object') return money(amount.amount, amount.currency);
  const d = minorDigits(currency);
  return moneyFormatter(currency).format(amount / 10 ** d);
}

/** "1500.50" typed by a user -> 150050 minor units, or null when not a number. */
export function toMinor(text, currency) {
  const t = String(text ?? '').trim().replace(/[\s,]/g, '');
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  const d = minorDigits(currency);
  const [whole, frac = ''] = t.split('.');
  if (frac.length > d) return null;
  return Number(whole) * 10 ** d + Number((frac + '0'.repeat(d)).slice(0, d) || 0);
}

/** 150000, 'USD' -> "1500.00" for an input's value */
export function fromMinor(amount, currency) {
  const d = minorDigits(currency);
  return (amount / 10 ** d).toFixed(d);
}

// (dateStyle cannot be combined with timeZoneName, so the parts are named)
const exactFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
});
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** "2 Dec 2026, 09:30 CET" */
export function exactTime(iso) {
  if (!iso) return '—';
  return exactFmt.format(new Date(iso));
}

/** A calendar date (YYYY-MM-DD) as the viewer writes dates. */
export function date(isoDate) {
  if (!isoDate) return '—';
  const d = /^\d{4}-\d{2}-\d{2}$/.test(isoDate) ? new Date(`${isoDate}T12:00:00`) : new Date(isoDate);
  return dateFmt.format(d);
}

/** 11520 -> "3 h 12 min"; under a minute "less than a minute" */
export function duration(seconds) {
  const s = Math.abs(Math.round(seconds));
  if (s < 60) return 'less than a minute';
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  if (d) return hh ? `${d} d ${hh} h` : `${d} d`;
  if (hh) return mm ? `${hh} h ${mm} min` : `${hh} h`;
  return `${mm} min`;
}

/** "in 3 h 12 min" / "5 min ago" relative to now (or to `now` in ms) */
export function relative(iso, now = Date.now()) {
  if (!iso) return '—';
  const secs = (new Date(iso).getTime() - now) / 1000;
  if (Math.abs(secs) < 45) return 'just now';
  return secs > 0 ? `in ${duration(secs)}` : `${duration(secs)} ago`;
}

/** Human words for the API's states, one table for the whole app. */
const STATE_LABELS = {
  matching: 'Matching', matched: 'Matched', filled: 'Filled', breached: 'SLA breached', cancelled: 'Cancelled',
  invited: 'Invited', accepted: 'Accepted', declined: 'Declined', expired: 'Expired', hired: 'Hired',
  withdrawn: 'Withdrawn', offered: 'Offer sent', active: 'Active', ended: 'Ended', pending: 'Pending',
  funding: 'Funding', funded: 'Funded', submitted: 'Submitted', released: 'Released', refunded: 'Refunded',
  disputed: 'Disputed', resolved: 'Resolved', open: 'Open', succeeded: 'Succeeded', failed: 'Failed',
  reversed: 'Reversed', queued: 'Queued', sent: 'Sent', running: 'Running', graded: 'Graded',
  applied: 'Applied', profile_complete: 'Profile complete', assessment_passed: 'Assessment passed',
  assessment_failed: 'Assessment failed', interview_scheduled: 'Interview scheduled', vetted: 'Vetted',
  rejected: 'Rejected', suspended: 'Suspended', approved: 'Approved', proposed: 'Proposed', draft: 'Draft',
  changes_requested: 'Changes requested', unfunded: 'Not funded', requires_action: 'Needs your action',
  processing: 'Processing', paid: 'Paid', in_transit: 'In transit', unread: 'Unread',
};

export function stateLabel(state) {
  if (!state) return '—';
  return STATE_LABELS[state] || state.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** The tone (colour) of a state: one per state, used everywhere. */
const TONES = {
  good: ['matched', 'filled', 'accepted', 'hired', 'active', 'released', 'resolved', 'succeeded', 'sent',
    'vetted', 'approved', 'paid', 'assessment_passed', 'graded'],
  info: ['matching', 'invited', 'offered', 'funded', 'queued', 'running', 'proposed', 'interview_scheduled',
    'profile_complete', 'in_transit', 'processing', 'funding', 'pending'],
  warn: ['submitted', 'disputed', 'changes_requested', 'requires_action', 'open', 'unread'],
  bad: ['breached', 'declined', 'failed', 'rejected', 'suspended', 'reversed', 'assessment_failed'],
};
const toneOf = new Map(Object.entries(TONES).flatMap(([tone, states]) => states.map((s) => [s, tone])));

export function stateTone(state) {
  return toneOf.get(state) || 'muted';
}
