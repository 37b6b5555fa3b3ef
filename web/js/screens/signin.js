// signin: the sign-in form; on success, back to where the user was going.
import { h, mount } from '../dom.js';
import { signIn } from '../api.js';
import { field, onSubmit, toast } from '../ui.js';

export default async function render(view, ctx) {
  const next = ctx.query.get('next');
  const safeNext = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
  const form = h('form', { class: 'card', novalidate: true },
    field({ label: 'Email', name: 'email', type: 'email', required: true, attrs: { autocomplete: 'username', autofocus: true } }),
    field({ label: 'Password', name: 'password', type: 'password', required: true, attrs: { autocomplete: 'current-password' } }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in')));
  onSubmit(form, async (data) => {
    const me = await signIn(String(data.get('email')).trim(), String(data.get('password')));
    toast(`Welcome back, ${me.name}.`, 'good');
    ctx.navigate(safeNext, { replace: true });
  }, 'Signing in…');
  mount(view, h('div', { class: 'auth' },
    h('h1', 'Sign in'),
    form,
    h('p', { class: 'muted' }, 'New here? ', h('a', { href: `/signup${next ? `?next=${encodeURIComponent(next)}` : ''}` }, 'Create an account'), '.')));
}
