// router: history-API navigation. Same-origin links are handled here
// without a reload; each page is a screen module loaded on first use
// (screens/<name>.js, `export default async function (view, ctx)`). A
// screen registers what to undo when the page changes (live handlers,
// timers) with ctx.onCleanup, and every handler stays within its page.
import { h, mount } from './dom.js';
import { session } from './api.js';
import { live } from './live.js';
import { allowed, match, moduleFor } from './routes.js';
import { failed, loading } from './ui.js';

let view = null;
let cleanups = [];
let seq = 0;
const afterRender = new Set();

function runCleanups() {
  const c = cleanups;
  cleanups = [];
  c.forEach((fn) => { try { fn(); } catch (e) { console.warn('cleanup failed', e); } }); // eslint-disable-line no-console
}

export function navigate(to, { replace = false } = {}) {
  const url = new URL(to, location.origin);
  if (url.origin !== location.origin) { location.href = to; return; }
  if (replace) history.replaceState(null, '', url.pathname + url.search + url.hash);
  else history.pushState(null, '', url.pathname + url.search + url.hash);
  render();
}

/** Called after each page renders with (pathname) - the nav marks the current page. */
export function onRendered(fn) { afterRender.add(fn); }

function notFound() {
  return [h('h1', 'Page not found'), h('p', 'There is nothing at this address.'), h('p', h('a', { href: '/' }, 'Go to your home page'))];
}

function forbidden() {
  return [h('h1', 'Not available to your account'), h('p', 'This page is for another kind of account.'),
    h('p', h('a', { href: '/' }, 'Go to your home page'))];
}

export async function render() {
  const mySeq = ++seq;
  runCleanups();
  const role = session.me ? session.me.role : 'anon';
  const path = location.pathname;
  const found = match(path);
  window.scrollTo(0, 0);
  if (!found) {
    document.title = 'Not found · Offline Pixel';
    mount(view, ...notFound());
  } else if (!allowed(found.route, role)) {
    if (role === 'anon') { navigate(`/signin?next=${encodeURIComponent(path + location.search)}`, { replace: true }); return; }
    if (found.route.roles === 'anon') { navigate('/', { replace: true }); return; }
    document.title = 'Not available · Offline Pixel';
    mount(view, ...forbidden());
  } else {
    document.title = `${found.route.title} · Offline Pixel`;
    const ctx = {
      params: found.params,
      query: new URLSearchParams(location.search),
      me: session.me,
      navigate,
      live,
      title: (t) => { if (mySeq === seq) document.title = `${t} · Offline Pixel`; },
      onCleanup: (fn) => cleanups.push(fn),
      get current() { return mySeq === seq; },
    };
    loading(view);
    try {
      const mod = await import(`./screens/${moduleFor(found.route, role)}.js`);
      if (mySeq !== seq) return;
      await mod.default(view, ctx);
    } catch (err) {
      if (mySeq !== seq) return;
      console.error(err); // eslint-disable-line no-console
      failed(view, err, () => render());
    }
  }
  if (mySeq !== seq) return;
  afterRender.forEach((fn) => fn(path));
  // move focus to the new page's heading so screen readers announce it
  const h1 = view.querySelector('h1');
  if (h1 && document.activeElement !== h1 && !view.contains(document.activeElement)) {
    h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll: true });
  }
}

export function startRouter(viewEl) {
  view = viewEl;
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest('a[href]');
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    if (a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.origin);
    if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
    if (url.pathname === location.pathname && url.search === location.search && url.hash) return; // in-page anchor
    ev.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  window.addEventListener('popstate', () => render());
  return render();
}
