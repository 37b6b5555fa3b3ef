// conversations (/messages): the viewer's conversations, newest activity
// first (GET /api/v1/conversations): who with, the request it is about
// (where the viewer may read requests), the last message as text, unread
// ones marked with their count, and what still waits in this tab's outbox.
// It follows the stream: a new message or conversation re-reads the list.
import { h, mount } from '../dom.js';
import { get } from '../api.js';
import { chip, empty, failed, loading, pageHead, timeAgo } from '../ui.js';
import { conversationTitle, outbox } from './messages_common.js';

const LIVE = ['message.created', 'conversation.created', 'interview.proposed', 'interview.accepted', 'interview.cancelled'];

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

function emptyFor(me) {
  switch (me.role) {
    case 'client':
      return empty('No conversations yet',
        'A conversation opens when an engineer accepts your request’s invitation. Check your request’s shortlist, or raise one.',
        h('div', { class: 'actions conv-empty-actions' }, h('a', { class: 'btn btn-primary', href: '/requests' }, 'See your requests'),
          h('a', { class: 'btn', href: '/requests/new' }, 'Raise a request')));
    case 'engineer':
      return empty('No conversations yet', 'A conversation opens with the client when you accept an invitation.',
        h('a', { class: 'btn btn-primary', href: '/invitations' }, 'See your invitations'));
    case 'admin':
      return empty('No conversations yet', 'Conversations appear here once engineers accept invitations.', h('a', { class: 'btn', href: '/admin/sla' }, 'Open the SLA board'));
    default:
      return empty('No conversations', 'Vetters do not take part in conversations: they happen between clients and engineers.', h('a', { class: 'btn', href: '/vetting' }, 'Open the vetting queue'));
  }
}

function preview(c, me) {
  const m = c.last_message;
  if (!m) return h('p', { class: 'conv-preview muted' }, 'No messages yet: say hello.');
  const who = m.sender_id === me.id ? 'You' : (c.participants.find((p) => p.id === m.sender_id)?.name || '').split(' ')[0];
  const text = m.body.replace(/\s+/g, ' ').slice(0, 240);
  return h('p', { class: 'conv-preview' }, who ? h('span', { class: 'conv-who' }, `${who}: `) : null, text);
}

export default async function render(view, ctx) {
  const me = ctx.me;
  const status = h('p', { class: 'sub', role: 'status' });
  const box = h('div', { class: 'conv-box' });
  let items = [];

  function row(c) {
    const unread = c.unread || 0;
    const waiting = outbox.count(c.id);
    const name = conversationTitle(c, me);
    const when = c.last_message_at || c.created_at;
    return h('li', { class: ['conv-row', unread ? 'conv-unread' : null], dataset: { id: c.id } },
      h('a', { class: 'conv-link', href: `/messages/${c.id}` },
        h('span', { class: 'avatar conv-avatar', 'aria-hidden': 'true' }, initials(name)),
        h('span', { class: 'conv-main' },
          h('span', { class: 'conv-top' },
            h('span', { class: 'conv-name' }, name),
            h('span', { class: 'conv-when meta' }, timeAgo(when))),
          h('span', { class: 'conv-about meta' }, `About “${c.request_title}”`),
          preview(c, me),
          unread || waiting ? h('span', { class: 'row conv-flags' },
            unread ? h('span', { class: 'badge conv-badge' }, h('span', { class: 'sr-only' }, 'Unread: '), plural(unread, 'new message', 'new messages')) : null,
            waiting ? chip('pending', `${plural(waiting, 'message', 'messages')} waiting to send`) : null) : null)));
  }

  function draw() {
    const sorted = [...items].sort((a, b) => ((b.last_message_at || b.created_at) > (a.last_message_at || a.created_at) ? 1 : -1));
    if (!sorted.length) {
      status.textContent = '';
      mount(box, emptyFor(me));
      return;
    }
    const unread = sorted.reduce((s, c) => s + (c.unread || 0), 0);
    status.textContent = `${plural(sorted.length, 'conversation', 'conversations')}${unread ? ` · ${plural(unread, 'unread message', 'unread messages')}` : ' · all read'}`;
    mount(box, h('ul', { class: 'list conv-list', 'aria-label': 'Conversations, newest first' }, sorted.map(row)));
  }

  async function load() {
    items = (await get('/api/v1/conversations')).items || [];
  }

  loading(view, 'Loading your messages');
  try {
    await load();
  } catch (err) {
    if (ctx.current) failed(view, err, () => render(view, ctx));
    return;
  }
  if (!ctx.current) return;
  mount(view, pageHead('Messages', { sub: me.role === 'admin' ? 'Every conversation on the platform, newest first' : 'Your conversations, newest first' }), box);
  view.querySelector('.page-head > div')?.append(status);
  draw();

  // one read at a time and one more after it, without timers (a background
  // window's timers are throttled; the list should move when the event comes)
  let inFlight = false;
  let again = false;
  const reload = async () => {
    if (inFlight) { again = true; return; }
    inFlight = true;
    try {
      await load();
      if (ctx.current) draw();
    } catch { /* the next event or resync tries again */ } finally {
      inFlight = false;
      if (again && ctx.current) { again = false; reload(); }
    }
  };
  for (const t of LIVE) ctx.onCleanup(ctx.live.on(t, () => reload()));
  ctx.onCleanup(ctx.live.on('resync', () => reload()));
  ctx.onCleanup(outbox.subscribe(() => { if (ctx.current) draw(); }));
}

function initials(name) {
  return (name || '?').split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('');
}
