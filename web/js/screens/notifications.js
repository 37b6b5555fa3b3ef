// notifications: what happened for this user, newest first
// (GET /api/v1/me/notifications), each kind said as a sentence with a link
// to where to act, unread ones marked, "Mark all as read" (POST
// /api/v1/me/notifications/read up to the newest shown, so one arriving
// meanwhile stays unread), and new ones appearing live.
import { h, mount } from '../dom.js';
import { get, post, qs } from '../api.js';
import { badges } from '../badges.js';
import { chip, empty, failed, loading, pageHead, timeAgo, toast, busy } from '../ui.js';

const quote = (t) => `“${t}”`;

/** Titles for the ids notifications carry (their payloads hold ids only). */
async function lookups(items, me) {
  const out = { requests: new Map(), invitations: new Map() };
  const kinds = new Set(items.map((i) => i.kind));
  const jobs = [];
  if (me.role === 'engineer' && kinds.has('invitation')) {
    jobs.push(get('/api/v1/me/invitations').then((d) => {
      for (const inv of d.items || []) {
        out.invitations.set(inv.id, inv);
        if (inv.request) out.requests.set(inv.request.id, inv.request);
      }
    }));
  }
  if ((me.role === 'client' || me.role === 'admin') && items.some((i) => i.payload?.request_id)) {
    jobs.push(get(`/api/v1/requests${qs({ limit: 100 })}`).then((d) => {
      for (const r of d.items || []) out.requests.set(r.id, r);
    }));
  }
  await Promise.allSettled(jobs);
  return out;
}

function requestName(id, look, fallback = 'a request') {
  const r = id && look.requests.get(id);
  return r?.title ? quote(r.title) : fallback;
}

function accepted(p) {
  const n = Number(p?.accepted) || 0;
  return `${n} of 3 engineers accepted`;
}

/**
 * One notification as {text, links:[[href, label]], state?}: the sentence
 * a person would write, and where to go about it.
 */
function describe(n, look, me) {
  const p = n.payload || {};
  switch (n.kind) {
    case 'invitation': {
      const inv = look.invitations.get(p.candidate_id);
      if (inv) {
        return { text: `You are invited to ${requestName(p.request_id, look, 'a new request')}. Accept or decline before the invitation expires.`,
          state: inv.status, links: [['/invitations', 'See your invitations']] };
      }
      return { text: `You were invited to ${requestName(p.request_id, look, 'a request')}. This invitation is no longer open.`,
        links: [['/invitations', 'See your open invitations']] };
    }
    case 'request.sla_breached':
      return { text: `${requestName(p.request_id, look, 'Your request').replace(/^a request$/, 'Your request')} was not matched within 8 hours (${accepted(p)}). We keep searching and inviting; you can also start talking to a candidate now.`,
        state: 'breached', links: p.request_id ? [[`/requests/${p.request_id}`, 'Open the request']] : [] };
    case 'admin.sla_breach':
      return { text: `SLA breach: ${requestName(p.request_id, look)} passed its 8-hour deadline with ${accepted(p)}.`,
        state: 'breached', links: [p.request_id ? [`/requests/${p.request_id}`, 'Open the request'] : null, ['/admin/sla', 'SLA board']].filter(Boolean) };
    default:
      return generic(n, look, me);
  }
}

/** A kind this screen does not know yet: its name in words, and links from the ids it carries. */
function generic(n, look, me) {
  const p = n.payload || {};
  const words = String(n.kind || 'update').replace(/[._]/g, ' ');
  const links = [];
  if (p.request_id && (me.role === 'client' || me.role === 'admin')) links.push([`/requests/${p.request_id}`, 'Open the request']);
  if (p.contract_id && me.role !== 'vetter') links.push([`/contracts/${p.contract_id}`, 'Open the contract']);
  if (p.conversation_id) links.push([`/messages/${p.conversation_id}`, 'Open the conversation']);
  if (p.candidate_id && me.role === 'engineer') links.push(['/invitations', 'See your invitations']);
  if (p.dispute_id && me.role === 'admin') links.push(['/admin/disputes', 'Disputes']);
  const title = p.title || p.request_title || p.milestone_title;
  return { text: `${words.charAt(0).toUpperCase()}${words.slice(1)}${title ? `: ${quote(title)}` : ''}.`, state: p.status, links };
}

function item(n, look, me) {
  const unread = !n.read_at;
  const d = describe(n, look, me);
  return h('li', { class: ['note', unread ? 'note-unread' : null], dataset: { id: String(n.id), kind: n.kind } },
    h('div', { class: 'note-body' },
      h('p', { class: 'note-text' }, d.text),
      h('p', { class: 'meta row' },
        timeAgo(n.created_at),
        unread ? chip('unread') : null,
        d.state ? chip(d.state) : null,
        ...d.links.map(([href, label]) => h('a', { href }, label)))));
}

function emptyFor(me) {
  const next = {
    client: ['Raise a request and you will hear here when it is matched or its 8-hour deadline passes.', h('a', { class: 'btn', href: '/requests/new' }, 'Raise a request')],
    engineer: ['Invitations to requests that match your vetted skills appear here.', h('a', { class: 'btn', href: '/profile' }, 'Check your profile')],
    admin: ['SLA breaches and other escalations appear here.', h('a', { class: 'btn', href: '/admin/sla' }, 'Open the SLA board')],
    vetter: ['Updates about your vetting work appear here.', h('a', { class: 'btn', href: '/vetting' }, 'Open the queue')],
  }[me.role] || ['Updates will appear here.', null];
  return empty('No notifications yet', next[0], next[1]);
}

export default async function render(view, ctx) {
  const me = ctx.me;
  const sub = h('p', { class: 'sub', role: 'status' }, '');
  const markBtn = h('button', { type: 'button', class: 'btn btn-primary', disabled: true }, 'Mark all as read');
  const list = h('div', { class: 'notes' });
  let newest = 0;
  let unreadCount = 0;

  async function load() {
    const d = await get('/api/v1/me/notifications');
    const items = d.items || [];
    const look = await lookups(items, me);
    return { items, look, unread: typeof d.unread === 'number' ? d.unread : items.filter((i) => !i.read_at).length };
  }

  function draw({ items, look, unread }) {
    newest = items.reduce((m, i) => Math.max(m, Number(i.id) || 0), 0);
    unreadCount = unread;
    sub.textContent = items.length
      ? `${unread === 0 ? 'All read' : `${unread} unread`} · the latest ${items.length}`
      : 'Nothing yet';
    markBtn.disabled = unread === 0;
    markBtn.className = unread ? 'btn btn-primary' : 'btn';
    markBtn.hidden = items.length === 0;
    mount(list, items.length ? h('ul', { class: 'list note-list', 'aria-label': 'Notifications, newest first' }, items.map((n) => item(n, look, me))) : emptyFor(me));
  }

  loading(view, 'Loading notifications');
  let first;
  try {
    first = await load();
  } catch (err) {
    if (ctx.current) failed(view, err, () => render(view, ctx));
    return;
  }
  if (!ctx.current) return;
  mount(view, pageHead('Notifications', { actions: markBtn }), list);
  view.querySelector('.page-head > div')?.append(sub);
  draw(first);

  let timer = null;
  let inFlight = false;
  const reload = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (inFlight) { reload(); return; }
      inFlight = true;
      try {
        const d = await load();
        if (ctx.current) draw(d);
      } catch { /* the next event or resync tries again */ } finally { inFlight = false; }
    }, 400);
  };
  ctx.onCleanup(() => clearTimeout(timer));
  ctx.onCleanup(ctx.live.on('*', () => reload()));
  ctx.onCleanup(ctx.live.on('resync', () => reload()));

  markBtn.addEventListener('click', () => busy(markBtn, async () => {
    try {
      const out = await post('/api/v1/me/notifications/read', newest ? { up_to: newest } : {});
      badges.refresh(0);
      const left = typeof out?.unread === 'number' ? out.unread : 0;
      toast(left ? `Marked as read; ${left} newer still unread.` : 'All notifications marked as read.', 'good');
      const d = await load();
      if (ctx.current) draw(d);
    } catch (err) {
      toast(`Could not mark them as read: ${err.detail || err.message}`, 'bad');
    }
  }, 'Marking…').then(() => { markBtn.disabled = unreadCount === 0; }));
}
