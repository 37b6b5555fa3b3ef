// badges: the unread counts in the header (notifications, messages),
// read once at sign-in and again, debounced, whenever a live event
// arrives or a screen says it read something (badges.refresh()).
import { get } from './api.js';
import { live } from './live.js';

const counts = { notifications: 0, messages: 0 };
const subs = new Set();
let timer = null;
let started = false;

async function load() {
  const [n, c] = await Promise.allSettled([get('/api/v1/me/notifications'), get('/api/v1/conversations')]);
  if (n.status === 'fulfilled') {
    const items = n.value.items || [];
    counts.notifications = typeof n.value.unread === 'number' ? n.value.unread : items.filter((i) => !i.read_at).length;
  }
  if (c.status === 'fulfilled') counts.messages = (c.value.items || []).reduce((s, i) => s + (i.unread || 0), 0);
  subs.forEach((fn) => fn({ ...counts }));
}

export const badges = {
  start() {
    if (started) return;
    started = true;
    live.on('*', () => badges.refresh());
    live.on('resync', () => badges.refresh());
    badges.refresh(0);
  },
  stop() { started = false; counts.notifications = 0; counts.messages = 0; subs.forEach((fn) => fn({ ...counts })); },
  /** Re-reads the counts soon (several calls in a burst make one read). */
  refresh(delay = 400) {
    clearTimeout(timer);
    timer = setTimeout(() => { if (started) load().catch(() => {}); }, delay);
  },
  /** fn({notifications, messages}) on every change. */
  subscribe(fn) { subs.add(fn); fn({ ...counts }); return () => subs.delete(fn); },
};
