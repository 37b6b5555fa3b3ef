// admin_users: every account (GET /api/v1/admin/users): search by name or
// email, filter by role and status, suspend (a reason is required and a
// confirm says what happens: the account cannot sign in and its sessions
// end) and reactivate. Filters live in the address (?q=&role=&status=) so
// a reload or a shared link shows the same list. Where the server lacks
// the routes the page says so.
import { h, mount } from '../dom.js';
import { ApiError, get, post, qs } from '../api.js';
import { exactTime } from '../format.js';
import { busy, chip, confirmDialog, empty, failed, field, loading, onSubmit, pageHead, select, timeAgo, toast } from '../ui.js';

const ROLES = [['', 'Every role'], ['client', 'Clients'], ['engineer', 'Engineers'], ['vetter', 'Vetters'], ['admin', 'Admins']];
const STATUSES = [['', 'Active and suspended'], ['active', 'Active'], ['suspended', 'Suspended']];

export default async function render(view, ctx) {
  loading(view, 'Loading the users');
  const f = { q: ctx.query.get('q') || '', role: ctx.query.get('role') || '', status: ctx.query.get('status') || '' };
  let items = [];
  let cursor = null;
  let openId = null; // the user whose suspend form is open
  const drafts = new Map(); // user id -> reason typed
  let seq = 0; // the latest load
  let asked = 0; // counts pages asked for (load and more)
  const edits = new Map(); // user id -> {u: what a suspend or reactivate answered, at: asked then}
  const list = h('div', { 'aria-live': 'polite', 'aria-busy': 'false' });
  const head = pageHead('Users', { sub: 'Find an account; suspend it (it cannot sign in, its sessions end) or reactivate it.' });

  async function load() {
    const mine = ++seq;
    const begun = ++asked;
    const page = await get(`/api/v1/admin/users${qs({ q: f.q.trim(), role: f.role, status: f.status, limit: 50 })}`);
    if (mine !== seq) return false;
    items = fresher(page.items || [], begun);
    cursor = page.next_cursor || null;
    return true;
  }

  // ---- the filters --------------------------------------------------------------------------------
  const qIn = h('input', { type: 'search', name: 'q', value: f.q, autocomplete: 'off', class: 'w-l', spellcheck: 'false' });
  const roleSel = select('role', ROLES, f.role);
  const statusSel = select('status', STATUSES, f.status);
  const filters = h('form', { class: 'card user-filters', role: 'search', 'aria-label': 'Find users', novalidate: true },
    h('div', { class: 'form-row user-filter-row' },
      field({ label: 'Search', name: 'q', input: qIn, hint: 'Name or email, or part of it', required: true }),
      field({ label: 'Role', name: 'role', input: roleSel, required: true }),
      field({ label: 'Status', name: 'status', input: statusSel, required: true })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Search'),
      h('button', { type: 'button', class: 'btn btn-link', onClick: () => { qIn.value = ''; roleSel.value = ''; statusSel.value = ''; apply(); } }, 'Clear')));
  filters.addEventListener('submit', (ev) => { ev.preventDefault(); apply(); });
  let typing = null;
  qIn.addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(apply, 350); });
  roleSel.addEventListener('change', apply);
  statusSel.addEventListener('change', apply);
  ctx.onCleanup(() => clearTimeout(typing));

  async function apply() {
    clearTimeout(typing);
    f.q = qIn.value; f.role = roleSel.value; f.status = statusSel.value;
    history.replaceState(null, '', `/admin/users${qs({ q: f.q.trim(), role: f.role, status: f.status })}`);
    list.setAttribute('aria-busy', 'true');
    try {
      if (await load() && ctx.current) draw();
    } catch (e) {
      if (ctx.current) mount(list, h('div', { class: 'notice notice-bad', role: 'alert' }, h('p', `Could not search: ${e.detail || e.message}`)));
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  }

  async function more(btn) {
    await busy(btn, async () => {
      const begun = ++asked;
      const page = await get(`/api/v1/admin/users${qs({ q: f.q.trim(), role: f.role, status: f.status, limit: 50, cursor })}`);
      items = items.concat(fresher(page.items || [], begun));
      cursor = page.next_cursor || null;
    }, 'Loading…').catch((e) => toast(`Could not load more: ${e.detail || e.message}`, 'bad'));
    if (ctx.current) draw();
  }

  // ---- the list -----------------------------------------------------------------------------------
  function draw() {
    const filtered = f.q.trim() || f.role || f.status;
    mount(list,
      !items.length
        ? empty(filtered ? 'No account matches.' : 'No accounts yet.', filtered ? 'Try part of the name or the email, or another role or status.' : 'Accounts appear here when people sign up.')
        : h('section', { class: 'card', 'aria-labelledby': 'ul-h' },
          h('h2', { id: 'ul-h' }, `${items.length}${cursor ? '+' : ''} account${items.length === 1 ? '' : 's'}`),
          h('ul', { class: 'list user-list' }, items.map(row)),
          cursor ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn', onClick: (ev) => more(ev.currentTarget) }, 'Show more')) : null));
  }

  function statusOf(u) {
    return u.status || (u.suspended_at ? 'suspended' : 'active');
  }

  function row(u) {
    const st = statusOf(u);
    const self = u.id === ctx.me.id;
    return h('li', { class: 'user-item', id: u.id, dataset: { user: u.id, status: st } },
      h('div', { class: 'spread' },
        h('div',
          h('h3', { class: 'item-title user-name' }, u.name, ' ', chip(st === 'suspended' ? 'suspended' : 'active', st === 'suspended' ? 'Suspended' : 'Active'),
            ' ', h('span', { class: 'tag role' }, u.role)),
          h('p', { class: 'meta user-email' }, u.email, ' · joined ', h('time', { datetime: u.created_at, title: exactTime(u.created_at) }, exactTime(u.created_at)))),
        self ? h('span', { class: 'meta' }, 'This is you')
          : st === 'suspended'
            ? h('button', { type: 'button', class: 'btn btn-small', dataset: { k: `re:${u.id}` }, onClick: (ev) => reactivate(ev.currentTarget, u) }, `Reactivate ${u.name}`)
            : openId === u.id ? null
              : h('button', { type: 'button', class: 'btn btn-small btn-danger', dataset: { k: `su:${u.id}` }, 'aria-expanded': 'false',
                onClick: () => { openId = u.id; draw(); list.querySelector(`#${CSS.escape(u.id)} textarea`)?.focus(); } }, `Suspend ${u.name}`)),
      st === 'suspended' && (u.suspended_reason || u.suspension_reason || u.suspended_at)
        ? h('p', { class: 'user-suspension' }, h('strong', 'Suspended'), u.suspended_at ? [' ', timeAgo(u.suspended_at)] : null,
          (u.suspended_reason || u.suspension_reason) ? `: ${u.suspended_reason || u.suspension_reason}` : '') : null,
      openId === u.id && st !== 'suspended' ? suspendForm(u) : null);
  }

  function suspendForm(u) {
    const reason = h('textarea', { name: 'reason', rows: 3, maxlength: 2000, required: true, value: drafts.get(u.id) || '' });
    reason.addEventListener('input', () => drafts.set(u.id, reason.value));
    const form = h('form', { class: 'panel', novalidate: true },
      field({ label: `Why suspend ${u.name}?`, name: 'reason', input: reason, hint: 'Kept with the account; say what happened and what would lift it' }),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', class: 'btn btn-danger' }, 'Suspend the account'),
        h('button', { type: 'button', class: 'btn btn-link', onClick: () => { openId = null; draw(); list.querySelector(`[data-k="su:${CSS.escape(u.id)}"]`)?.focus(); } }, 'Cancel')));
    return onSubmit(form, async (fd) => {
      const why = String(fd.get('reason') || '').trim();
      if (!why) throw new ApiError(422, { errors: [{ field: 'reason', message: 'is required: say why' }] });
      const ok = await confirmDialog({
        title: `Suspend ${u.name}?`,
        body: [`${u.email} can no longer sign in, and every session of the account ends now.`,
          h('p', { class: 'meta' }, 'Their contracts and money stay as they are; you can reactivate the account later.')],
        confirm: 'Suspend', tone: 'danger',
      });
      if (!ok) return;
      const out = await post(`/api/v1/admin/users/${encodeURIComponent(u.id)}/suspend`, { reason: why });
      drafts.delete(u.id);
      openId = null;
      replace(u.id, out?.user || out || { ...u, status: 'suspended', suspended_reason: why });
      const n = out?.sessions_ended;
      toast(`${u.name} is suspended${typeof n === 'number' ? `; ${n} session${n === 1 ? '' : 's'} ended` : ' and signed out everywhere'}.`, 'good');
      draw();
      list.querySelector(`[data-k="re:${CSS.escape(u.id)}"]`)?.focus();
    }, 'Suspending…');
  }

  async function reactivate(btn, u) {
    const ok = await confirmDialog({ title: `Reactivate ${u.name}?`, body: `${u.email} can sign in again.`, confirm: 'Reactivate' });
    if (!ok) return;
    try {
      const out = await busy(btn, () => post(`/api/v1/admin/users/${encodeURIComponent(u.id)}/reactivate`), 'Reactivating…');
      replace(u.id, out?.user || out || { ...u, status: 'active', suspended_at: null });
      toast(`${u.name} can sign in again.`, 'good');
      draw();
      list.querySelector(`[data-k="su:${CSS.escape(u.id)}"]`)?.focus();
    } catch (e) {
      const li = list.querySelector(`#${CSS.escape(u.id)}`);
      if (li) { li.querySelector('.notice')?.remove(); li.append(h('div', { class: 'notice notice-bad', role: 'alert' }, h('p', `Could not reactivate: ${e.detail || e.message}`))); }
    }
  }

  function replace(id, u) {
    const fresh = { ...(items.find((x) => x.id === id) || {}), ...u };
    if (!u.status && u.suspended_at === undefined) fresh.status = fresh.status || 'active';
    items = items.map((x) => (x.id === id ? fresh : x));
    edits.set(id, { u: fresh, at: asked });
  }

  // a page asked for before a suspend or reactivate was answered (a search
  // still on its way) must not show the account as it was
  function fresher(rows, begun) {
    return rows.map((x) => {
      const e = edits.get(x.id);
      return e && e.at >= begun ? { ...x, ...e.u } : x;
    });
  }

  try {
    await load();
  } catch (e) {
    if (!ctx.current) return;
    failed(view, e, () => ctx.navigate(location.pathname + location.search, { replace: true }));
    return;
  }
  if (!ctx.current) return;
  mount(view, head, h('div', { class: 'stack' }, filters, list));
  draw();
}
