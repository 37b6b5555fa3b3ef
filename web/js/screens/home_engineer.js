// home_engineer: what is waiting for an engineer: invitations to answer
// (with the time left), contract offers, milestones to deliver (funded, or
// changes requested) and the balance. An engineer who is not vetted yet
// sees where they are in vetting and the next step instead.
import { h, mount } from '../dom.js';
import { get, qs } from '../api.js';
import { date, money, stateLabel } from '../format.js';
import { countdownRing } from '../charts.js';
import { card, chip, empty, failed, link, pageHead, skeleton, timeAgo } from '../ui.js';
import { dueWords } from './money_common.js';

const LIVE = ['invitation.created', 'invitation.updated', 'contract.offered', 'contract.accepted', 'contract.declined',
  'contract.ended', 'milestone.funded', 'milestone.changes_requested', 'milestone.released', 'milestone.submitted',
  'timesheet.approved', 'payout.succeeded', 'payout.failed', 'payout.reversed', 'assessment.graded', 'challenge.graded'];

const VETTING = {
  applied: ['Complete your profile', 'Tell clients what you build: headline, rate, time zone and your skills.', '/profile', 'Complete your profile'],
  profile_complete: ['Take the assessment', '20 questions on async Python, 30 minutes.', '/assessment', 'Start the assessment'],
  assessment_passed: ['Interview with a vetter', 'You passed the assessment. A vetter will interview you next; you hear from them by email and here.', '/profile', 'Review your profile'],
  interview_scheduled: ['Your interview is booked', 'A vetter meets you at the agreed time. After it you are vetted or told what to work on.', '/profile', 'Review your profile'],
  assessment_failed: ['Try the assessment again later', 'You did not pass this time.', '/assessment', 'See the assessment'],
  rejected: ['Not vetted this time', 'The vetter\'s notes say what to work on.', '/profile', 'See your profile'],
};
const STEPS = ['applied', 'profile_complete', 'assessment_passed', 'interview_scheduled', 'vetted'];

export default async function render(view, ctx) {
  const me = ctx.me;
  mount(view, pageHead(`Hello, ${me.name.split(' ')[0]}`, { sub: 'What is waiting for you' }), skeleton(6));

  async function load() {
    const [profile, invitations, offered, active, balance] = await Promise.allSettled([
      get('/api/v1/me/profile'),
      get('/api/v1/me/invitations'),
      get(`/api/v1/contracts${qs({ status: 'offered', limit: 50 })}`),
      get(`/api/v1/contracts${qs({ status: 'active', limit: 100 })}`),
      get('/api/v1/me/balance'),
    ]);
    if (!ctx.current) return;
    if (profile.status === 'rejected' && invitations.status === 'rejected') throw profile.reason;
    const eng = profile.status === 'fulfilled' ? profile.value.engineer : null;
    const vetting = eng?.vetting || null;
    const vetted = !vetting || vetting.status === 'vetted';
    const invs = invitations.status === 'fulfilled' ? (invitations.value.items || []).filter((i) => i.status === 'invited') : [];
    const offers = offered.status === 'fulfilled' ? offered.value.items || [] : [];
    const contracts = active.status === 'fulfilled' ? active.value.items || [] : [];
    const todo = contracts.flatMap((k) => k.milestones.filter((m) => m.status === 'funded').map((m) => ({ k, m })))
      .sort((a, b) => (!!b.m.changes_note - !!a.m.changes_note) || String(a.m.due || a.m.week_start).localeCompare(String(b.m.due || b.m.week_start)));
    const inReview = contracts.flatMap((k) => k.milestones.filter((m) => m.status === 'submitted').map((m) => ({ k, m })));
    const bal = balance.status === 'fulfilled' ? balance.value.balances || [] : null;

    const waiting = invs.length + offers.length + todo.length;
    mount(view, h('div', { class: 'stack' },
      pageHead(`Hello, ${me.name.split(' ')[0]}`, {
        sub: waiting ? `${waiting} thing${waiting === 1 ? '' : 's'} waiting for you` : 'Nothing needs you right now',
      }),
      !vetted ? vettingCard(vetting) : null,
      h('div', { class: 'cols' },
        h('div', { class: 'stack' },
          invitationsCard(invs, invitations.status === 'rejected'),
          offersCard(offers),
          deliverCard(todo, inReview)),
        h('div', { class: 'stack' }, balanceCard(bal), eng && vetted ? profileCard(eng) : null))));
  }

  function vettingCard(v) {
    const [title, text, href, cta] = VETTING[v.status] || ['Vetting', '', '/profile', 'See your profile'];
    const at = STEPS.indexOf(v.status);
    return h('section', { class: 'card vetting-next', 'aria-labelledby': 'vet-h' },
      h('h2', { id: 'vet-h' }, 'Getting vetted ', chip(v.status)),
      h('p', h('strong', `Next: ${title}. `), text,
        v.reapply_after ? ` You can try again from ${date(String(v.reapply_after).slice(0, 10))}.` : ''),
      at >= 0 ? h('ol', { class: 'how-steps' }, STEPS.map((s, i) => h('li', { 'aria-current': i === at ? 'step' : null },
        i < at ? '✓ ' : '', i === at ? h('strong', stateLabel(s)) : stateLabel(s)))) : null,
      h('p', { class: 'meta' }, 'Clients see you, and invitations reach you, once you are vetted.'),
      h('div', { class: 'actions' }, h('a', { class: 'btn btn-primary', href }, cta)));
  }

  function invitationsCard(invs, broken) {
    return h('section', { class: 'card', 'aria-labelledby': 'inv-h' },
      h('h2', { id: 'inv-h' }, 'Invitations to answer', invs.length ? ' ' : null, invs.length ? h('span', { class: 'badge' }, String(invs.length)) : null),
      broken ? h('p', { class: 'meta' }, 'Invitations could not be read just now.')
        : !invs.length ? empty('No open invitations.', 'When a client\'s request matches your vetted skills you are invited here, with 24 hours to answer.')
          : h('ul', { class: 'list home-list' }, invs.slice(0, 5).map((i) => {
            const left = (new Date(i.expires_at).getTime() - Date.now()) / 1000;
            const total = (new Date(i.expires_at).getTime() - new Date(i.invited_at).getTime()) / 1000;
            return h('li', h('div', { class: 'spread' },
              h('div', h('strong', i.request?.title || 'A request'),
                h('p', { class: 'meta' }, [i.request?.seniority, i.request?.engagement, i.request?.budget ? `${money(i.request.budget)}${i.request.engagement === 'hourly' ? '/h' : ''}` : null].filter(Boolean).join(' · '))),
              countdownRing(left, total, { label: 'to answer' })));
          })),
      invs.length ? h('p', link('/invitations', invs.length > 5 ? `See all ${invs.length} invitations` : 'Answer on the invitations page')) : null);
  }

  function offersCard(offers) {
    return h('section', { class: 'card', 'aria-labelledby': 'off-h' },
      h('h2', { id: 'off-h' }, 'Offers to answer', offers.length ? ' ' : null, offers.length ? h('span', { class: 'badge' }, String(offers.length)) : null),
      !offers.length ? h('p', { class: 'meta' }, 'No contract offers waiting. Clients make offers after you accept an invitation and talk.')
        : h('ul', { class: 'list home-list' }, offers.map((k) => h('li',
          h('div', { class: 'spread' },
            h('div', link(`/contracts/${k.id}`, k.request_title), ' ', chip(k.status),
              h('p', { class: 'meta' }, `${k.client_name} · `, k.type === 'hourly'
                ? `${money(k.hourly_rate, k.currency)}/h up to ${k.weekly_cap_hours} h a week`
                : `${money(k.milestones.reduce((s, m) => s + m.amount, 0), k.currency)} in ${k.milestones.length} milestone${k.milestones.length === 1 ? '' : 's'}`,
              ' · offered ', timeAgo(k.created_at))),
            h('a', { class: 'btn btn-primary btn-small', href: `/contracts/${k.id}` }, 'Review the offer'))))));
  }

  function deliverCard(todo, inReview) {
    return h('section', { class: 'card', 'aria-labelledby': 'dl-h' },
      h('h2', { id: 'dl-h' }, 'To deliver', todo.length ? ' ' : null, todo.length ? h('span', { class: 'badge' }, String(todo.length)) : null),
      !todo.length ? h('p', { class: 'meta' }, 'Nothing funded is waiting for you. Work starts when a client funds a milestone into escrow.')
        : h('ul', { class: 'list home-list' }, todo.map(({ k, m }) => h('li',
          h('div', { class: 'spread' },
            h('div', link(`/contracts/${k.id}#${m.id}`, m.title), ' ', m.changes_note ? chip('changes_requested') : chip(m.status),
              h('p', { class: 'meta' }, `${k.request_title} · ${k.client_name}`,
                m.due ? ` · ${date(m.due)} (${dueWords(m.due)})` : '',
                k.type === 'hourly' ? ' · submit the week\'s timesheet' : '')),
            h('span', { class: 'num' }, money(m.amount, k.currency)))))),
      inReview.length ? h('p', { class: 'meta' }, `${inReview.length} waiting for the client's review.`) : null);
  }

  function balanceCard(bal) {
    return h('section', { class: 'card', 'aria-labelledby': 'bal-h' },
      h('h2', { id: 'bal-h' }, 'Balance'),
      bal === null ? h('p', { class: 'meta' }, 'The balance could not be read just now.')
        : !bal.length ? h('p', { class: 'meta' }, 'No earnings yet.')
          : h('div', { class: 'kpis' }, bal.flatMap((r) => [
            h('div', { class: 'kpi' }, h('div', { class: 'kpi-value' }, money(r.payable, r.currency)), h('div', { class: 'kpi-label' }, 'Payable')),
            h('div', { class: 'kpi' }, h('div', { class: 'kpi-value' }, money(r.pending, r.currency)), h('div', { class: 'kpi-label' }, 'In escrow')),
          ])),
      h('p', link('/earnings', 'Earnings and payouts')));
  }

  function profileCard(eng) {
    return card('Your profile',
      h('p', eng.headline || ''),
      h('p', { class: 'meta' }, eng.available === false ? 'You are marked unavailable: clients will not be matched with you.' : 'Available for new work.'),
      h('p', link('/profile', 'Edit your profile')));
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
