// conversation (/messages/:id): the chat between a request's client and an
// engineer, and the interview they schedule in it.
//
// Messages are grouped by day in the viewer's zone, mine on the right;
// new ones from the other side arrive live (message.created) and after a
// gap (resync) the tail is re-read from the server, which also fixes the
// order of what arrived meanwhile. The order shown is the server's: the
// pages read whole (`head`, 100 a page) then the last, partial page
// (`tail`, re-read on every catch-up from the last full page's cursor),
// then what came live since (`extra`). What the user writes goes through
// the outbox (messages_common.js): shown at once as sending, "waiting for
// network" while offline, sent once when back, a failure retried on that
// message without a duplicate.
//
// Interview: the client proposes up to three times (date-time pickers in
// the viewer's zone, each shown in both parties' zones), the engineer
// picks one, either may cancel; both sides follow it live
// (interview.proposed|accepted|cancelled).
import { h, mount, nextId } from '../dom.js';
import { ApiError, get, post } from '../api.js';
import { badges } from '../badges.js';
import { exactTime, viewerZone } from '../format.js';
import { busy, chip, confirmDialog, empty, failed, field, loading, onSubmit, select, skeleton, timeAgo, toast } from '../ui.js';
import { MAX_BODY, conversationTitle, otherParty, outbox, readFrom } from './messages_common.js';

const DRAFTS = 'opx.drafts.v1';
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const dayKeyFmt = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' });
const zoneFmts = new Map();

/** "Thu 3 Dec, 10:00 CET" in a given IANA zone. */
function inZone(iso, zone) {
  let f = zoneFmts.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: zone, timeZoneName: 'short' });
    } catch {
      f = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZone: 'UTC', timeZoneName: 'short' });
    }
    zoneFmts.set(zone, f);
  }
  return f.format(new Date(iso));
}

function dayLabel(iso) {
  const key = dayKeyFmt.format(new Date(iso));
  const today = dayKeyFmt.format(new Date());
  const yesterday = dayKeyFmt.format(new Date(Date.now() - 86400000));
  if (key === today) return 'Today';
  if (key === yesterday) return 'Yesterday';
  return dayFmt.format(new Date(iso));
}

function loadDraft(id) {
  try { return JSON.parse(sessionStorage.getItem(DRAFTS) || '{}')[id] || ''; } catch { return ''; }
}
function saveDraft(id, text) {
  try {
    const d = JSON.parse(sessionStorage.getItem(DRAFTS) || '{}');
    if (text) d[id] = text; else delete d[id];
    sessionStorage.setItem(DRAFTS, JSON.stringify(d));
  } catch { /* drafts are a nicety */ }
}

/** A datetime-local value ("2026-12-03T10:00") for a Date, in the viewer's zone. */
function localValue(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export default async function render(view, ctx) {
  const id = ctx.params.id;
  const me = ctx.me;
  loading(view, 'Loading the conversation');

  const [listRes, readRes, ivRes] = await Promise.allSettled([
    get('/api/v1/conversations'),
    readFrom(id, null),
    get(`/api/v1/conversations/${encodeURIComponent(id)}/interview`),
  ]);
  if (!ctx.current) return;
  if (readRes.status === 'rejected') {
    const err = readRes.reason;
    if (err instanceof ApiError && (err.status === 404 || err.status === 400)) {
      ctx.title('Conversation not found');
      mount(view, h('h1', 'Conversation not found'),
        h('p', 'There is no conversation at this address, or it is not one of yours.'),
        h('p', h('a', { href: '/messages' }, 'Go to your messages')));
      return;
    }
    failed(view, err, () => render(view, ctx));
    return;
  }

  const conv = listRes.status === 'fulfilled' ? (listRes.value.items || []).find((c) => c.id === id) || null : null;
  const party = !!conv && conv.participants.some((p) => p.id === me.id);
  const canWrite = party || (!conv && (me.role === 'client' || me.role === 'engineer'));
  const other = otherParty(conv, me);
  const clientP = conv?.participants.find((p) => p.role === 'client') || null;
  const engineerP = conv?.participants.find((p) => p.role === 'engineer') || null;
  const names = new Map((conv?.participants || []).map((p) => [p.id, p.id === me.id ? 'You' : p.name]));
  const nameOf = (uid) => names.get(uid) || (uid === me.id ? 'You' : other?.name || 'The other party');
  const title = conv ? conversationTitle(conv, me) : 'Conversation';
  ctx.title(me.role === 'admin' ? title : `Messages with ${title}`);

  // ---- the messages: head ++ tail ++ extra, in the server's order ----
  const byId = new Map();
  let head = [];
  let tail = [];
  let extra = []; // [{m, eventId, n}]
  let arrivals = 0;
  let resumeCursor = null;
  const firstUnread = conv?.unread || 0; // the other party's last n messages are new

  function place({ pages, last }) {
    for (const p of pages) {
      if (p.next) {
        const known = new Set(head.map((m) => m.id));
        head = head.concat(p.items.filter((m) => !known.has(m.id)));
      } else {
        tail = p.items;
      }
    }
    if (pages.length && pages[pages.length - 1].next) tail = [];
    resumeCursor = last;
    for (const m of [...head, ...tail]) {
      byId.set(m.id, m);
      outbox.receive(id, m);
    }
    const settledIds = new Set([...head, ...tail].map((m) => m.id));
    extra = extra.filter((x) => !settledIds.has(x.m.id));
  }
  place(readRes.value);

  function ordered() {
    const seen = new Set();
    const ex = [...extra].sort((a, b) => (a.m.created_at < b.m.created_at ? -1 : a.m.created_at > b.m.created_at ? 1
      : (a.eventId ?? Infinity) - (b.eventId ?? Infinity) || a.n - b.n));
    const out = [];
    for (const m of [...head, ...tail, ...ex.map((x) => x.m)]) {
      if (seen.has(m.id)) continue;
      seen.add(m.id);
      out.push(m);
    }
    return out;
  }

  function addLive(m, eventId) {
    if (!m || !m.id) return false;
    if (byId.has(m.id)) {
      const x = extra.find((e) => e.m.id === m.id);
      if (x && eventId && x.eventId == null) x.eventId = eventId;
      return false;
    }
    byId.set(m.id, m);
    arrivals += 1;
    extra.push({ m, eventId: eventId || null, n: arrivals });
    return true;
  }

  // the unread marker: the first of the other party's last `unread` messages, as loaded
  let unreadFromId = null;
  if (firstUnread > 0) {
    const theirs = ordered().filter((m) => m.sender_id !== me.id);
    unreadFromId = theirs[Math.max(0, theirs.length - firstUnread)]?.id || null;
  }

  // ---- the page ----
  const live = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
  const logId = nextId('log');
  const log = h('div', { class: 'chat-log', id: logId, tabindex: '0', role: 'region', 'aria-label': `Messages with ${title}` });
  const newBelow = h('button', { type: 'button', class: 'btn btn-small chat-new', hidden: true,
    onClick: () => { scrollToEnd(); newBelow.hidden = true; } }, 'New messages below ↓');
  const elCache = new Map();

  function messageEl(m) {
    const mine = m.sender_id === me.id;
    const el = h('li', { class: ['msg-row', mine ? 'msg-row-mine' : 'msg-row-theirs'], dataset: { id: m.id, sender: mine ? 'me' : 'them' } },
      h('div', { class: ['msg', mine ? 'msg-mine' : null] },
        h('span', { class: me.role === 'admin' ? 'msg-who' : 'sr-only' }, `${nameOf(m.sender_id)}: `),
        h('span', { class: 'msg-body' }, m.body),
        h('span', { class: 'msg-meta' }, h('time', { datetime: m.created_at, title: exactTime(m.created_at) }, timeFmt.format(new Date(m.created_at))))));
    return el;
  }

  function pendingEl(item) {
    const offline = navigator.onLine === false;
    let state;
    let tone = 'msg-pending';
    const actions = [];
    if (item.status === 'sending') state = 'Sending…';
    else if (item.status === 'waiting') state = offline ? 'Waiting for network' : 'Queued';
    else {
      tone = 'msg-failed';
      state = `Not sent. ${item.error || ''}${item.network ? ' It is sent again when the connection is back.' : ''}`;
      actions.push(h('button', { type: 'button', class: 'btn btn-small', dataset: { action: 'retry', key: item.key },
        onClick: () => outbox.retry(item.key) }, 'Retry'));
      if (!item.network) {
        actions.push(h('button', { type: 'button', class: 'btn btn-small btn-link', dataset: { action: 'discard', key: item.key },
          onClick: () => outbox.discard(item.key) }, 'Delete'));
      }
    }
    return h('li', { class: ['msg-row', 'msg-row-mine'], dataset: { key: item.key, sender: 'me', status: item.status } },
      h('div', { class: ['msg', 'msg-mine', tone] },
        h('span', { class: 'sr-only' }, 'You: '),
        h('span', { class: 'msg-body' }, item.body),
        h('span', { class: 'msg-meta' }, h('span', { class: 'msg-state' }, state), ...actions)));
  }

  const nearEnd = () => log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  function scrollToEnd() { log.scrollTop = log.scrollHeight; }

  function draw({ stick = false } = {}) {
    const wasNear = nearEnd();
    const focusedKey = log.contains(document.activeElement) ? document.activeElement.dataset?.key : null;
    const focusedAction = focusedKey ? document.activeElement.dataset.action : null;
    const msgs = ordered();
    const pend = outbox.list(id);
    if (!msgs.length && !pend.length) {
      mount(log, empty('No messages yet',
        canWrite ? `Say hello to ${other?.name || 'the other party'}: introduce yourself and the work, or propose a time to talk.` : 'When the parties write, their messages appear here.'));
      return;
    }
    const days = [];
    let cur = null;
    for (const m of msgs) {
      const label = dayLabel(m.created_at);
      if (!cur || cur.label !== label) { cur = { label, items: [] }; days.push(cur); }
      if (m.id === unreadFromId) cur.items.push(h('li', { class: 'chat-sep', 'aria-hidden': 'true' }, h('span', 'New')));
      let el = elCache.get(m.id);
      if (!el) { el = messageEl(m); elCache.set(m.id, el); }
      cur.items.push(el);
    }
    if (pend.length) {
      const label = 'Today';
      if (!cur || cur.label !== label) { cur = { label, items: [] }; days.push(cur); }
      for (const item of pend) cur.items.push(pendingEl(item));
    }
    mount(log, days.map((d) => h('section', { class: 'chat-day', 'aria-label': d.label },
      h('h3', { class: 'chat-day-title' }, h('span', d.label)), h('ol', { class: 'chat-list' }, d.items))));
    if (focusedKey) {
      const again = log.querySelector(`[data-key="${CSS.escape(focusedKey)}"][data-action="${focusedAction}"]`);
      if (again) again.focus(); else composerInput?.focus();
    }
    if (stick || wasNear) { scrollToEnd(); newBelow.hidden = true; }
  }

  // ---- reading: catch up with the server, mark read ----
  let catching = null;
  async function catchUp() {
    if (catching) { catching.again = true; return; }
    catching = { again: false };
    try {
      const r = await readFrom(id, resumeCursor);
      if (!ctx.current) return;
      const before = new Set(byId.keys());
      place(r);
      const fresh = [...head, ...tail].filter((m) => !before.has(m.id));
      draw();
      announce(fresh);
      markRead();
    } catch { /* the next event or resync tries again */ } finally {
      const again = catching.again;
      catching = null;
      if (again && ctx.current) catchUp();
    }
  }
  // a burst of events makes one read at a time, and one more after it
  function catchUpSoon() { catchUp(); }

  function announce(msgs) {
    const theirs = msgs.filter((m) => m.sender_id !== me.id);
    if (!theirs.length) return;
    if (!nearEnd()) newBelow.hidden = false;
    const last = theirs[theirs.length - 1];
    live.textContent = theirs.length === 1
      ? `New message from ${nameOf(last.sender_id)}: ${last.body.slice(0, 200)}`
      : `${theirs.length} new messages from ${nameOf(last.sender_id)}. The last: ${last.body.slice(0, 200)}`;
  }

  // no timers here: a page in a background window gets its timers throttled,
  // and what it shows should be marked read as soon as it is shown
  let marked = null;
  let marking = false;
  let markAgain = false;
  async function markRead() {
    if (!party) return;
    if (marking) { markAgain = true; return; }
    if (!ctx.current || document.visibilityState !== 'visible') return;
    const msgs = ordered();
    const last = msgs[msgs.length - 1];
    if (!last || last.id === marked) return;
    marking = true;
    try {
      await post(`/api/v1/conversations/${encodeURIComponent(id)}/read`, { message_id: last.id });
      marked = last.id;
      badges.refresh(0);
    } catch { /* the next message tries again */ } finally {
      marking = false;
      if (markAgain) { markAgain = false; markRead(); }
    }
  }

  // ---- the composer ----
  let composerInput = null;
  let composer = null;
  let offlineNote = null;
  if (canWrite) {
    const hintId = nextId('hint');
    const countEl = h('span', { class: 'composer-count', 'aria-live': 'polite' });
    composerInput = h('textarea', { name: 'body', rows: '2', 'aria-describedby': hintId, maxlength: String(MAX_BODY),
      placeholder: `Write to ${other?.name || 'the other party'}…`, value: loadDraft(id) });
    const fieldId = nextId('body');
    composerInput.id = fieldId;
    const errEl = h('p', { class: 'field-error', hidden: true });
    offlineNote = h('p', { class: 'composer-offline', hidden: navigator.onLine !== false },
      'You are offline. What you send now waits here and goes as soon as the network is back.');
    const send = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send');
    composer = h('form', { class: 'composer-form', 'aria-label': 'Write a message' },
      h('div', { class: 'field', dataset: { field: 'body' } },
        h('label', { for: fieldId, class: 'sr-only' }, `Message to ${other?.name || 'the other party'}`),
        errEl,
        offlineNote,
        h('div', { class: 'composer' }, composerInput, send),
        h('p', { class: 'hint composer-hint', id: hintId }, 'Enter sends, Shift+Enter starts a new line. ', countEl)));
    const counter = () => {
      const n = [...composerInput.value].length;
      countEl.textContent = n > MAX_BODY - 1000 ? `${n.toLocaleString()} of ${MAX_BODY.toLocaleString()} characters` : '';
    };
    composerInput.addEventListener('input', () => { saveDraft(id, composerInput.value); counter(); errEl.hidden = true; });
    composerInput.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
        ev.preventDefault();
        composer.requestSubmit();
      }
    });
    composer.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const body = composerInput.value.replace(/^\s+|\s+$/g, '');
      if (!body) { composerInput.focus(); return; }
      if ([...body].length > MAX_BODY) {
        errEl.hidden = false;
        errEl.textContent = `The message is too long: at most ${MAX_BODY.toLocaleString()} characters.`;
        return;
      }
      const msgs = ordered();
      try {
        outbox.add(id, body, { fromCursor: resumeCursor, afterId: msgs.length ? msgs[msgs.length - 1].id : null });
      } catch (e) {
        errEl.hidden = false;
        errEl.textContent = e.message;
        return;
      }
      composerInput.value = '';
      saveDraft(id, '');
      counter();
      draw({ stick: true });
      composerInput.focus();
    });
    counter();
  }

  // ---- the interview ----
  let interview = ivRes.status === 'fulfilled' ? ivRes.value : null;
  const ivMissing = ivRes.status === 'rejected' && ivRes.reason instanceof ApiError && ivRes.reason.status === 404;
  const ivError = ivRes.status === 'rejected' && !ivMissing ? ivRes.reason : null;
  const ivBox = h('div', { class: 'iv' });
  let zones = [{ label: 'Your time', zone: viewerZone }];
  let proposing = false;
  const requestBox = h('div');
  const ivSummary = h('p', { class: 'iv-summary' });

  function addZone(label, zone) {
    if (!zone) return;
    const same = zones.find((z) => z.zone === zone);
    // one line per zone, naming everyone in it ("Your time and Aisha Greene’s time")
    if (same) zones = zones.map((z) => (z === same ? { ...z, label: `${z.label} and ${label.replace(/^Your /, 'your ')}` } : z));
    else zones = zones.concat({ label, zone });
  }

  /** A time in each zone of the conversation, the viewer's first (or left out, when said already). */
  function slotTimes(iso, { others = false } = {}) {
    return h('ul', { class: 'iv-zones' }, zones.map((z, i) => (others && i === 0 ? null : h('li', { class: i === 0 ? 'iv-zone-main' : null },
      h('span', { class: 'iv-zone-label' }, `${z.label}: `), inZone(iso, z.zone), i && z.label !== z.zone ? h('span', { class: 'meta' }, ` (${z.zone})`) : null))));
  }

  function proposeForm() {
    const start = new Date(Date.now() + 86400000);
    start.setMinutes(0, 0, 0);
    const min = localValue(new Date(Date.now() + 10 * 60000));
    const slotFields = [0, 1, 2].map((i) => {
      const preview = h('div', { class: 'iv-preview', 'aria-live': 'polite' });
      const input = h('input', { type: 'datetime-local', name: `slots[${i}]`, min, step: '300', required: i === 0 });
      const showPreview = () => {
        const d = input.value ? new Date(input.value) : null;
        mount(preview, d && !Number.isNaN(d.getTime()) && zones.length > 1 ? slotTimes(d.toISOString()) : null);
      };
      input.addEventListener('input', showPreview);
      input.addEventListener('change', showPreview);
      const f = field({ label: `Time ${i + 1}`, name: `slots[${i}]`, input, required: i === 0 });
      f.append(preview);
      return f;
    });
    const url = h('input', { type: 'url', name: 'video_url', required: true, placeholder: 'https://meet.example.com/…', inputmode: 'url' });
    const form = h('form', { class: 'iv-form', novalidate: true },
      h('fieldset', h('legend', `Times to offer, in your time (${viewerZone})`),
        h('p', { class: 'hint' }, `Offer up to three times; ${engineerP?.name || 'the engineer'} picks one. Each is shown below in both of your time zones.`),
        slotFields),
      field({ label: 'Length', name: 'duration_minutes', input: select('duration_minutes', [[30, '30 minutes'], [45, '45 minutes'], [60, '1 hour'], [90, '1 hour 30 minutes']], 60), required: true }),
      field({ label: 'Video call link', name: 'video_url', input: url, hint: 'Sent to both of you in the calendar invitation.', required: true }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'btn btn-primary' }, 'Propose these times'),
        interview ? h('button', { type: 'button', class: 'btn', onClick: () => { proposing = false; drawInterview(); } }, 'Cancel') : null));
    onSubmit(form, async (fd) => {
      const slots = [0, 1, 2].map((i) => fd.get(`slots[${i}]`)).filter(Boolean).map((v) => new Date(v).toISOString());
      if (!slots.length) {
        throw new ApiError(422, { detail: 'some fields are invalid', errors: [{ field: 'slots[0]', message: 'is needed: choose at least one time' }] });
      }
      const body = { slots, video_url: String(fd.get('video_url') || '').trim(), duration_minutes: Number(fd.get('duration_minutes')) };
      try {
        interview = await post(`/api/v1/conversations/${encodeURIComponent(id)}/interview`, body);
      } catch (e) {
        if (e instanceof ApiError && e.status === 409 && e.body?.interview) {
          interview = e.body.interview;
          proposing = false;
          drawInterview();
          toast('An interview is already open in this conversation; here it is.', 'info');
          return;
        }
        // the server's slots[i] are the non-empty pickers in order; map back to the pickers
        if (e instanceof ApiError) {
          const used = [0, 1, 2].filter((i) => fd.get(`slots[${i}]`));
          e.errors = e.errors.map((x) => {
            const m = /^slots\[(\d+)\]$/.exec(x.field || '');
            return m && used[Number(m[1])] !== undefined ? { ...x, field: `slots[${used[Number(m[1])]}]` } : x;
          });
        }
        throw e;
      }
      proposing = false;
      drawInterview();
      toast(`Times sent to ${engineerP?.name || 'the engineer'}.`, 'good');
    }, 'Sending…');
    return form;
  }

  async function act(btn, path, body, done) {
    try {
      await busy(btn, async () => {
        interview = await post(`/api/v1/conversations/${encodeURIComponent(id)}/interview${path}`, body);
      }, 'Working…');
      drawInterview();
      if (done) toast(done, 'good');
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && e.body?.interview) { interview = e.body.interview; drawInterview(); }
      toast(`Could not do that: ${e.detail || e.message}`, 'bad');
    }
  }

  function drawInterview() {
    if (ivError) {
      mount(ivBox, h('div', { class: 'notice notice-bad' }, h('p', `Could not load the interview: ${ivError.detail || ivError.message}`)));
      return;
    }
    const isClient = me.id === clientP?.id || (!conv && me.role === 'client');
    const isEngineer = me.id === engineerP?.id || (!conv && me.role === 'engineer');
    const iv = interview;
    const parts = [];
    if (!iv || iv.status === 'cancelled') {
      if (iv) {
        parts.push(h('p', chip('cancelled'), ' ', iv.cancelled_by === me.id ? 'You cancelled it ' : `Cancelled by ${nameOf(iv.cancelled_by)} `, timeAgo(iv.updated_at), '.'));
      }
      if (isClient) {
        if (proposing || !iv) {
          parts.push(h('p', iv ? 'Propose new times:' : `Propose up to three times to talk; ${engineerP?.name || 'the engineer'} picks one and you both get a calendar invitation.`));
          parts.push(proposeForm());
        } else {
          parts.push(h('button', { type: 'button', class: 'btn btn-primary', onClick: () => { proposing = true; drawInterview(); } }, 'Propose new times'));
        }
      } else if (isEngineer) {
        parts.push(h('p', { class: 'muted' }, iv ? `${clientP?.name || 'The client'} may propose new times.` : `No interview proposed yet. When ${clientP?.name || 'the client'} proposes times, you pick one here.`));
      } else {
        parts.push(h('p', { class: 'muted' }, iv ? '' : 'No interview has been proposed.'));
      }
    } else if (iv.status === 'proposed') {
      parts.push(h('p', chip('proposed'), ' ', isEngineer ? `${clientP?.name || 'The client'} proposed these times. Choose the one that suits you:` : isClient ? `Waiting for ${engineerP?.name || 'the engineer'} to choose one of these times.` : 'Times proposed by the client:'));
      parts.push(h('ol', { class: 'iv-slots' }, iv.slots.map((s, i) => h('li', { class: 'iv-slot', dataset: { slot: s } },
        h('p', { class: 'iv-slot-title' }, `Option ${i + 1}`),
        slotTimes(s),
        isEngineer ? h('button', { type: 'button', class: 'btn btn-primary btn-small',
          onClick: (ev) => act(ev.currentTarget, '/accept', { slot: s }, `Interview set for ${inZone(s, viewerZone)}.`) },
        'Accept this time', h('span', { class: 'sr-only' }, ` (${inZone(s, viewerZone)})`)) : null))));
      parts.push(ivFacts(iv));
    } else if (iv.status === 'accepted') {
      parts.push(h('p', chip('accepted', 'Interview scheduled')));
      parts.push(h('div', { class: 'iv-accepted', dataset: { slot: iv.slot } },
        h('p', { class: 'iv-slot-title' }, 'Starts ', timeAgo(iv.slot)),
        slotTimes(iv.slot),
        h('p', { class: 'meta iv-note' }, 'Both of you have a calendar invitation by email.')));
      parts.push(ivFacts(iv));
    }
    if (iv && iv.status !== 'cancelled' && (isClient || isEngineer)) {
      parts.push(h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn btn-danger btn-small', onClick: async (ev) => {
        const btn = ev.currentTarget;
        const ok = await confirmDialog({ title: 'Cancel the interview?', body: iv.status === 'accepted' ? 'Both of you get a cancellation for the calendar invitation.' : 'The proposed times are withdrawn.', confirm: 'Cancel the interview', tone: 'danger' });
        if (ok) act(btn, '/cancel', {}, 'The interview is cancelled.');
      } }, 'Cancel the interview')));
    }
    mount(ivBox, parts);
    // the same in one line at the top, for phones where the card is below the chat
    const iv2 = interview;
    const line = !iv2 || iv2.status === 'cancelled' ? (isClient ? 'No interview set: propose times' : null)
      : iv2.status === 'proposed' ? (isEngineer ? `${iv2.slots.length} interview time${iv2.slots.length === 1 ? '' : 's'} proposed: choose one` : `Interview: ${iv2.slots.length} time${iv2.slots.length === 1 ? '' : 's'} proposed`)
        : `Interview ${inZone(iv2.slot, viewerZone)}`;
    mount(ivSummary, line ? h('a', { href: '#interview' }, line) : null);
  }

  function ivFacts(iv) {
    return h('p', { class: 'meta' }, `${iv.duration_minutes} minutes · `, h('a', { href: iv.video_url, target: '_blank', rel: 'noopener noreferrer' }, 'Video call link'));
  }

  // zones: the conversation names the request's (the client's) and the engineer's profile's
  async function loadZones() {
    if (!conv) return;
    const mine = (p) => p && p.id === me.id;
    if (clientP) addZone(mine(clientP) ? 'Your request’s zone' : `${clientP.name}’s time (the request’s zone)`, clientP.timezone);
    if (engineerP) addZone(mine(engineerP) ? 'Your profile’s zone' : `${engineerP.name}’s time`, engineerP.timezone);
    const about = me.role === 'engineer' ? h('strong', conv.request_title)
      : h('a', { href: `/requests/${encodeURIComponent(conv.request_id)}` }, conv.request_title);
    mount(requestBox, h('p', 'About ', about, '.'));
  }

  // ---- mount ----
  const headTitle = me.role === 'admin' ? title : `Messages with ${title}`;
  mount(view,
    h('p', { class: 'back' }, h('a', { href: '/messages' }, '← All messages')),
    h('div', { class: 'page-head' }, h('div', h('h1', headTitle), h('div', { class: 'sub' }, requestBox, ivSummary))),
    live,
    h('div', { class: 'conv-layout' },
      h('section', { class: 'card chat-card', 'aria-labelledby': `${logId}-h` },
        h('h2', { id: `${logId}-h`, class: 'sr-only' }, 'Messages'),
        me.role === 'admin' ? h('p', { class: 'notice notice-info' }, 'You are reading as an admin: only the two parties can write here.') : null,
        h('div', { class: 'chat-wrap' }, log, newBelow),
        composer),
      h('aside', { class: 'conv-side' },
        h('section', { class: 'card', id: 'interview', tabindex: '-1', 'aria-labelledby': `${logId}-iv` }, h('h2', { id: `${logId}-iv` }, 'Interview'), ivBox))));
  mount(ivBox, skeleton(2));
  draw({ stick: true });
  markRead();
  loadZones().then(() => { if (ctx.current) drawInterview(); });

  // ---- live ----
  ctx.onCleanup(ctx.live.on('message.created', (d, eventId) => {
    if (!d || d.conversation_id !== id) return;
    outbox.receive(id, d.message);
    if (addLive(d.message, eventId)) {
      draw({ stick: d.message.sender_id === me.id });
      announce([d.message]);
      markRead();
    }
    catchUpSoon();
  }));
  ctx.onCleanup(outbox.subscribe((c, ev) => {
    if (c !== id || !ctx.current) return;
    if (ev.type === 'sent' && ev.message) { addLive(ev.message, null); catchUpSoon(); }
    draw();
  }));
  const onIv = (kind) => (d) => {
    const iv = d?.interview;
    if (!iv || iv.conversation_id !== id) return;
    const was = interview?.status;
    interview = iv;
    proposing = false;
    drawInterview();
    if (was === iv.status) return;
    const by = kind === 'accepted' ? engineerP : kind === 'proposed' ? clientP : null;
    if (by && by.id === me.id) return;
    const text = kind === 'accepted' ? `${engineerP?.name || 'The engineer'} chose ${inZone(iv.slot, viewerZone)} for the interview.`
      : kind === 'proposed' ? `${clientP?.name || 'The client'} proposed ${iv.slots.length} interview time${iv.slots.length === 1 ? '' : 's'}.`
        : iv.cancelled_by !== me.id ? 'The interview was cancelled.' : null;
    if (text) { toast(text, 'info'); live.textContent = text; }
  };
  ctx.onCleanup(ctx.live.on('interview.proposed', onIv('proposed')));
  ctx.onCleanup(ctx.live.on('interview.accepted', onIv('accepted')));
  ctx.onCleanup(ctx.live.on('interview.cancelled', onIv('cancelled')));
  ctx.onCleanup(ctx.live.on('resync', () => {
    catchUp();
    get(`/api/v1/conversations/${encodeURIComponent(id)}/interview`).then((iv) => { if (ctx.current) { interview = iv; drawInterview(); } }).catch(() => {});
  }));
  const onNet = () => {
    if (!ctx.current) return;
    if (offlineNote) offlineNote.hidden = navigator.onLine !== false;
    draw();
  };
  window.addEventListener('online', onNet);
  window.addEventListener('offline', onNet);
  const onVis = () => { if (document.visibilityState === 'visible') markRead(); };
  document.addEventListener('visibilitychange', onVis);
  ctx.onCleanup(() => {
    window.removeEventListener('online', onNet);
    window.removeEventListener('offline', onNet);
    document.removeEventListener('visibilitychange', onVis);
  });
  if (composerInput && !matchMedia('(max-width: 600px)').matches) composerInput.focus({ preventScroll: true });
}
