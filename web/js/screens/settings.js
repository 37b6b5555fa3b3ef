// settings: the signed-in user's own account: the name others see
// (PATCH /api/v1/me), a new password (POST /api/v1/me/password, which
// signs every other session out), and the facts of the account.
import { h, mount } from '../dom.js';
import { ApiError, loadSession, patch, post, session, sessionChanged } from '../api.js';
import { date } from '../format.js';
import { card, facts, field, onSubmit, pageHead, toast } from '../ui.js';

const ROLE_LABEL = { client: 'Client (hires engineers)', engineer: 'Engineer (finds work)', vetter: 'Vetter', admin: 'Administrator' };
const MIN_PASSWORD = 10;

/** A refusal shown on the form like the server's own: summary + field messages. */
function fieldProblem(errors, detail = 'Check the highlighted fields.') {
  return new ApiError(422, { detail, errors });
}

function memberSince(iso) {
  if (!iso) return 'Not recorded';
  const d = new Date(iso);
  // accounts made before the server recorded creation times carry the epoch
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 2000) return 'Not recorded';
  return date(iso);
}

export default async function render(view, ctx) {
  const me = session.me || ctx.me;

  const accountFacts = h('div', { class: 'account-facts' });
  const drawFacts = () => mount(accountFacts, facts([
    ['Name', session.me?.name || me.name],
    ['Email', me.email],
    ['Role', ROLE_LABEL[me.role] || me.role],
    ['Member since', memberSince(me.created_at)],
  ]));
  drawFacts();

  // ---- name
  const nameForm = h('form', { class: 'form-narrow', novalidate: true, 'aria-labelledby': 'name-title' },
    field({ label: 'Full name', name: 'name', value: me.name, required: true,
      hint: 'Shown to the people you work with, on messages, offers and contracts.',
      attrs: { autocomplete: 'name', maxlength: 100 } }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save name')));
  const nameStatus = h('p', { class: 'form-status', role: 'status' });
  onSubmit(nameForm, async (data) => {
    nameStatus.textContent = '';
    const name = String(data.get('name') || '').trim();
    if (!name) throw fieldProblem([{ field: 'name', message: 'must not be empty' }]);
    if (name.length > 100) throw fieldProblem([{ field: 'name', message: 'must be at most 100 characters' }]);
    if (name === session.me?.name) { nameStatus.textContent = 'That is already your name.'; return; }
    const out = await patch('/api/v1/me', { name });
    const user = out?.user || { ...session.me, name };
    if (session.me) Object.assign(session.me, { name: user.name });
    sessionChanged(); // the header shows the new name
    drawFacts();
    nameForm.elements.name.value = user.name;
    nameStatus.textContent = `Saved. You now appear as ${user.name}.`;
    toast('Your name is saved.', 'good');
  }, 'Saving…');

  // ---- password
  const pwForm = h('form', { class: 'form-narrow', novalidate: true, 'aria-labelledby': 'pw-title' },
    h('input', { type: 'text', name: 'username', value: me.email, autocomplete: 'username', hidden: true, 'aria-hidden': 'true', tabindex: '-1' }),
    field({ label: 'Current password', name: 'current_password', type: 'password', required: true,
      attrs: { autocomplete: 'current-password' } }),
    field({ label: 'New password', name: 'new_password', type: 'password', required: true,
      hint: `At least ${MIN_PASSWORD} characters. A passphrase of a few words is easiest.`,
      attrs: { autocomplete: 'new-password', minlength: MIN_PASSWORD } }),
    field({ label: 'Confirm new password', name: 'confirm_password', type: 'password', required: true,
      attrs: { autocomplete: 'new-password' } }),
    h('p', { class: 'hint' }, 'Changing it signs you out everywhere else: other browsers and devices will have to sign in again.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password')));
  const pwStatus = h('div', { class: 'form-status', role: 'status' });
  onSubmit(pwForm, async (data) => {
    pwStatus.replaceChildren();
    const current = String(data.get('current_password') || '');
    const next = String(data.get('new_password') || '');
    const confirm = String(data.get('confirm_password') || '');
    const errors = [];
    if (!current) errors.push({ field: 'current_password', message: 'is needed to change it' });
    if (!next) errors.push({ field: 'new_password', message: 'must not be empty' });
    else if (next.length < MIN_PASSWORD) errors.push({ field: 'new_password', message: `must be at least ${MIN_PASSWORD} characters` });
    if (next && confirm !== next) errors.push({ field: 'confirm_password', message: 'does not match the new password' });
    if (errors.length) throw fieldProblem(errors);
    await post('/api/v1/me/password', { current_password: current, new_password: next });
    pwForm.reset();
    pwForm.elements.username.value = me.email;
    // this session stays; read it again in case the server rotated its CSRF token
    const still = await loadSession().catch(() => session.me);
    if (!still) {
      sessionChanged();
      ctx.navigate('/signin?next=/settings', { replace: true });
      toast('Your password is changed. Please sign in with the new one.', 'good');
      return;
    }
    pwStatus.replaceChildren(h('div', { class: 'notice notice-good' },
      h('p', h('strong', 'Password changed. '), 'Other sessions were signed out; this one stays signed in.')));
    toast('Password changed. Other sessions were signed out.', 'good');
  }, 'Changing…');

  mount(view,
    pageHead('Account settings', { sub: `Signed in as ${me.email}` }),
    h('div', { class: 'cols settings' },
      h('div', { class: 'stack' },
        h('section', { class: 'card', 'aria-labelledby': 'name-title' }, h('h2', { id: 'name-title' }, 'Your name'), nameForm, nameStatus),
        h('section', { class: 'card', 'aria-labelledby': 'pw-title' }, h('h2', { id: 'pw-title' }, 'Change your password'), pwForm, pwStatus)),
      h('div', { class: 'stack' },
        card('Account', accountFacts,
          h('p', { class: 'meta' }, 'Your email is your sign-in and cannot be changed here.')),
        card('Notifications', h('p', 'Invitations, SLA alerts and other updates are listed on your notifications page.'),
          h('a', { href: '/notifications' }, 'Go to notifications')))));
}
