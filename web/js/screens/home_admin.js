// home_admin: the operator's overview, the fires first: SLA breaches and
// requests at risk, open disputes, the ledger's verification, failed
// payouts and refunds, and the email outbox's backlog. Each card says
// what is wrong in a sentence and links to the page that fixes it. Read
// again on the events that change it, after a reconnect, and every minute
// (the outbox and the SLA clock move without events).
import { h, mount } from '../dom.js';
import { get, qs } from '../api.js';
import { duration, exactTime, money } from '../format.js';
import { chip, empty, failed, pageHead, skeleton, timeAgo } from '../ui.js';
import { countdownRing } from '../charts.js';
import { countText } from './admin_common.js';

const LIVE = ['admin.sla_breach', 'admin.dispute_opened', 'dispute.resolved', 'milestone.resolved', 'milestone.disputed',
  'payout.failed', 'payout.succeeded', 'payout.reversed', 'refund.failed', 'refund.succeeded', 'request.updated'];
const AT_RISK_S = 2 * 3600; // under two hours of SLA left
const REFRESH_MS = 60000;

export default async function render(view, ctx) {
  const first = ctx.me.name.split(' ')[0];
  mount(view, pageHead(`Hello, ${first}`, { sub: 'What needs you now' }), h('div', { class: 'grid admin-home' },
    Array.from({ length: 6 }, () => h('section', { class: 'card' }, skeleton(3)))));

  async function load() {
    const [sla, disputes, ledger, payouts, refunds, mailFailed, mailQueued, suspended] = await Promise.allSettled([
      get('/api/v1/admin/sla'),
      get(`/api/v1/admin/disputes${qs({ status: 'open', limit: 50 })}`),
      get('/api/v1/admin/ledger'),
      get(`/api/v1/admin/payouts${qs({ status: 'failed', limit: 100 })}`),
      get(`/api/v1/admin/refunds${qs({ status: 'failed', limit: 100 })}`),
      get(`/api/v1/admin/outbox${qs({ status: 'failed', limit: 100 })}`),
      get(`/api/v1/admin/outbox${qs({ status: 'queued', limit: 100 })}`),
      get(`/api/v1/admin/users${qs({ status: 'suspended', limit: 100 })}`),
    ]);
    if (!ctx.current) return;
    const all = [sla, disputes, ledger, payouts, refunds, mailFailed, mailQueued];
    if (all.every((r) => r.status === 'rejected')) throw sla.reason;
    const cards = [slaCard(sla), disputesCard(disputes), ledgerCard(ledger), moneyCard(payouts, refunds), outboxCard(mailFailed, mailQueued), usersCard(suspended)];
    const fires = cards.filter((c) => c.dataset.attention === 'yes').length;
    mount(view,
      pageHead(`Hello, ${first}`, { sub: fires ? `${fires} area${fires === 1 ? '' : 's'} need${fires === 1 ? 's' : ''} you now` : 'All clear: nothing needs you right now' }),
      h('div', { class: 'grid admin-home' }, cards),
      h('p', { class: 'meta' }, 'Read ', timeAgo(new Date().toISOString()), '. This page updates itself.'));
  }

  /** One overview card: a heading that links to its page, a headline figure and a sentence. */
  function tile({ title, href, attention, figure, tone, text, extra, linkText, unknown }) {
    const id = `ah-${href.replace(/[^a-z]/g, '')}`;
    const t = attention ? tone || 'warn' : null;
    return h('section', { class: ['card', 'admin-tile', t ? `admin-tile-${t}` : unknown ? 'admin-tile-unknown' : null], 'aria-labelledby': id,
      dataset: { attention: attention ? 'yes' : 'no' } },
    h('h2', { id }, title),
    figure !== undefined ? h('p', { class: ['admin-figure', t ? `tone-${t}` : null] }, figure) : null,
    h('p', text),
    extra || null,
    h('p', { class: 'admin-tile-link' }, h('a', { href }, linkText)));
  }

  function broken(title, href, linkText, r, route) {
    return tile({ title, href, linkText, unknown: true, text: `Could not be read: ${r.reason?.detail || r.reason}.` });
  }

  function slaCard(r) {
    if (r.status === 'rejected') return broken('SLA', '/admin/sla', 'Open the SLA board', r, 'GET /api/v1/admin/sla');
    const items = r.value.items || [];
    const breached = items.filter((i) => i.status === 'breached');
    const risk = items.filter((i) => i.status === 'matching' && i.seconds_left < AT_RISK_S);
    const soon = [...breached, ...risk].slice(0, 3);
    return tile({
      title: 'SLA', href: '/admin/sla', linkText: 'Open the SLA board',
      attention: breached.length + risk.length > 0, tone: breached.length ? 'bad' : 'warn',
      figure: `${breached.length} breached · ${risk.length} at risk`,
      text: items.length ? `${items.length} open request${items.length === 1 ? '' : 's'} still matching; at risk means under ${duration(AT_RISK_S)} of the 8 hours left.`
        : 'No open requests: every request is matched or closed.',
      extra: soon.length ? h('ul', { class: 'list admin-mini' }, soon.map((i) => h('li', h('div', { class: 'spread' },
        h('a', { href: `/requests/${i.id}` }, i.title),
        i.status === 'breached' ? chip('breached') : countdownRing(i.seconds_left, 8 * 3600))))) : null,
    });
  }

  function disputesCard(r) {
    if (r.status === 'rejected') return broken('Disputes', '/admin/disputes', 'Open the disputes', r, 'GET /api/v1/admin/disputes');
    const items = (r.value.items || []).filter((d) => d.status === 'open');
    const oldest = items.reduce((o, d) => (!o || d.created_at < o.created_at ? d : o), null);
    const held = items.reduce((m, d) => { m[d.currency] = (m[d.currency] || 0) + (d.amount || 0); return m; }, {});
    return tile({
      title: 'Disputes', href: '/admin/disputes', linkText: items.length ? 'Resolve the disputes' : 'Open the disputes',
      attention: items.length > 0, tone: 'warn',
      figure: `${countText({ items, next_cursor: r.value.next_cursor })} open`,
      text: items.length ? [`Escrow frozen: ${Object.entries(held).map(([c, a]) => money(a, c)).join(', ')}. The oldest was opened `, timeAgo(oldest.created_at), '.']
        : 'No open disputes.',
    });
  }

  function ledgerCard(r) {
    if (r.status === 'rejected') return broken('Ledger', '/admin/ledger', 'Open the ledger', r, 'GET /api/v1/admin/ledger');
    const v = r.value.verify || {};
    return tile({
      title: 'Ledger', href: '/admin/ledger', linkText: 'Open the ledger',
      attention: !v.ok, tone: 'bad',
      figure: v.ok ? 'Verify OK' : `Verify FAILED: ${v.violations} violation${v.violations === 1 ? '' : 's'}`,
      text: v.ok ? ['Every balance re-derived from its entries agrees; checked ', h('time', { datetime: v.checked_at, title: exactTime(v.checked_at) }, exactTime(v.checked_at)), '.']
        : 'Some balances do not match their entries: read the report on the ledger page before moving money.',
    });
  }

  function moneyCard(p, rf) {
    if (p.status === 'rejected' && rf.status === 'rejected') return broken('Payouts and refunds', '/admin/money', 'Open payouts and refunds', p, 'GET /api/v1/admin/payouts');
    const fp = p.status === 'fulfilled' ? p.value : null;
    const fr = rf.status === 'fulfilled' ? rf.value : null;
    const n = (fp?.items.length || 0) + (fr?.items.length || 0);
    return tile({
      title: 'Payouts and refunds', href: '/admin/money', linkText: n ? 'Retry the failed ones' : 'Open payouts and refunds',
      attention: n > 0, tone: 'bad',
      figure: `${fp ? countText(fp) : '?'} payouts · ${fr ? countText(fr) : '?'} refunds failed`,
      text: n ? 'A failed refund holds a client\'s money until it is sent again; a failed payout goes out in the next payout run.'
        : 'Nothing failed: every payout and refund went through or is on its way.',
    });
  }

  function outboxCard(f, q) {
    if (f.status === 'rejected' && q.status === 'rejected') return broken('Email', '/admin/outbox', 'Open the outbox', f, 'GET /api/v1/admin/outbox');
    const failedN = f.status === 'fulfilled' ? f.value.items.length : 0;
    const queued = q.status === 'fulfilled' ? q.value.items : [];
    const oldest = queued.reduce((o, m) => (!o || m.created_at < o.created_at ? m : o), null);
    const stale = oldest && Date.now() - Date.parse(oldest.created_at) > 15 * 60000;
    return tile({
      title: 'Email outbox', href: '/admin/outbox', linkText: failedN ? 'Send the failed mail again' : 'Open the outbox',
      attention: failedN > 0 || stale, tone: failedN ? 'bad' : 'warn',
      figure: `${q.status === 'fulfilled' ? countText(q.value) : '?'} queued · ${f.status === 'fulfilled' ? countText(f.value) : '?'} failed`,
      text: queued.length ? ['The oldest queued mail waits since ', timeAgo(oldest.created_at), '.'] : failedN ? 'Failed mail used all its attempts.' : 'Nothing is waiting: every mail went out.',
    });
  }

  function usersCard(r) {
    if (r.status === 'rejected') return broken('Users', '/admin/users', 'Find a user', r, 'GET /api/v1/admin/users');
    const n = countText(r.value);
    return tile({
      title: 'Users', href: '/admin/users', linkText: 'Find, suspend or reactivate a user',
      figure: `${n} suspended`,
      text: r.value.items.length ? 'Suspended accounts cannot sign in; reactivate one from the users page.' : 'No account is suspended.',
    });
  }

  try {
    await load();
  } catch (e) {
    if (!ctx.current) return;
    failed(view, e, () => ctx.navigate('/', { replace: true }));
    return;
  }
  let t = null;
  const again = () => { clearTimeout(t); t = setTimeout(() => load().catch(() => {}), 300); };
  for (const ty of LIVE) ctx.onCleanup(ctx.live.on(ty, again));
  ctx.onCleanup(ctx.live.on('resync', again));
  const iv = setInterval(again, REFRESH_MS);
  ctx.onCleanup(() => { clearTimeout(t); clearInterval(iv); });
}
