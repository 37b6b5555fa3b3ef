// routes: every page of the app, who may open it and which screen module
// draws it (web/js/screens/<module>.js). The roles mirror the server's
// route table (src/api/routes.c): a page only calls routes its roles may
// call. `module` may name one screen per role (the home page).
//   roles: 'anon' (signed out), 'any' (everyone), or a list of roles.

export const SIGNED_IN = ['client', 'engineer', 'vetter', 'admin'];

export const routes = [
  { path: '/', title: 'Home', roles: 'any',
    module: { anon: 'landing', client: 'home_client', engineer: 'home_engineer', vetter: 'vetting_queue', admin: 'home_admin' } },
  { path: '/hire/:framework', title: 'Hire', roles: 'any', module: 'hire' },
  { path: '/signin', title: 'Sign in', roles: 'anon', module: 'signin' },
  { path: '/signup', title: 'Create an account', roles: 'anon', module: 'signup' },
  { path: '/settings', title: 'Account settings', roles: SIGNED_IN, module: 'settings' },
  { path: '/notifications', title: 'Notifications', roles: SIGNED_IN, module: 'notifications' },

  // clients: requests, the shortlist, offers
  { path: '/requests', title: 'Requests', roles: ['client', 'admin'], module: 'requests_list' },
  { path: '/requests/new', title: 'Raise a request', roles: ['client'], module: 'request_new' },
  { path: '/requests/:id', title: 'Request', roles: ['client', 'admin'], module: 'request_detail' },
  { path: '/offers/new/:candidate', title: 'Make an offer', roles: ['client'], module: 'offer_new' },

  // both sides: talk and contracts
  { path: '/messages', title: 'Messages', roles: SIGNED_IN, module: 'conversations' },
  { path: '/messages/:id', title: 'Conversation', roles: SIGNED_IN, module: 'conversation' },
  { path: '/contracts', title: 'Contracts', roles: ['client', 'engineer', 'admin'], module: 'contracts_list' },
  { path: '/contracts/:id', title: 'Contract', roles: ['client', 'engineer', 'admin'], module: 'contract' },

  // engineers: getting vetted, invitations, money
  { path: '/profile', title: 'Your profile', roles: ['engineer'], module: 'profile' },
  { path: '/assessment', title: 'Assessment', roles: ['engineer'], module: 'assessment' },
  { path: '/invitations', title: 'Invitations', roles: ['engineer'], module: 'invitations' },
  { path: '/earnings', title: 'Earnings', roles: ['engineer'], module: 'earnings' },

  // vetters (and admins)
  { path: '/vetting', title: 'Vetting queue', roles: ['vetter', 'admin'], module: 'vetting_queue' },
  { path: '/engineers/:id', title: 'Engineer', roles: ['vetter', 'admin'], module: 'engineer_file' },

  // admins
  { path: '/admin/sla', title: 'SLA board', roles: ['admin'], module: 'admin_sla' },
  { path: '/admin/disputes', title: 'Disputes', roles: ['admin'], module: 'admin_disputes' },
  { path: '/admin/ledger', title: 'Ledger', roles: ['admin'], module: 'admin_ledger' },
  { path: '/admin/money', title: 'Payouts and refunds', roles: ['admin'], module: 'admin_money' },
  { path: '/admin/outbox', title: 'Email outbox', roles: ['admin'], module: 'admin_outbox' },
  { path: '/admin/users', title: 'Users', roles: ['admin'], module: 'admin_users' },
];

/** The main navigation per role: [label, path, badge key?] */
export const NAV = {
  anon: [['Hire engineers', '/#frameworks'], ['Sign in', '/signin'], ['Create an account', '/signup']],
  client: [['Home', '/'], ['Requests', '/requests'], ['Messages', '/messages', 'messages'], ['Contracts', '/contracts']],
  engineer: [['Home', '/'], ['Invitations', '/invitations'], ['Messages', '/messages', 'messages'],
    ['Contracts', '/contracts'], ['Earnings', '/earnings'], ['Profile', '/profile']],
  vetter: [['Queue', '/vetting']],
  admin: [['Home', '/'], ['SLA', '/admin/sla'], ['Disputes', '/admin/disputes'], ['Ledger', '/admin/ledger'],
    ['Money', '/admin/money'], ['Outbox', '/admin/outbox'], ['Users', '/admin/users'], ['Vetting', '/vetting'],
    ['Requests', '/requests']],
};

function compile(path) {
  const keys = [];
  const re = path.replace(/:([a-z]+)/g, (_, k) => { keys.push(k); return '([^/]+)'; });
  return { re: new RegExp(`^${re}/?$`), keys };
}
const compiled = routes.map((r) => ({ ...r, ...compile(r.path) }));

/** match('/requests/req_1') -> {route, params} or null; literal paths win over parameters. */
export function match(pathname) {
  let best = null;
  for (const r of compiled) {
    const m = r.re.exec(pathname);
    if (!m) continue;
    const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
    const literal = r.keys.length === 0;
    if (!best || (literal && best.route.keys.length)) best = { route: r, params };
  }
  return best;
}

/** Whether a role ('anon' when signed out) may open a route. */
export function allowed(route, role) {
  if (route.roles === 'any') return true;
  if (route.roles === 'anon') return role === 'anon';
  return route.roles.includes(role);
}

export function moduleFor(route, role) {
  return typeof route.module === 'string' ? route.module : route.module[role];
}
