// signup: create a client or engineer account, then sign in at once.
import { h, mount } from '../dom.js';
import { post, signIn } from '../api.js';
import { field, onSubmit, toast } from '../ui.js';

export default async function render(view, ctx) {
  const wantRole = ctx.query.get('role') === 'engineer' ? 'engineer' : 'client';
  const next = ctx.query.get('next');
  const form = h('form', { class: 'card', novalidate: true },
    field({ label: 'Name', name: 'name', required: true, attrs: { autocomplete: 'name', maxlength: 100 } }),
    field({ label: 'Email', name: 'email', type: 'email', required: true, attrs: { autocomplete: 'email' } }),
    field({ label: 'Password', name: 'password', type: 'password', required: true, hint: 'At least 10 characters. A passphrase is easiest.',
      attrs: { autocomplete: 'new-password', minlength: 10 } }),
    h('fieldset', { class: 'field', dataset: { field: 'role' } },
      h('legend', 'I want to'),
      h('div', { class: 'choices' },
        h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'role', value: 'client', checked: wantRole === 'client' }), 'hire engineers (client)'),
        h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'role', value: 'engineer', checked: wantRole === 'engineer' }), 'find work (engineer)'))),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create account')));
  onSubmit(form, async (data) => {
    const body = { name: String(data.get('name')).trim(), email: String(data.get('email')).trim(),
      password: String(data.get('password')), role: data.get('role') };
    await post('/api/v1/auth/register', body);
    const me = await signIn(body.email, body.password);
    toast(`Welcome, ${me.name}. Your account is ready.`, 'good');
    const fallback = me.role === 'engineer' ? '/profile' : '/requests/new';
    ctx.navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : fallback, { replace: true });
  }, 'Creating your account…');
  mount(view, h('div', { class: 'auth' },
    h('h1', 'Create an account'),
    form,
    h('p', { class: 'muted' }, 'Already have one? ', h('a', { href: '/signin' }, 'Sign in'), '.')));
}
