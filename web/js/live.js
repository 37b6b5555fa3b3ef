// live: the one EventSource of a signed-in page. It resumes where it left
// off (the browser sends Last-Event-ID itself; after a stream we closed
// ourselves we pass ?last_event_id=), says when the connection is lost
// and when it is back, and then tells screens to catch up ("resync"), so
// what was missed appears without a reload.
//
//   const off = live.on('message.created', (data, id) => ...);  // off() unsubscribes
//   live.on('resync', () => reload());   // after a gap: re-read what you show
//   live.on('closed', fn)                // the server refused the stream (401, 429, 503)

// every event the server sends (docs/API.md "Live events"); each is
// listened for from the start so '*' (badges) sees them all
const TYPES = [
  'message.created', 'conversation.created', 'invitation.created', 'invitation.updated',
  'candidate.updated', 'request.updated', 'request.widened', 'request.sla_breached', 'admin.sla_breach',
  'interview.proposed', 'interview.accepted', 'interview.cancelled',
  'contract.offered', 'contract.accepted', 'contract.declined', 'contract.ended',
  'milestone.funded', 'milestone.submitted', 'milestone.released', 'milestone.changes_requested',
  'milestone.disputed', 'milestone.resolved', 'dispute.resolved', 'admin.dispute_opened',
  'timesheet.submitted', 'timesheet.approved', 'review.written', 'reviews.published',
  'refund.succeeded', 'refund.failed', 'payout.succeeded', 'payout.failed', 'payout.reversed',
  'notification.created', 'assessment.graded', 'challenge.graded',
];
const LOCAL = new Set(['*', 'status', 'resync', 'closed']);
const handlers = new Map(); // type -> Set(fn)
let es = null;
let lastId = 0;
let lost = false;
let retryTimer = null;
let retryMs = 1000;
const known = new Set();

function emit(type, data, id) {
  (handlers.get(type) || []).forEach((fn) => {
    try { fn(data, id); } catch (e) { console.warn('live handler failed', type, e); } // eslint-disable-line no-console
  });
  if (!LOCAL.has(type)) (handlers.get('*') || []).forEach((fn) => fn(type, data, id));
}

function setLost(isLost, why) {
  if (lost === isLost) return;
  lost = isLost;
  emit('status', { connected: !isLost, why });
}

function listen(type) {
  if (!es || known.has(type)) return;
  known.add(type);
  es.addEventListener(type, (ev) => {
    const id = Number(ev.lastEventId) || 0;
    if (id && id <= lastId) return; // each id once, even across a reconnect
    if (id) lastId = id;
    let data = null;
    try { data = ev.data ? JSON.parse(ev.data) : null; } catch { data = null; }
    emit(type, data, id);
  });
}

function open() {
  clearTimeout(retryTimer);
  if (es) es.close();
  known.clear();
  const url = lastId ? `/api/v1/events?last_event_id=${lastId}` : '/api/v1/events';
  es = new EventSource(url, { withCredentials: true });
  es.addEventListener('open', () => {
    retryMs = 1000;
    if (lost) {
      setLost(false);
      emit('resync', { reason: 'reconnected' });
    }
  });
  es.addEventListener('error', () => {
    setLost(true, navigator.onLine ? 'the server is unreachable' : 'you are offline');
    // the browser retries by itself while readyState is CONNECTING; once
    // CLOSED (an HTTP error such as 429/503) we retry, backing off
    if (es && es.readyState === EventSource.CLOSED) {
      emit('closed', {}); // the shell asks whether the session still holds
      retryTimer = setTimeout(open, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    }
  });
  es.addEventListener('reset', () => emit('resync', { reason: 'reset' }));
  for (const type of TYPES) listen(type);
  for (const type of handlers.keys()) if (!LOCAL.has(type)) listen(type);
}

export const live = {
  /** Starts the stream (after sign-in). */
  start() { if (!es) open(); },
  /** Ends it (sign-out). */
  stop() {
    clearTimeout(retryTimer);
    if (es) es.close();
    es = null;
    lastId = 0;
    setLost(false);
  },
  /** on(type, fn(data, id)); type '*' gets (type, data, id); 'status' gets {connected}. */
  on(type, fn) {
    if (!handlers.has(type)) handlers.set(type, new Set());
    handlers.get(type).add(fn);
    if (!LOCAL.has(type)) listen(type);
    return () => handlers.get(type)?.delete(fn);
  },
  get connected() { return !!es && !lost; },
};

// the device's own view of the network: say so at once, and reconnect the
// moment it returns rather than at the browser's next retry
// (the stream is closed too: a dead connection may otherwise linger until
// a heartbeat times out, and the reopen below resumes from lastId anyway)
window.addEventListener('offline', () => {
  setLost(true, 'you are offline');
  if (es) { clearTimeout(retryTimer); es.close(); }
});
window.addEventListener('online', () => { if (es) open(); });
