// messages_common: what the two message screens share, chiefly the outbox:
// every message the user writes stays here until the server has it, so a
// message typed offline is kept ("waiting for network") and sent once the
// network is back, a failed one can be retried, and nothing is sent twice.
//
// The API takes no Idempotency-Key or client id for a message, so "not
// twice" is kept by the client: an attempt whose answer was lost (network,
// deadline, 5xx) is marked `maybe` (the server may have committed it).
// Before such an item is sent again, the conversation is re-read from
// where it stood when the item was first tried; an own message with the
// same text found after that point is that item, and it is adopted instead
// of being sent again. Live `message.created` events (the sender's own
// streams get them too) are adopted the same way, the moment they arrive.
//
// Items of one conversation are sent one at a time, in the order written,
// so the server's order is the order the user typed. The outbox lives in
// this module (not in a screen), so leaving the page does not drop what
// waits, and in sessionStorage, so a reload in this tab does not either.
//
//   item: {key, conv, body, status: 'waiting'|'sending'|'failed', maybe,
//          network (the last failure was the network), error, fromCursor,
//          afterId, at}
import { ApiError, get, post, qs, session } from '../api.js';
import { live } from '../live.js';

const STORE = 'opx.outbox.v1';
const MAX_ITEMS = 200; // a cap on what one tab may hold unsent
export const MAX_BODY = 10000;

let items = [];
const adopted = new Set(); // message ids already matched to an item
const busyConv = new Set();
const subs = new Set();

function persist() {
  try {
    const uid = session.me?.id;
    if (!uid || !items.length) sessionStorage.removeItem(STORE);
    else sessionStorage.setItem(STORE, JSON.stringify({ uid, items }));
  } catch { /* private mode or full: the in-memory outbox still works */ }
}

function restore() {
  try {
    const raw = sessionStorage.getItem(STORE);
    if (!raw) return;
    const d = JSON.parse(raw);
    if (!d || d.uid !== session.me?.id || !Array.isArray(d.items)) return;
    // an item that was in flight when the page went away may have been committed
    items = d.items.map((i) => (i.status === 'sending' ? { ...i, status: 'waiting', maybe: true } : i));
  } catch { items = []; }
}

function notify(conv, ev) {
  persist();
  subs.forEach((fn) => { try { fn(conv, ev); } catch (e) { console.warn('outbox listener failed', e); } }); // eslint-disable-line no-console
}

const online = () => navigator.onLine !== false;

/** Removes an item that the server now has as message m. */
function adopt(item, m) {
  items = items.filter((i) => i !== item);
  adopted.add(m.id);
  notify(item.conv, { type: 'sent', key: item.key, message: m });
}

/** An own message (from the stream or a re-read) that may be one of ours: adopts it; true when it was. */
function receive(conv, m) {
  if (!m || !m.id) return false;
  if (adopted.has(m.id)) return true;
  if (!session.me || m.sender_id !== session.me.id) return false;
  const item = items.find((i) => i.conv === conv && i.body === m.body && (i.status === 'sending' || i.maybe));
  if (!item) return false;
  adopt(item, m);
  return true;
}

/** Reads a conversation from a cursor to its end: the messages, in the server's order. */
export async function readFrom(conv, cursor, { maxPages = 50 } = {}) {
  const out = [];
  let after = cursor;
  let last = cursor;
  for (let n = 0; n < maxPages; n += 1) {
    const d = await get(`/api/v1/conversations/${encodeURIComponent(conv)}/messages${qs({ after, limit: 100 })}`);
    out.push({ items: d.items || [], cursor: after, next: d.next_cursor });
    if (!d.next_cursor) break;
    after = d.next_cursor;
    last = after;
  }
  return { pages: out, last };
}

/** Before sending again an item that may have been committed: is it there already? */
async function reconcile(item) {
  const { pages } = await readFrom(item.conv, item.fromCursor);
  const all = pages.flatMap((p) => p.items);
  const at = item.afterId ? all.findIndex((m) => m.id === item.afterId) : -1;
  for (const m of all.slice(at + 1)) {
    if (receive(item.conv, m) && !items.includes(item)) return true;
  }
  return !items.includes(item);
}

async function pump(conv) {
  if (busyConv.has(conv)) return;
  busyConv.add(conv);
  try {
    for (;;) {
      const item = items.find((i) => i.conv === conv && i.status === 'waiting');
      if (!item || !online()) return;
      item.status = 'sending';
      item.error = null;
      notify(conv, { type: 'changed', key: item.key });
      try {
        if (item.maybe && (await reconcile(item))) continue;
        const m = await post(`/api/v1/conversations/${encodeURIComponent(conv)}/messages`, { body: item.body }, { timeoutMs: 20000 });
        if (items.includes(item)) adopt(item, m); // else the stream's copy came first
        else adopted.add(m.id);
      } catch (e) {
        if (!items.includes(item)) continue; // adopted meanwhile: it was sent
        const status = e instanceof ApiError ? e.status : 0;
        item.network = status === 0;
        item.maybe = item.maybe || status === 0 || status >= 500;
        item.error = status === 0 ? (online() ? 'The server did not answer.' : 'You are offline.') : (e.detail || e.message);
        // the network: wait for it to return (the items after this one wait too, to keep the order)
        item.status = status === 0 && !online() ? 'waiting' : 'failed';
        notify(conv, { type: 'changed', key: item.key });
        if (item.network) return;
      }
    }
  } finally {
    busyConv.delete(conv);
  }
}

/** The network or the stream is back: send what waited, retry what the network failed. */
function resumeAll() {
  if (!online()) return;
  let changed = false;
  for (const i of items) {
    if (i.status === 'failed' && i.network) { i.status = 'waiting'; changed = true; }
  }
  if (changed) persist();
  new Set(items.map((i) => i.conv)).forEach((c) => { notify(c, { type: 'changed' }); pump(c); });
}

export const outbox = {
  /** Queues a message; `at` = {fromCursor, afterId}: where the conversation stood when it was written. */
  add(conv, body, { fromCursor = null, afterId = null } = {}) {
    if (items.length >= MAX_ITEMS) throw new Error('too many messages are waiting to be sent; wait for the network');
    const item = { key: crypto.randomUUID(), conv, body, status: 'waiting', maybe: false, network: false, error: null,
      fromCursor, afterId, at: new Date().toISOString() };
    items.push(item);
    notify(conv, { type: 'changed', key: item.key });
    pump(conv);
    return item;
  },
  /** The items of one conversation, in the order written. */
  list(conv) { return items.filter((i) => i.conv === conv); },
  count(conv) { return items.filter((i) => i.conv === conv).length; },
  receive,
  retry(key) {
    const item = items.find((i) => i.key === key);
    if (!item || item.status === 'sending') return;
    item.status = 'waiting';
    notify(item.conv, { type: 'changed', key });
    pump(item.conv);
  },
  /** Drops an unsent item (only one that failed for a reason other than the network). */
  discard(key) {
    const item = items.find((i) => i.key === key);
    if (!item || item.status === 'sending') return;
    items = items.filter((i) => i !== item);
    notify(item.conv, { type: 'changed', key });
  },
  /** fn(conv, {type: 'changed'|'sent', key, message}) on every change; returns the unsubscribe. */
  subscribe(fn) { subs.add(fn); return () => subs.delete(fn); },
};

// the outbox works whichever page is open
let restoredFor = null;
function sessionSeen() {
  const uid = session.me?.id || null;
  if (uid === restoredFor) return;
  restoredFor = uid;
  items = [];
  adopted.clear();
  if (uid) { restore(); resumeAll(); } else persist();
}
sessionSeen();
document.addEventListener('opx:session', sessionSeen);
live.on('message.created', (d) => { if (d) receive(d.conversation_id, d.message); });
live.on('status', (s) => { if (s.connected) resumeAll(); });
window.addEventListener('online', () => resumeAll());

/* ---- shared helpers for the two screens ---- */

/** The other party of a conversation for the viewer (an admin sees both). */
export function otherParty(c, me) {
  const ps = c?.participants || [];
  if (!me) return null;
  const mine = ps.find((p) => p.id === me.id);
  if (!mine) return null;
  return ps.find((p) => p.id !== me.id) || null;
}

/** A conversation's title for the viewer: "Aisha Greene" or, for an admin, "Cleo Client and Aisha Greene". */
export function conversationTitle(c, me) {
  const other = otherParty(c, me);
  if (other) return other.name;
  const ps = c?.participants || [];
  return ps.length ? ps.map((p) => p.name).join(' and ') : 'Conversation';
}

