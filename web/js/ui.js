// ui: the app's building blocks, so every screen looks and behaves the
// same: state chips, cards, empty states, skeletons, toasts, relative
// times that tick, fields with labels and hints, the GOV.UK-style error
// summary with each server field error beside its field, buttons that
// disable themselves while their request is in flight, and a confirm
// dialog for actions that move money.
import { h, mount, nextId } from './dom.js';
import { exactTime, relative, stateLabel, stateTone } from './format.js';
import { ApiError } from './api.js';

/** A labelled state chip; the colour comes from the state (format.js). */
export function chip(state, label) {
  return h('span', { class: `chip chip-${stateTone(state)}`, dataset: { state: state || '' } }, label || stateLabel(state));
}

export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', title) : null, ...children);
}

/** "Nothing here yet" with what to do next. */
export function empty(title, text, action) {
  return h('div', { class: 'empty' }, h('p', { class: 'empty-title' }, title), text ? h('p', text) : null, action || null);
}

/** Grey placeholder lines that hold the space data will take. */
export function skeleton(lines = 3) {
  return h('div', { class: 'skeleton', 'aria-hidden': 'true' },
    Array.from({ length: lines }, (_, i) => h('div', { class: `sk-line${i === 0 ? ' sk-wide' : ''}` })));
}

/** A page's loading state: skeletons and a polite "Loading" for screen readers. */
export function loading(view, label = 'Loading') {
  mount(view, h('p', { class: 'sr-only', role: 'status' }, `${label}…`), skeleton(4));
}

/** A load that failed: what happened and a retry button. */
export function failed(view, err, retry) {
  mount(view, h('h1', document.title.split(' · ')[0] || 'Something went wrong'), h('div', { class: 'notice notice-bad', role: 'alert' },
    h('p', h('strong', 'Could not load this page. '), err?.detail || String(err)),
    retry ? h('button', { class: 'btn', type: 'button', onClick: retry }, 'Try again') : null));
}

const toastRoot = () => document.getElementById('toasts');

/** A short message in the live region; tone good|bad|info. */
export function toast(message, tone = 'info', ms = 5000) {
  const root = toastRoot();
  if (!root) return;
  const t = h('div', { class: `toast toast-${tone}` }, message);
  root.append(t);
  setTimeout(() => t.remove(), ms);
}

const tickers = new Set();
setInterval(() => tickers.forEach((fn) => fn()), 1000);

/** <time> showing "in 3 h 12 min" (updated every second), exact on hover and for screen readers. */
export function timeAgo(iso, { prefix = '' } = {}) {
  const el = h('time', { datetime: iso || '', title: exactTime(iso) });
  const update = () => {
    if (!el.isConnected && el.dataset.mounted) { tickers.delete(update); return; }
    if (el.isConnected) el.dataset.mounted = '1';
    el.textContent = prefix + relative(iso);
  };
  update();
  if (iso) tickers.add(update);
  return el;
}

/** The exact time in the viewer's zone, zone named. */
export function timeExact(iso) {
  return h('time', { datetime: iso || '' }, exactTime(iso));
}

/**
 * field({label, name, hint, input}) -> div.field wired for labels, hints
 * and error messages. `input` defaults to <input name=...>; pass any
 * control (select, textarea, a fieldset's content).
 */
export function field({ label, name, hint, input, type = 'text', value, required, attrs = {} }) {
  const id = nextId(name || 'f');
  const ctl = input || h('input', { type, name, value, required, ...attrs });
  if (!ctl.id) ctl.id = id;
  if (name && !ctl.name && 'name' in ctl) ctl.name = name;
  const isRequired = required ?? ctl.required;
  const hintEl = hint ? h('p', { class: 'hint', id: `${ctl.id}-hint` }, hint) : null;
  if (hintEl) ctl.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field', dataset: { field: name || '' } },
    h('label', { for: ctl.id }, label, isRequired ? null : h('span', { class: 'optional' }, ' (optional)')),
    hintEl, ctl);
}

/** <select> from [[value, label], ...] */
export function select(name, options, value, attrs = {}) {
  return h('select', { name, ...attrs },
    options.map(([v, l]) => h('option', { value: v, selected: String(v) === String(value) }, l)));
}

function fieldFor(form, name) {
  if (!name) return null;
  const candidates = [name, name.replace(/\[\d+\]/g, ''), name.split('.')[0], name.split('[')[0]];
  for (const n of candidates) {
    const f = form.querySelector(`.field[data-field="${CSS.escape(n)}"]`);
    if (f) return f;
  }
  return null;
}

export function clearErrors(form) {
  form.querySelectorAll('.error-summary').forEach((e) => e.remove());
  form.querySelectorAll('.field-error').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  form.querySelectorAll('.field.has-error').forEach((e) => e.classList.remove('has-error'));
}

/**
 * Shows an ApiError on a form: a summary at the top that links to each
 * field, and each field's message beside it. Fields are matched by
 * data-field (the API's field name: "budget.amount" matches a field named
 * "budget.amount" or "budget"). Nothing the user typed is touched.
 */
export function showErrors(form, err) {
  clearErrors(form);
  const items = [];
  const errors = err instanceof ApiError ? err.errors : [];
  for (const e of errors) {
    const f = fieldFor(form, e.field);
    const ctl = f?.querySelector('input, select, textarea, button');
    if (f) {
      f.classList.add('has-error');
      const msgId = nextId('err');
      const label = f.querySelector('label')?.firstChild?.textContent?.trim() || e.field;
      f.insertBefore(h('p', { class: 'field-error', id: msgId }, h('span', { class: 'sr-only' }, 'Error: '), `${label} ${e.message}`),
        f.querySelector('label').nextSibling);
      if (ctl) {
        ctl.setAttribute('aria-invalid', 'true');
        ctl.setAttribute('aria-describedby', [ctl.getAttribute('aria-describedby'), msgId].filter(Boolean).join(' '));
      }
      items.push(h('li', h('a', { href: `#${ctl?.id || ''}`, onClick: (ev) => { ev.preventDefault(); ctl?.focus(); } }, `${label} ${e.message}`)));
    } else {
      items.push(h('li', `${e.field ? `${e.field}: ` : ''}${e.message}`));
    }
  }
  if (!items.length) items.push(h('li', err?.detail || String(err)));
  const summary = h('div', { class: 'error-summary', role: 'alert', tabindex: '-1' },
    h('h2', { class: 'error-summary-title' }, 'There is a problem'), h('ul', items));
  form.prepend(summary);
  summary.focus();
  return summary;
}

/**
 * Runs fn while btn is disabled and says so; a second click while it runs
 * does nothing. Returns fn's result; rethrows its error.
 */
export async function busy(btn, fn, busyLabel) {
  if (btn.disabled) return undefined;
  const label = btn.textContent;
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  if (busyLabel) btn.textContent = busyLabel;
  try {
    return await fn();
  } finally {
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    if (busyLabel) btn.textContent = label;
  }
}

/**
 * Wires a form: on submit, clears errors, runs handler(formData, form)
 * with the submit button busy; an ApiError is shown on the form.
 */
export function onSubmit(form, handler, busyLabel = 'Working…') {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const btn = ev.submitter || form.querySelector('button[type=submit]');
    clearErrors(form);
    try {
      await busy(btn, () => handler(new FormData(form), form), busyLabel);
    } catch (err) {
      showErrors(form, err);
    }
  });
  return form;
}

/**
 * A modal confirm (native <dialog>): resolves true when confirmed. Use it
 * for what moves money: say what moves, from where to where.
 */
export function confirmDialog({ title, body, confirm = 'Confirm', tone = 'primary' }) {
  return new Promise((resolve) => {
    const titleId = nextId('dlg');
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title),
      ...(Array.isArray(body) ? body : [body]).map((b) => (b instanceof Node ? b : h('p', b))),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn', value: 'cancel', onClick: () => dlg.close('cancel') }, 'Cancel'),
        h('button', { type: 'button', class: `btn btn-${tone}`, onClick: () => dlg.close('ok') }, confirm)));
    dlg.addEventListener('close', () => { resolve(dlg.returnValue === 'ok'); dlg.remove(); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** A table with headings; cells are nodes or text; numeric columns right-aligned. */
export function table(headings, rows, { numeric = [], caption } = {}) {
  return h('div', { class: 'table-wrap' }, h('table', caption ? h('caption', caption) : null,
    h('thead', h('tr', headings.map((t, i) => h('th', { scope: 'col', class: numeric.includes(i) ? 'num' : null }, t)))),
    h('tbody', rows.map((r) => h('tr', r.map((c, i) => h('td', { class: numeric.includes(i) ? 'num' : null }, c)))))));
}

/** A definition list from [[term, value], ...] */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).flatMap(([k, v]) => [h('dt', k), h('dd', v)]));
}

/** The page's heading row: title, an optional state chip and actions. */
export function pageHead(title, { state, actions, sub } = {}) {
  return h('div', { class: 'page-head' },
    h('div', h('h1', title, state ? ' ' : null, state ? chip(state) : null), sub ? h('p', { class: 'sub' }, sub) : null),
    actions ? h('div', { class: 'actions' }, actions) : null);
}

/** A link that the router handles (no reload). */
export function link(href, text, attrs = {}) {
  return h('a', { href, ...attrs }, text);
}
