// api: the one way the app talks to the server. Cookie session with the
// CSRF header on unsafe methods, a deadline on every call, problem+json
// turned into an ApiError that forms can show field by field, and money
// actions that keep one Idempotency-Key across retries of the same action.

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const DEFAULT_TIMEOUT_MS = 15000;

export const session = { me: null, csrf: null };
const listeners = new Set();

/** Called with no argument when the server says the session is gone. */
export function onSignedOut(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const p = body && typeof body === 'object' ? body : {};
    super(p.detail || p.title || fallback || `request failed (${status})`);
    this.status = status;
    this.type = (p.type || '').replace('urn:opx:problem:', '') || (status ? 'http' : 'network');
    this.title = p.title || '';
    this.detail = p.detail || this.message;
    this.errors = Array.isArray(p.errors) ? p.errors : [];
    this.body = p;
  }
  /** true when retrying the same action may still succeed */
  get transient() {
    return this.status === 0 || this.status >= 500 || this.status === 429 || this.type === 'idempotency-key-in-use';
  }
}

/**
 * api(method, path, {body, idem, timeoutMs, signal}) -> parsed JSON (null for 204).
 * Throws ApiError; status 0 means the network or the deadline failed.
 */
export async function api(method, path, opts = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  if (UNSAFE.has(method) && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  if (opts.idem) headers['Idempotency-Key'] = opts.idem;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), opts.timeoutMs || DEFAULT_TIMEOUT_MS);
  if (opts.signal) opts.signal.addEventListener('abort', () => ctl.abort(), { once: true });
  init.signal = ctl.signal;
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, null, ctl.signal.aborted ? 'the server did not answer in time' : 'you appear to be offline');
  } finally {
    clearTimeout(timer);
  }
  if (res.status === 204 || res.status === 304) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    if (res.status === 401 && session.me && !path.startsWith('/api/v1/auth/')) {
      session.me = null;
      session.csrf = null;
      listeners.forEach((fn) => fn());
    }
    throw new ApiError(res.status, data, res.statusText);
  }
  return data;
}

export const get = (path, opts) => api('GET', path, opts);
export const post = (path, body, opts = {}) => api('POST', path, { ...opts, body });
export const put = (path, body, opts = {}) => api('PUT', path, { ...opts, body });
export const patch = (path, body, opts = {}) => api('PATCH', path, { ...opts, body });

/** A query string from an object, skipping empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : '';
}

/**
 * A money action (fund, approve, resolve...): one Idempotency-Key from
 * crypto.randomUUID() for as long as the user is retrying the same thing.
 * The key is dropped only after a final answer (success, or a refusal
 * that a retry would only replay), never after a network error, a 5xx or
 * "key in use", so a retry after a lost answer cannot move money twice.
 */
export function moneyAction() {
  let key = null;
  return {
    get key() { return key; },
    async run(method, path, body) {
      if (!key) key = crypto.randomUUID();
      try {
        const out = await api(method, path, { body, idem: key, timeoutMs: 30000 });
        key = null;
        return out;
      } catch (e) {
        if (!(e instanceof ApiError) || !e.transient) key = null;
        throw e;
      }
    },
  };
}

/** Loads the signed-in user and the CSRF token; null when signed out.
 * GET /auth/session answers 200 either way, so a signed-out visit logs no
 * error. */
export async function loadSession() {
  const d = await get('/api/v1/auth/session');
  session.me = d.user || null;
  session.csrf = d.csrf_token || null;
  return session.me;
}

/** Asks the server whether the session still holds (the live stream was
 * refused); tells onSignedOut listeners when it ended elsewhere. */
export async function checkSession() {
  const was = session.me;
  let now;
  try { now = await loadSession(); } catch { return; } // unreachable: the banner says so
  if (was && !now) listeners.forEach((fn) => fn());
}

/** Tells the shell (header, live stream, badges) that the session changed. */
export function sessionChanged() {
  document.dispatchEvent(new Event('opx:session'));
}

export async function signIn(email, password) {
  await post('/api/v1/auth/login', { email, password });
  const me = await loadSession();
  sessionChanged();
  return me;
}

export async function signOut() {
  try {
    await post('/api/v1/auth/logout');
  } finally {
    session.me = null;
    session.csrf = null;
    sessionChanged();
  }
}
