// invitations: the engineer's open invitations (GET /api/v1/me/invitations),
// each with the request's terms, why they were picked (the score's parts)
// and a ring for the 24 hours to answer. Accept, or decline with a reason
// from a list (required) and words of your own. New invitations arrive
// live (invitation.created); one the client withdraws or that expires
// (invitation.updated) says so in place instead of vanishing.
import { h, mount } from '../dom.js';
import { ApiError, get, post } from '../api.js';
import { stateLabel } from '../format.js';
import { scoreParts } from '../charts.js';
import { busy, chip, clearErrors, empty, failed, field, loading, showErrors, timeAgo, toast } from '../ui.js';
import { inviteRing, loadCatalog, plural, requestFacts, syncClock } from './requests_common.js';

const REASONS = [
  ['busy', 'I am fully booked for now'],
  ['hours', 'The hours or time zone do not work for me'],
  ['budget', 'The budget is below my rate'],
  ['skills', 'The work is not a good fit for my skills'],
  ['scope', 'The description is too unclear to commit'],
  ['other', 'Another reason'],
];

export default async function render(view, ctx) {
  const announce = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
  const listBox = h('div', { class: 'inv-box' });
  const count = h('p', { class: 'sub' });
  let cat = null;
  const items = new Map(); // candidate id -> {inv, el, closed?: status}
  const conversations = new Map(); // candidate id -> conversation id

  function answeredEl(inv, status, note) {
    const cid = conversations.get(inv.id);
    return h('li', { class: ['card', 'inv', `inv-${status}`], dataset: { candidate: inv.id, status } },
      h('div', { class: 'spread' }, h('h2', { class: 'inv-title' }, inv.request?.title || 'A request'), chip(status)),
      h('p', note),
      status === 'accepted' ? h('p', h('a', { class: 'btn btn-primary', href: cid ? `/messages/${encodeURIComponent(cid)}` : '/messages' },
        cid ? 'Message the client' : 'Go to your messages')) : null);
  }

  function openEl(inv) {
    const r = inv.request || {};
    const titleId = `inv-${inv.id}`;
    const acceptBtn = h('button', { type: 'button', class: 'btn btn-primary' }, 'Accept');
    const declineBtn = h('button', { type: 'button', class: 'btn', 'aria-expanded': 'false' }, 'Decline…');
    const reasonBox = h('div', { class: 'field', dataset: { field: 'reason' } },
      h('label', { class: 'sr-only', for: `${inv.id}-r0` }, 'Reason'),
      h('fieldset', h('legend', 'Why are you declining?'),
        h('p', { class: 'hint' }, 'Required. It helps us invite you to work that fits you better.'),
        h('div', { class: 'choices choices-col' }, REASONS.map(([v, l], i) => h('label', { class: 'choice' },
          h('input', { type: 'radio', name: `reason-${inv.id}`, value: v, id: `${inv.id}-r${i}` }), l)))));
    const note = h('textarea', { name: 'note', rows: 2, maxlength: 400 });
    const noteField = field({ label: 'Anything to add', name: 'note', input: note, required: false, hint: 'Required for "Another reason"' });
    const confirmDecline = h('button', { type: 'submit', class: 'btn btn-danger' }, 'Decline the invitation');
    const declineForm = h('form', { class: 'panel decline-form', hidden: true, novalidate: true },
      reasonBox, noteField,
      h('div', { class: 'actions' }, confirmDecline,
        h('button', { type: 'button', class: 'btn btn-link', onClick: () => toggle(false) }, 'Keep it open')));
    function toggle(open) {
      declineForm.hidden = !open;
      declineBtn.setAttribute('aria-expanded', String(open));
      if (open) declineForm.querySelector('input[type=radio]')?.focus(); else declineBtn.focus();
    }
    declineBtn.addEventListener('click', () => toggle(declineForm.hidden));
    const result = h('div', { role: 'alert', class: 'inv-result' });

    acceptBtn.addEventListener('click', () => busy(acceptBtn, async () => {
      mount(result);
      try {
        await post(`/api/v1/candidates/${encodeURIComponent(inv.id)}/accept`);
        await findConversation(inv.id);
        settle(inv, 'accepted', 'You accepted. The client has been told and a conversation is open: say hello and agree on next steps.');
        toast(`You accepted “${r.title}”.`, 'good');
      } catch (e) {
        refused(inv, e, result);
      }
    }, 'Accepting…'));

    declineForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      busy(confirmDecline, async () => {
        clearErrors(declineForm);
        const chosen = declineForm.querySelector('input[type=radio]:checked');
        const words = note.value.trim();
        const errs = [];
        if (!chosen) errs.push({ field: 'reason', message: 'is required: pick the one closest' });
        if (chosen?.value === 'other' && !words) errs.push({ field: 'note', message: 'is required when the reason is "Another reason"' });
        if (errs.length) { showErrors(declineForm, new ApiError(422, { detail: 'some fields are invalid', errors: errs })); return; }
        const label = REASONS.find(([v]) => v === chosen.value)[1];
        const reason = `${label}${words ? `: ${words}` : ''}`.slice(0, 500);
        try {
          await post(`/api/v1/candidates/${encodeURIComponent(inv.id)}/decline`, { reason });
          settle(inv, 'declined', 'You declined. Thank you for answering quickly: the next best engineer is invited in your place.');
          toast(`You declined “${r.title}”.`, 'info');
        } catch (e) {
          if (e instanceof ApiError && e.status === 422) showErrors(declineForm, e);
          else refused(inv, e, result);
        }
      }, 'Declining…');
    });

    return h('li', { class: 'card inv', dataset: { candidate: inv.id, status: 'invited' }, 'aria-labelledby': titleId },
      h('div', { class: 'inv-head' },
        h('div', h('h2', { class: 'inv-title', id: titleId }, r.title || 'A request'),
          h('p', { class: 'meta' }, 'Invited ', timeAgo(inv.invited_at), ` · your score ${(Math.round(inv.score * 10) / 10).toFixed(1)} / 100 · request `, chip(r.status))),
        inviteRing(inv)),
      h('div', { class: 'inv-body' },
        h('div', requestFacts(r, cat, { short: true })),
        h('div', { class: 'inv-why' }, h('h3', 'Why you were picked'), scoreParts(inv.explain))),
      h('div', { class: 'actions' }, acceptBtn, declineBtn),
      declineForm, result);
  }

  /** A 409 (already answered, expired, withdrawn) is said in place; anything else beside the buttons. */
  function refused(inv, e, result) {
    if (e instanceof ApiError && e.status === 409) {
      const st = e.body?.state || 'expired';
      settle(inv, st, `This invitation can no longer be answered: it is ${stateLabel(st).toLowerCase()}.`);
      return;
    }
    if (e instanceof ApiError && e.status === 404) {
      settle(inv, 'withdrawn', 'This invitation is no longer open.');
      return;
    }
    mount(result, h('div', { class: 'notice notice-bad' }, h('p', `Could not send your answer: ${e.detail || e}. Try again.`)));
  }

  function settle(inv, status, note) {
    const it = items.get(inv.id);
    if (!it) return;
    it.closed = status;
    const el = answeredEl(inv, status, note);
    it.el.replaceWith(el);
    it.el = el;
    announce.textContent = note;
    counts();
  }

  async function findConversation(candidateId) {
    try {
      const d = await get('/api/v1/conversations');
      for (const c of d.items || []) conversations.set(c.candidate_id, c.id);
    } catch { /* the link falls back to the messages page */ }
    return conversations.get(candidateId);
  }

  function counts() {
    const open = [...items.values()].filter((i) => !i.closed).length;
    count.textContent = open ? `${plural(open, 'invitation', 'invitations')} waiting for your answer. Each is open for 24 hours.` : 'Nothing waiting for your answer.';
    let ul = listBox.querySelector('ul.invs');
    if (!items.size) {
      mount(listBox, empty('No open invitations.', 'When a client raises a request that fits your vetted skills, rate and hours, the invitation appears here at once, and you have 24 hours to answer. Keeping your profile current helps.',
        h('a', { class: 'btn', href: '/profile' }, 'Review your profile')));
      return;
    }
    if (!ul) { ul = h('ul', { class: 'invs' }); mount(listBox, ul); }
  }

  async function load({ fresh = false } = {}) {
    const [d, c] = await Promise.all([get('/api/v1/me/invitations'), cat ? cat : loadCatalog().catch(() => null), syncClock()]);
    if (!ctx.current) return [];
    cat = c || cat;
    const got = d.items || [];
    const added = [];
    const ids = new Set(got.map((i) => i.id));
    // open ones gone from the list without an answer here: expired or withdrawn (the live event says which)
    for (const [cid, it] of items) {
      if (it.closed || ids.has(cid)) continue;
      if (new Date(it.inv.expires_at).getTime() > Date.now() + (await syncClock())) settle(it.inv, 'withdrawn', 'The client withdrew this invitation: the request was cancelled or filled. Nothing more to do.');
      else settle(it.inv, 'expired', 'This invitation expired after 24 hours without an answer.');
    }
    counts();
    const ul = () => listBox.querySelector('ul.invs');
    // newest first: new ones go on top
    for (const inv of got.slice().reverse()) {
      if (items.has(inv.id)) continue;
      const el = openEl(inv);
      items.set(inv.id, { inv, el });
      counts();
      ul().prepend(el);
      if (!fresh) { el.classList.add('inv-new'); added.push(inv); }
    }
    counts();
    return added;
  }

  loading(view, 'Loading your invitations');
  try {
    mount(listBox);
    await load({ fresh: true });
  } catch (e) {
    if (!ctx.current) return;
    failed(view, e, () => ctx.navigate('/invitations', { replace: true }));
    return;
  }
  if (!ctx.current) return;
  mount(view, h('div', { class: 'page-head' }, h('div', h('h1', 'Invitations'), count)), announce, listBox);

  let t = null;
  const again = () => {
    clearTimeout(t);
    t = setTimeout(async () => {
      try {
        const added = await load();
        if (added.length) {
          const msg = added.length === 1 ? `New invitation: “${added[0].request?.title}”.` : `${added.length} new invitations.`;
          announce.textContent = msg;
          toast(msg, 'info');
        }
      } catch { /* the next event or resync tries again */ }
    }, 150);
  };
  ctx.onCleanup(ctx.live.on('invitation.created', again));
  ctx.onCleanup(ctx.live.on('invitation.updated', (d) => {
    const it = d && items.get(d.candidate_id);
    if (it && !it.closed && d.status !== 'invited') {
      const words = {
        withdrawn: 'The client cancelled this request, so the invitation was withdrawn. Nothing more to do.',
        expired: 'This invitation expired after 24 hours without an answer.',
        accepted: 'You accepted this invitation.',
        declined: 'You declined this invitation.',
      };
      if (d.conversation_id) conversations.set(d.candidate_id, d.conversation_id);
      settle(it.inv, d.status, words[d.status] || `This invitation is now ${stateLabel(d.status).toLowerCase()}.`);
    }
    again();
  }));
  ctx.onCleanup(ctx.live.on('conversation.created', () => { findConversation('').catch(() => {}); }));
  ctx.onCleanup(ctx.live.on('notification.created', again)); // a withdrawal is told as a notification too
  ctx.onCleanup(ctx.live.on('resync', again));
  ctx.onCleanup(() => clearTimeout(t));
}
