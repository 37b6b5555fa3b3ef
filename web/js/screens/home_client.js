// home_client: what is waiting for a client: candidates who accepted and
// wait for a reply or an offer, open requests with their state and SLA
// ring, milestones to review or fund on active contracts, and unread
// messages; "Raise a request" is always the first button. A new client
// (no requests yet) sees how it works and the one thing to do.
import { h, mount } from '../dom.js';
import { get, qs } from '../api.js';
import { money } from '../format.js';
import { chip, empty, failed, link, pageHead, skeleton, timeAgo } from '../ui.js';
import { OPEN, plural, slaRing, syncClock } from './requests_common.js';
import { needsYou } from './contracts_list.js';

const LIVE = ['candidate.updated', 'request.updated', 'request.widened', 'request.sla_breached', 'message.created', 'conversation.created',
  'contract.accepted', 'contract.declined', 'contract.ended', 'milestone.submitted', 'milestone.funded', 'milestone.released', 'timesheet.submitted'];

export default async function render(view, ctx) {
  const me = ctx.me;
  const first = me.name.split(' ')[0];
  const cta = () => h('a', { class: 'btn btn-primary', href: '/requests/new' }, 'Raise a request');
  mount(view, pageHead(`Hello, ${first}`, { sub: 'What is waiting for you', actions: cta() }), skeleton(6));

  async function load() {
    const [reqs, convs, contracts] = await Promise.allSettled([
      get(`/api/v1/requests${qs({ limit: 50 })}`),
      get('/api/v1/conversations'),
      get(`/api/v1/contracts${qs({ status: 'active', limit: 50 })}`),
      syncClock(),
    ]);
    if (reqs.status === 'rejected') throw reqs.reason;
    const all = reqs.value.items || [];
    const open = all.filter((r) => OPEN.has(r.status));
    // the candidates of open requests with acceptances (the list has counts only)
    const withAccepted = open.filter((r) => r.accepted > 0).slice(0, 8);
    const details = await Promise.all(withAccepted.map((r) => get(`/api/v1/requests/${encodeURIComponent(r.id)}`).catch(() => null)));
    if (!ctx.current) return;
    const cv = convs.status === 'fulfilled' ? convs.value.items || [] : null;
    const convOf = new Map((cv || []).map((c) => [c.candidate_id, c]));
    const waiting = details.filter(Boolean).flatMap((r) => r.candidates.filter((c) => c.status === 'accepted').map((c) => ({ r, c, conv: convOf.get(c.id) })));
    const unread = (cv || []).filter((c) => c.unread > 0);
    const ks = contracts.status === 'fulfilled' ? contracts.value.items || [] : null;

    if (!all.length && !(ks && ks.length)) {
      mount(view, h('div', { class: 'stack' },
        pageHead(`Welcome, ${first}`, { sub: 'Hire a vetted async Python engineer in four steps' }),
        h('section', { class: 'card home-welcome', 'aria-labelledby': 'welcome-h' },
          h('h2', { id: 'welcome-h' }, 'Start with a request'),
          h('ol', { class: 'how-steps' },
            h('li', h('strong', 'Raise a request: '), 'the skills you need, your budget, hours and time zone.'),
            h('li', h('strong', 'See the shortlist at once: '), 'up to five vetted engineers, ranked, with why each is on it.'),
            h('li', h('strong', 'Talk to those who accept: '), 'three should accept within 8 hours.'),
            h('li', h('strong', 'Make an offer and fund it: '), 'money waits in escrow until you approve the work.')),
          h('div', { class: 'actions' }, cta(), link('/#frameworks', 'Browse engineers by framework')))));
      return;
    }

    const things = waiting.length + unread.length + (ks || []).filter((k) => needsYou(k, me)).length;
    mount(view, h('div', { class: 'stack' },
      pageHead(`Hello, ${first}`, { sub: things ? `${plural(things, 'thing', 'things')} waiting for you` : 'Nothing needs you right now', actions: cta() }),
      h('div', { class: 'cols' },
        h('div', { class: 'stack' }, waitingCard(waiting), requestsCard(open, all.length), contractsCard(ks)),
        h('div', { class: 'stack' }, messagesCard(unread, cv)))));
  }

  function waitingCard(waiting) {
    return h('section', { class: 'card', 'aria-labelledby': 'wait-h' },
      h('h2', { id: 'wait-h' }, 'Candidates waiting for you', waiting.length ? ' ' : null, waiting.length ? h('span', { class: 'badge' }, String(waiting.length)) : null),
      !waiting.length ? h('p', { class: 'meta' }, 'When an engineer accepts your invitation they appear here, ready to talk.')
        : h('ul', { class: 'list home-list' }, waiting.map(({ r, c, conv }) => h('li', { dataset: { candidate: c.id } },
          h('div', { class: 'spread' },
            h('div', h('strong', c.engineer_name), ' ', chip(c.status),
              h('p', { class: 'meta' }, `${r.title} · score ${(Math.round(c.score * 10) / 10).toFixed(1)} · accepted `, timeAgo(c.responded_at))),
            h('div', { class: 'actions' },
              h('a', { class: 'btn btn-small', href: conv ? `/messages/${encodeURIComponent(conv.id)}` : '/messages' }, 'Message'),
              h('a', { class: 'btn btn-small btn-primary', href: `/offers/new/${encodeURIComponent(c.id)}?request=${encodeURIComponent(r.id)}` }, 'Make an offer')))))));
  }

  function requestsCard(open, total) {
    return h('section', { class: 'card', 'aria-labelledby': 'req-h' },
      h('h2', { id: 'req-h' }, 'Open requests', open.length ? ' ' : null, open.length ? h('span', { class: 'badge badge-quiet' }, String(open.length)) : null),
      !open.length ? empty('No open requests.', 'Raise one and the shortlist appears at once.', null)
        : h('ul', { class: 'list home-list' }, open.map((r) => h('li', { dataset: { request: r.id } },
          h('div', { class: 'spread' },
            h('div', link(`/requests/${r.id}`, r.title), ' ', chip(r.status),
              h('p', { class: 'meta' }, `${r.accepted} of 3 accepted · ${plural(r.invited, 'engineer', 'engineers')} invited · raised `, timeAgo(r.created_at))),
            slaRing(r))))),
      h('p', link('/requests', total > open.length ? `All ${plural(total, 'request', 'requests')}` : 'All your requests')));
  }

  function contractsCard(ks) {
    return h('section', { class: 'card', 'aria-labelledby': 'ctr-h' },
      h('h2', { id: 'ctr-h' }, 'Active contracts'),
      ks === null ? h('p', { class: 'meta' }, 'Contracts could not be read just now.', ' ', link('/contracts', 'Open contracts'))
        : !ks.length ? h('p', { class: 'meta' }, 'No active contracts. They start when an engineer accepts your offer.')
          : h('ul', { class: 'list home-list' }, ks.map((k) => {
            const need = needsYou(k, me);
            return h('li', h('div', { class: 'spread' },
              h('div', link(`/contracts/${k.id}`, k.request_title), ' ', chip(k.status),
                h('p', { class: 'meta' }, `${k.engineer_name} · ${k.type === 'hourly' ? 'hourly' : 'fixed price'}`),
                need ? h('p', { class: 'needs' }, need) : null),
              h('span', { class: 'num' }, k.escrow ? [money(k.escrow, k.currency), h('span', { class: 'meta' }, ' in escrow')] : '')));
          })),
      ks && ks.length ? h('p', link('/contracts', 'All contracts')) : null);
  }

  function messagesCard(unread, cv) {
    const n = unread.reduce((s, c) => s + c.unread, 0);
    return h('section', { class: 'card', 'aria-labelledby': 'msg-h' },
      h('h2', { id: 'msg-h' }, 'Unread messages', n ? ' ' : null, n ? h('span', { class: 'badge' }, String(n)) : null),
      cv === null ? h('p', { class: 'meta' }, 'Messages could not be read just now.')
        : !unread.length ? h('p', { class: 'meta' }, cv.length ? 'You are up to date.' : 'Conversations open when an engineer accepts an invitation.')
          : h('ul', { class: 'list home-list' }, unread.map((c) => {
            const other = c.participants.find((p) => p.id !== me.id) || c.participants[1];
            return h('li', h('div', { class: 'spread' },
              h('div', link(`/messages/${c.id}`, other?.name || 'Conversation'),
                c.last_message ? h('p', { class: 'meta msg-preview' }, c.last_message.body.slice(0, 120)) : null),
              h('span', { class: 'badge' }, String(c.unread))));
          })),
      h('p', link('/messages', 'All messages')));
  }

  try {
    await load();
  } catch (e) {
    if (!ctx.current) return;
    failed(view, e, () => ctx.navigate('/', { replace: true }));
    return;
  }
  let t = null;
  const again = () => { clearTimeout(t); t = setTimeout(() => load().catch(() => {}), 250); };
  for (const ty of LIVE) ctx.onCleanup(ctx.live.on(ty, again));
  ctx.onCleanup(ctx.live.on('resync', again));
  ctx.onCleanup(() => clearTimeout(t));
}
