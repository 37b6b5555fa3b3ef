// main: starts the app. Reads the session, draws the header (navigation
// for the role, unread badges, the account menu), keeps the connection
// banner, starts the live stream when signed in, and hands the page to
// the router.
import { h, mount } from './dom.js';
import { checkSession, loadSession, onSignedOut, session, signOut } from './api.js';
import { live } from './live.js';
import { badges } from './badges.js';
import { NAV } from './routes.js';
import { navigate, onRendered, render, startRouter } from './router.js';
import { toast } from './ui.js';

const nav = document.getElementById('nav');
const account = document.getElementById('account');
const banner = document.getElementById('banner');
let badgeEls = {};

function badge(key) {
  const el = h('span', { class: 'badge', hidden: true, 'aria-live': 'off' });
  badgeEls[key] = el;
  return el;
}

function drawHeader() {
  badgeEls = {};
  const role = session.me ? session.me.role : 'anon';
  const list = h('ul', NAV[role].map(([label, path, key]) =>
    h('li', h('a', { href: path, dataset: { path } }, label, key ? badge(key) : null))));
  // the phone's sideways-scrolling navigation fades at its edge while more is hidden
  const edge = () => list.classList.toggle('at-end', list.scrollLeft + list.clientWidth >= list.scrollWidth - 2);
  list.addEventListener('scroll', edge, { passive: true });
  mount(nav, list);
  requestAnimationFrame(edge);
  if (!session.me) {
    mount(account);
  } else {
    mount(account,
      h('a', { href: '/notifications', class: 'bell', 'aria-label': 'Notifications', dataset: { path: '/notifications' } },
        bellIcon(), badge('notifications')),
      h('details', { class: 'menu' },
        h('summary', h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(session.me.name)),
          h('span', { class: 'sr-only' }, 'Account: '), h('span', { class: 'menu-name' }, session.me.name)),
        h('div', { class: 'menu-body' },
          h('p', { class: 'menu-who' }, h('strong', session.me.name), h('br'), session.me.email, h('br'), h('span', { class: 'role' }, session.me.role)),
          h('a', { href: '/settings' }, 'Account settings'),
          h('button', { type: 'button', class: 'btn btn-link', onClick: doSignOut }, 'Sign out'))));
  }
  markCurrent(location.pathname);
}

function bellIcon() {
  const s = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  s.setAttribute('viewBox', '0 0 24 24');
  s.setAttribute('width', '22');
  s.setAttribute('height', '22');
  s.setAttribute('aria-hidden', 'true');
  const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  p.setAttribute('d', 'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z');
  p.setAttribute('fill', 'currentColor');
  s.append(p);
  return s;
}

function initials(name) {
  return (name || '?').split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('');
}

function markCurrent(pathname) {
  document.querySelectorAll('#nav a, #account a').forEach((a) => {
    const p = a.dataset.path;
    const on = p && (p === pathname || (p !== '/' && !p.includes('#') && pathname.startsWith(`${p}/`)));
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  document.querySelectorAll('details.menu[open]').forEach((d) => d.removeAttribute('open'));
}

function showBadges(counts) {
  for (const [key, el] of Object.entries(badgeEls)) {
    const n = counts[key] || 0;
    el.hidden = n === 0;
    el.textContent = n > 99 ? '99+' : String(n);
    const link = el.closest('a');
    if (link && key === 'notifications') link.setAttribute('aria-label', n ? `Notifications, ${n} unread` : 'Notifications');
    if (link && key === 'messages') el.setAttribute('aria-label', `${n} unread`);
  }
}

let bannerTimer = null;
function connectionStatus({ connected, why }) {
  clearTimeout(bannerTimer);
  banner.hidden = false;
  if (!connected) {
    banner.className = 'banner banner-bad';
    mount(banner, h('strong', 'Connection lost'), ` (${why || 'reconnecting'}). Reconnecting; anything new will appear when it is back.`);
  } else {
    banner.className = 'banner banner-good';
    mount(banner, h('strong', 'Back online.'), ' You are up to date.');
    bannerTimer = setTimeout(() => { banner.hidden = true; }, 4000);
  }
}

async function doSignOut() {
  await signOut().catch(() => {});
  navigate('/');
  toast('You are signed out.', 'info');
}

/** After sign-in or sign-out: header, stream and badges follow the session. */
export function afterSessionChange() {
  if (session.me) {
    live.start();
    badges.start();
  } else {
    live.stop();
    badges.stop();
  }
  drawHeader();
}

async function boot() {
  live.on('status', connectionStatus);
  live.on('closed', () => { if (session.me) checkSession(); });
  badges.subscribe(showBadges);
  onRendered((path) => {
    markCurrent(path);
    if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  });
  onSignedOut(() => {
    afterSessionChange();
    toast('Your session has ended. Please sign in again.', 'bad');
    navigate(`/signin?next=${encodeURIComponent(location.pathname)}`, { replace: true });
  });
  document.addEventListener('opx:session', () => { afterSessionChange(); });
  try {
    await loadSession();
  } catch {
    // the server is unreachable: the page says so and the router still draws
  }
  afterSessionChange();
  await startRouter(document.getElementById('view'));
}

boot();
export { render };
