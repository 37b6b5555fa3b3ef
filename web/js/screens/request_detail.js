// request_detail: one request as its client (or an admin) sees it: the
// state and the 8-hour SLA ring, how many of the three acceptances are in,
// what the half-time widening relaxed, the terms, and the shortlist the
// moment it exists. Each candidate shows the score's parts as bars (the
// `explain`), their vetted skill levels, and the invitation's state, which
// turns into an acceptance live (candidate.updated) without a reload; an
// accepted candidate can be messaged and made an offer. The request can be
// cancelled (its open invitations are withdrawn).
import { h, mount } from '../dom.js';
import { ApiError, get, post } from '../api.js';
import { exactTime, money, stateLabel } from '../format.js';
import { bars, scoreParts } from '../charts.js';
import { chip, confirmDialog, empty, failed, link, loading, pageHead, timeAgo, toast } from '../ui.js';
import { OPEN, inviteRing, loadCatalog, plural, requestFacts, skillName, slaRing, syncClock, learnClock } from './requests_common.js';

const NEEDED = 3;
const RELAXED = {
  nice_to_have: 'nice-to-haves dropped',
  seniority: 'seniority widened by one level',
  overlap: 'the overlap minimum ignored (still scored)',
};
const LIVE = ['candidate.updated', 'request.updated', 'request.widened', 'request.sla_breached', 'conversation.created', 'contract.offered', 'contract.accepted'];
const profiles = new Map(); // engineer id -> Promise(engineer | null), for the page's life and beyond

function profileOf(id) {
  if (!profiles.has(id)) profiles.set(id, get(`/api/v1/engineers/${encodeURIComponent(id)}`).then((d) => d.engineer).catch(() => { profiles.delete(id); return null; }));
  return profiles.get(id);
}

/** charts.skillLevels' bars with room for the catalog's longer names ("Timeout and cancellation tests"). */
function levelBars(skills) {
  return bars(skills.map((s) => ({ label: s.name, value: s.level, max: 5 })), { title: 'Vetted skill levels', labelWidth: 172, width: 364, fill: 2 });
}

/** The explain said in words, one line per part that has something to say. */
function explainWords(x, cat, req) {
  if (!x) return null;
  const lvl = (s) => `${skillName(cat, s.skill)} ${s.vetted_level}/5`;
  const items = [];
  const mh = x.must_have;
  if (mh) {
    items.push(h('li', h('strong', 'Must-haves: '), mh.matched?.length ? mh.matched.map(lvl).join(', ') : 'none matched',
      mh.missing?.length ? `; short on ${mh.missing.map((m) => `${skillName(cat, m.skill)} (${m.vetted_level ? `vetted ${m.vetted_level}` : 'not vetted'}, needs ${m.min_level})`).join(', ')}` : ''));
  }
  const nh = x.nice_to_have;
  if (nh && (nh.matched?.length || nh.missing?.length || nh.dropped)) {
    items.push(h('li', h('strong', 'Nice-to-haves: '), nh.dropped ? 'dropped by the widening' : [
      nh.matched?.length ? nh.matched.map(lvl).join(', ') : 'none',
      nh.missing?.length ? `; lacks ${nh.missing.map((s) => skillName(cat, s)).join(', ')}` : ''].join('')));
  }
  const fw = x.frameworks;
  if (fw && (fw.matched?.length || fw.missing?.length)) {
    items.push(h('li', h('strong', 'Frameworks: '), fw.matched?.length ? fw.matched.map(lvl).join(', ') : 'none',
      fw.missing?.length ? `; not ${fw.missing.map((s) => skillName(cat, s)).join(', ')}` : ''));
  }
  if (x.seniority) items.push(h('li', h('strong', 'Seniority: '), `${x.seniority.has}${x.seniority.has === x.seniority.wanted ? ', as asked' : ` (you asked ${x.seniority.wanted})`}`));
  if (x.rate?.rate) {
    items.push(h('li', h('strong', 'Rate: '), `${money(x.rate.rate)} an hour`,
      x.rate.budget ? ` against ${req.engagement === 'hourly' ? 'your' : 'your budget\'s'} ${money(x.rate.budget)}` : ''));
  }
  if (x.overlap) {
    items.push(h('li', h('strong', 'Overlap: '), `${x.overlap.hours} h of your working day`,
      x.overlap.ignored ? ' (the minimum was relaxed)' : ` (you asked at least ${x.overlap.required_hours})`));
  }
  if (x.rating) items.push(h('li', h('strong', 'Rating: '), x.rating.rating == null ? 'not rated yet' : `${x.rating.rating} of 5`));
  return h('ul', { class: 'explain-words meta' }, items);
}

export default async function render(view, ctx) {
  const id = ctx.params.id;
  const me = ctx.me;
  const isClient = me.role === 'client';
  const announce = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
  const liveNote = h('div', { class: 'live-note', 'aria-hidden': 'true' });
  let req = null;
  let cat = null;
  const conv = new Map(); // candidate id -> conversation id
  const cands = new Map(); // candidate id -> {key, el}
  let head = null;
  let slaBox = null;
  let listBox = null;
  let factsBox = null;

  async function fetchAll() {
    const [r, c, cs] = await Promise.all([
      get(`/api/v1/requests/${encodeURIComponent(id)}`),
      loadCatalog().catch(() => null),
      get('/api/v1/conversations').catch(() => null),
      syncClock(),
    ]);
    for (const x of cs?.items || []) if (x.request_id === id) conv.set(x.candidate_id, x.id);
    learnClock(r);
    return [r, c];
  }

  function candidateEl(c) {
    const first = c.engineer_name.split(' ')[0];
    const levels = h('div', { class: 'cand-levels' }, h('h4', 'Vetted skill levels'), h('p', { class: 'meta' }, 'Loading…'));
    // must-haves first, then frameworks, then nice-to-haves, then their strongest
    const weight = new Map([...(req.nice_to_have || []).map((x) => [x, 1]), ...(req.frameworks || []).map((x) => [x, 2]), ...(req.must_have || []).map((x) => [x, 3])]);
    profileOf(c.engineer_id).then((eng) => {
      const vetted = (eng?.skills || []).filter((s) => s.vetted_level).map((s) => ({ id: s.id, name: skillName(cat, s.id), level: s.vetted_level, asked: weight.get(s.id) || 0 }));
      vetted.sort((a, b) => (b.asked - a.asked) || (b.level - a.level) || a.name.localeCompare(b.name));
      mount(levels, h('h4', 'Vetted skill levels'),
        vetted.length ? levelBars(vetted.slice(0, 8)) : h('p', { class: 'meta' }, 'No vetted levels to show.'),
        eng ? h('p', { class: 'meta' }, [eng.vetting?.level ? `Vetted ${eng.vetting.level}` : null, eng.years_experience != null ? `${eng.years_experience} years` : null,
          eng.timezone ? eng.timezone.replace(/_/g, ' ') : null].filter(Boolean).join(' · ')) : null,
        eng?.headline ? h('p', { class: 'cand-headline' }, eng.headline) : null);
    });
    let when;
    if (c.status === 'invited') when = h('span', 'Invited ', timeAgo(c.invited_at), '; has until ', h('time', { datetime: c.expires_at }, exactTime(c.expires_at)), ' to answer');
    else if (c.responded_at) when = h('span', `${stateLabel(c.status)} `, timeAgo(c.responded_at));
    else when = h('span', stateLabel(c.status));
    const cid = conv.get(c.id);
    const canTalk = isClient && (c.status === 'accepted' || c.status === 'hired');
    const actions = canTalk ? h('div', { class: 'actions' },
      c.status === 'accepted' && OPEN.has(req.status)
        ? h('a', { class: 'btn btn-primary', href: `/offers/new/${encodeURIComponent(c.id)}?request=${encodeURIComponent(req.id)}` }, `Make an offer to ${first}`)
        : null,
      h('a', { class: 'btn', href: cid ? `/messages/${encodeURIComponent(cid)}` : '/messages' }, cid ? `Message ${first}` : 'Open your messages'),
      c.status === 'hired' ? link('/contracts', 'See the contract') : null) : null;
    const nameId = `cand-${c.id}`;
    return h('li', { class: ['cand', `cand-${c.status}`], dataset: { candidate: c.id, engineer: c.engineer_id, status: c.status }, 'aria-labelledby': nameId },
      h('div', { class: 'cand-head' },
        h('span', { class: 'cand-rank', 'aria-label': `Rank ${c.rank}` }, `#${c.rank}`),
        h('h3', { class: 'cand-name', id: nameId }, c.engineer_name),
        chip(c.status),
        h('span', { class: 'cand-score' }, h('strong', (Math.round(c.score * 10) / 10).toFixed(1)), h('span', { class: 'meta' }, ' / 100'))),
      h('p', { class: 'meta cand-when' }, when, c.status === 'invited' ? ' ' : null, c.status === 'invited' ? inviteRing(c) : null),
      h('div', { class: 'cand-body' },
        h('div', { class: 'cand-why' }, h('h4', 'Why they are on the list'), scoreParts(c.explain), explainWords(c.explain, cat, req)),
        levels),
      actions);
  }

  function drawSla() {
    const accepted = req.candidates.filter((c) => c.status === 'accepted' || c.status === 'hired').length;
    const pips = h('span', { class: 'pips', role: 'img', 'aria-label': `${Math.min(accepted, NEEDED)} of ${NEEDED} acceptances` },
      Array.from({ length: NEEDED }, (_, i) => h('span', { class: ['pip', i < accepted ? 'pip-on' : null] })));
    let text;
    switch (req.status) {
      case 'matching':
        text = [h('strong', `${accepted} of ${NEEDED} accepted. `), `Three engineers should accept by ${exactTime(req.sla_deadline)}; at half-time the search widens by itself.`];
        break;
      case 'matched':
        text = [h('strong', 'Matched. '), `${plural(accepted, 'engineer', 'engineers')} accepted `, timeAgo(req.matched_at), '. Talk to them and make an offer to the one you want.'];
        break;
      case 'breached':
        text = [h('strong', `Not matched in 8 hours (${accepted} of ${NEEDED} accepted). `), 'We keep inviting the next best engineers. You can already talk to anyone who accepted.'];
        break;
      case 'filled':
        text = [h('strong', 'Filled. '), 'An engineer accepted your offer. ', link('/contracts', 'Go to your contracts')];
        break;
      case 'cancelled':
        text = [h('strong', 'Cancelled. '), 'Open invitations were withdrawn and the engineers told.'];
        break;
      default:
        text = [stateLabel(req.status)];
    }
    mount(slaBox,
      h('div', { class: 'sla-row' }, slaRing(req), OPEN.has(req.status) || req.status === 'filled' ? pips : null, h('p', { class: 'sla-text' }, text)),
      req.relaxed?.length ? h('p', { class: 'meta' }, 'The search was widened: ', req.relaxed.map((r) => RELAXED[r] || r).join(', then '), '.') : null);
  }

  function drawList() {
    const list = req.candidates.slice().sort((a, b) => a.rank - b.rank);
    if (!list.length) {
      cands.clear();
      mount(listBox, empty('No vetted engineer matches yet.',
        OPEN.has(req.status) ? 'We keep looking and invite engineers the moment they fit. At 4 hours the search widens by itself; a higher budget or fewer must-haves widen it now.' : null,
        isClient ? h('a', { class: 'btn', href: '/requests/new' }, 'Raise another request') : null));
      return;
    }
    let ul = listBox.querySelector('ul.cands');
    if (!ul) { ul = h('ul', { class: 'list cands' }); mount(listBox, ul); }
    const seen = new Set();
    let prev = null;
    for (const c of list) {
      seen.add(c.id);
      const key = `${c.status}|${c.score}|${conv.get(c.id) || ''}|${req.status}`;
      let entry = cands.get(c.id);
      if (!entry || entry.key !== key) {
        const el = candidateEl(c);
        if (entry) entry.el.replaceWith(el);
        entry = { key, el };
        cands.set(c.id, entry);
      }
      if (prev ? prev.nextSibling !== entry.el : ul.firstChild !== entry.el) {
        if (prev) prev.after(entry.el); else ul.prepend(entry.el);
      }
      prev = entry.el;
    }
    for (const [cid, e] of cands) if (!seen.has(cid)) { e.el.remove(); cands.delete(cid); }
  }

  function drawHead() {
    const canCancel = OPEN.has(req.status);
    const cancelBtn = canCancel ? h('button', { type: 'button', class: 'btn btn-danger', onClick: cancel }, 'Cancel the request') : null;
    const newHead = pageHead(req.title, {
      state: req.status,
      sub: h('span', 'Raised ', timeAgo(req.created_at), me.role === 'admin' ? ` · client ${req.client_id}` : ''),
      actions: cancelBtn,
    });
    if (head) head.replaceWith(newHead);
    head = newHead;
  }

  function drawAll() {
    ctx.title(req.title);
    drawHead();
    drawSla();
    drawList();
    mount(factsBox, h('h2', 'The request'), requestFacts(req, cat),
      h('h3', 'Description'), h('p', { class: 'req-desc' }, req.description));
  }

  async function cancel(ev) {
    const btn = ev.currentTarget;
    const open = req.candidates.filter((c) => c.status === 'invited').length;
    const ok = await confirmDialog({
      title: 'Cancel this request?',
      body: [open ? `${plural(open, 'open invitation is', 'open invitations are')} withdrawn and the engineers told.` : 'No invitations are open.',
        'Conversations with engineers who accepted stay readable. This cannot be undone.'],
      confirm: 'Cancel the request', tone: 'danger',
    });
    if (!ok) return;
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      await post(`/api/v1/requests/${encodeURIComponent(id)}/cancel`);
      toast('Request cancelled. Open invitations were withdrawn.', 'good');
      await reload();
    } catch (e) {
      toast(`Could not cancel: ${e.detail || e}`, 'bad', 8000);
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  }

  async function reload() {
    const [r, c] = await fetchAll();
    if (!ctx.current) return;
    req = r;
    cat = c || cat;
    drawAll();
  }

  loading(view, 'Loading the request');
  try {
    [req, cat] = await fetchAll();
  } catch (e) {
    if (!ctx.current) return;
    if (e instanceof ApiError && e.status === 404) {
      mount(view, pageHead('Request not found'), h('p', 'There is no request at this address, or it belongs to another account.'),
        h('p', link('/requests', 'See your requests')));
      return;
    }
    failed(view, e, () => ctx.navigate(location.pathname, { replace: true }));
    return;
  }
  if (!ctx.current) return;
  slaBox = h('section', { class: 'card sla-card', 'aria-label': 'Matching and the 8-hour deadline' });
  listBox = h('div', { class: 'cands-box' });
  factsBox = h('section', { class: 'card req-facts' });
  head = h('div');
  mount(view, head, announce, slaBox,
    h('div', { class: 'cols req-cols' },
      h('section', { class: 'card shortlist', 'aria-labelledby': 'shortlist-h' },
        h('div', { class: 'spread' }, h('h2', { id: 'shortlist-h' }, 'Shortlist'), liveNote),
        h('p', { class: 'meta' }, 'Ranked by score out of 100. Bars show each part of the score; everyone here is vetted and was invited at once.'),
        listBox),
      factsBox));
  drawAll();

  // live: candidates answering, the request's state, the widening
  let t = null;
  const again = () => { clearTimeout(t); t = setTimeout(() => reload().catch(() => {}), 150); };
  ctx.onCleanup(ctx.live.on('candidate.updated', (d) => {
    if (!d || d.request_id !== id) return;
    if (d.conversation_id) conv.set(d.candidate_id, d.conversation_id);
    const words = { accepted: 'accepted your invitation', declined: 'declined; the next best engineer is invited', expired: 'did not answer in time; the next best is invited', hired: 'accepted your offer', withdrawn: 'was told the invitation is withdrawn' };
    const msg = `${d.engineer_name} ${words[d.status] || `is now ${stateLabel(d.status).toLowerCase()}`}.`;
    announce.textContent = msg;
    mount(liveNote, h('span', { class: 'chip chip-info' }, 'Live'), ' ', msg);
    if (d.status === 'accepted') toast(msg, 'good');
    again();
  }));
  ctx.onCleanup(ctx.live.on('request.updated', (d) => {
    if (!d || d.request_id !== id) return;
    announce.textContent = `The request is now ${stateLabel(d.status)}.`;
    again();
  }));
  for (const ty of LIVE.slice(2)) ctx.onCleanup(ctx.live.on(ty, (d) => { if (!d || !d.request_id || d.request_id === id) again(); }));
  ctx.onCleanup(ctx.live.on('resync', again));
  ctx.onCleanup(() => clearTimeout(t));
}
