// vetting_common: what the getting-vetted screens share (profile,
// assessment, vetting queue, engineer file): the skills catalog with its
// names, the words for levels 1-5, the lifecycle stepper, errors on radio
// groups (fieldsets) beside the group, the server's clock (it may run on a
// test clock) and a question's prompt split into prose and code.
import { h, nextId } from '../dom.js';
import { ApiError, get } from '../api.js';
import { date } from '../format.js';
import { chip, showErrors } from '../ui.js';

export const LEVEL_WORDS = ['', 'Aware', 'Working knowledge', 'Proficient', 'Advanced', 'Expert'];

export const levelText = (n) => (n ? `${n} – ${LEVEL_WORDS[n]}` : '—');

let catalogPromise = null;
/** The catalog: {groups:[{id,name,skills:[{id,name}]}], names: Map id -> name, groupOf: Map id -> group name}. */
export function loadCatalog() {
  if (!catalogPromise) {
    catalogPromise = get('/api/v1/skills').then((d) => {
      const names = new Map();
      const groupOf = new Map();
      for (const g of d.groups || []) for (const s of g.skills || []) { names.set(s.id, s.name); groupOf.set(s.id, g.name); }
      return { groups: d.groups || [], names, groupOf };
    }).catch((e) => { catalogPromise = null; throw e; });
  }
  return catalogPromise;
}

export const skillName = (cat, id) => cat?.names.get(id) || id;

/** The lifecycle as four steps; which one is done, current, next or failed for a vetting status. */
const STEPS = [
  ['profile', 'Profile', 'Tell clients what you do and rate your skills.'],
  ['assessment', 'Assessment', '20 questions on async Python in 30 minutes; 14 to pass.'],
  ['interview', 'Interview', 'A vetter talks through real scenarios with you.'],
  ['decision', 'Decision', 'Vetted at a level (mid, senior or staff), visible to clients.'],
];
const CURRENT = { registered: 0, profile_complete: 1, assessment_passed: 2, interviewed: 3, vetted: 4, rejected: 3 };

export function stepper(vetting, { staff = false } = {}) {
  const status = vetting?.status || 'registered';
  const cur = CURRENT[status] ?? 0;
  return h('ol', { class: 'vet-steps', 'aria-label': 'Your path to getting vetted' },
    STEPS.map(([key, title, text], i) => {
      let state = i < cur ? 'done' : i === cur ? 'current' : 'todo';
      if (status === 'rejected' && i === 3) state = 'failed';
      if (status === 'vetted') state = 'done';
      const word = { done: 'Done', current: 'Now', todo: 'Next', failed: 'Not this time' }[state];
      let detail = text;
      if (status === 'rejected' && i === 3) {
        detail = vetting.reapply_after ? `You may start again from ${date(vetting.reapply_after)}.` : 'You may start again.';
      }
      if (status === 'vetted' && i === 3 && vetting.level) detail = `Vetted as ${vetting.level}.`;
      if (status === 'assessment_passed' && i === 2) detail = staff ? 'Waiting in the queue for an interview.' : 'You are in the vetters’ queue; they will be in touch.';
      if (staff && i === 0) detail = 'Profile and self-rated skills.';
      if (staff && status === 'rejected' && i === 3) detail = vetting.reapply_after ? `Not vetted; may re-apply from ${date(vetting.reapply_after)}.` : 'Not vetted.';
      return h('li', { class: `vet-step vet-step-${state}`, dataset: { step: key }, 'aria-current': state === 'current' ? 'step' : null },
        h('span', { class: 'vet-step-mark', 'aria-hidden': 'true' }, state === 'done' ? '✓' : state === 'failed' ? '✕' : String(i + 1)),
        h('span', { class: 'vet-step-body' },
          h('span', { class: 'vet-step-title' }, title, ' ', h('span', { class: 'vet-step-word' }, `(${word})`)),
          h('span', { class: 'vet-step-text' }, detail)));
    }));
}

export function vettingChip(vetting) {
  const s = vetting?.status || 'registered';
  if (s === 'vetted' && vetting.level) return chip('vetted', `Vetted · ${vetting.level}`);
  return chip(s);
}

/**
 * ui.showErrors, plus errors for radio groups: a <fieldset data-group="x">
 * takes the errors for field x (and x.y, x[0]) after its legend, and the
 * summary links to its first control.
 */
export function showGroupedErrors(form, err) {
  const errors = err instanceof ApiError ? err.errors : [];
  const grouped = [];
  const rest = [];
  for (const e of errors) {
    const names = [e.field, (e.field || '').split('.')[0], (e.field || '').split('[')[0]];
    const fs = names.map((n) => n && form.querySelector(`fieldset[data-group="${CSS.escape(n)}"]`)).find(Boolean);
    if (fs) grouped.push([fs, e]); else rest.push(e);
  }
  form.querySelectorAll('fieldset.has-error').forEach((fs) => fs.classList.remove('has-error'));
  const summary = showErrors(form, err instanceof ApiError ? new ApiError(err.status, { ...err.body, errors: rest }) : err);
  if (!grouped.length) return summary;
  const ul = summary.querySelector('ul');
  if (!rest.length) ul.replaceChildren();
  for (const [fs, e] of grouped) {
    const name = fs.querySelector('legend')?.textContent?.trim() || e.field;
    const id = nextId('err');
    fs.classList.add('has-error');
    const legend = fs.querySelector('legend');
    const p = h('p', { class: 'field-error', id }, h('span', { class: 'sr-only' }, 'Error: '), `${name}: ${e.message}`);
    if (legend) legend.after(p); else fs.prepend(p);
    const ctl = fs.querySelector('input, select, textarea');
    ctl?.setAttribute('aria-describedby', [ctl.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
    ul.append(h('li', h('a', { href: `#${ctl?.id || ''}`, onClick: (ev) => { ev.preventDefault(); ctl?.focus(); } }, `${name}: ${e.message}`)));
  }
  // the summary in the order of the form
  const at = (li) => {
    const href = li.querySelector('a')?.getAttribute('href') || '';
    const el = href.length > 1 ? document.getElementById(href.slice(1)) : null;
    return el;
  };
  const lis = [...ul.children];
  lis.sort((a, b) => {
    const ea = at(a); const eb = at(b);
    if (!ea || !eb) return ea ? -1 : eb ? 1 : 0;
    return ea.compareDocumentPosition(eb) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
  });
  ul.replaceChildren(...lis);
  return summary;
}

/** A radio group in a fieldset: [[value, label]], wired for showGroupedErrors. */
export function radioGroup({ legend, name, options, value, hint, group, cls = 'choices' }) {
  const hintEl = hint ? h('p', { class: 'hint' }, hint) : null;
  return h('fieldset', { class: 'radio-group', dataset: { group: group || name } },
    h('legend', legend), hintEl,
    h('div', { class: cls }, options.map(([v, l]) => {
      const id = nextId(name.replace(/\W/g, '-'));
      return h('label', { class: 'choice', for: id },
        h('input', { type: 'radio', id, name, value: String(v), checked: value !== undefined && String(v) === String(value) }), l);
    })));
}

/**
 * The server's clock minus ours, in ms (the server may run on a test
 * clock). Read from the Date header of a cheap request; 0 when unknown.
 */
export async function serverOffset() {
  try {
    const t0 = Date.now();
    const res = await fetch('/healthz', { method: 'GET', cache: 'no-store' });
    const t1 = Date.now();
    const d = Date.parse(res.headers.get('Date') || '');
    if (Number.isNaN(d)) return 0;
    const off = d + 500 - (t0 + t1) / 2; // the header has whole seconds
    return Math.abs(off) < 2000 ? 0 : off;
  } catch {
    return 0;
  }
}

const CODE_START = /^\s*(await|async|def|import|from|class|with|for|try|if|return|raise|while|@)\b|^\s*[\w.,\s]+\s=[^=]|^\s*[\w.]+\([^)]*\)\s*$/;

/** A prompt's paragraphs: prose as <p>, code (several lines or a statement) as <pre><code>. */
export function promptNodes(prompt) {
  return String(prompt || '').split(/\n\s*\n/).map((para) => {
    const code = para.includes('\n') || (CODE_START.test(para) && !/[?.]$/.test(para.trim()));
    return code ? h('pre', { class: 'q-code' }, h('code', para)) : h('p', { class: 'q-text' }, inlineCode(para));
  });
}

/** Text with `backticks` as <code> (as text nodes, never markup). */
export function inlineCode(text) {
  return String(text || '').split(/`([^`]+)`/).map((part, i) => (i % 2 ? h('code', part) : part));
}

/** "12 min 5 s" style mm:ss for a countdown. */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}
