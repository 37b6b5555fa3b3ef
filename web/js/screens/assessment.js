// assessment: the engineer's timed quiz. The rules and a start button
// (POST /api/v1/me/assessment), or the open attempt resumed (its id kept
// in sessionStorage; a 409 attempt-open names it too); one card per
// question, progress, a countdown to expires_at that turns amber at five
// minutes and sends the answers at zero; a warning before leaving; then the
// graded result: score, passed or not, and for each question the right
// answer and why.
import { h, mount } from '../dom.js';
import { ApiError, get, post, session } from '../api.js';
import { exactTime, relative } from '../format.js';
import { card, chip, confirmDialog, failed, loading, pageHead, toast } from '../ui.js';
import { clock, inlineCode, promptNodes, serverOffset, vettingChip } from './vetting_common.js';

const TOTAL = 20;
const PASS = 14;
const MINUTES = 30;
const WARN_AT = 5 * 60; // seconds left when the countdown turns amber
const SEND_AT = 1.5; // seconds left when the answers go (the server refuses at 0)

const store = {
  key: (k) => `opx.assessment.${session.me?.id || 'me'}.${k}`,
  get(k) { try { return JSON.parse(sessionStorage.getItem(this.key(k)) || 'null'); } catch { return null; } },
  set(k, v) { try { sessionStorage.setItem(this.key(k), JSON.stringify(v)); } catch { /* private mode */ } },
  del(k) { try { sessionStorage.removeItem(this.key(k)); } catch { /* ignore */ } },
};

export default async function render(view, ctx) {
  loading(view, 'Loading the assessment');
  let eng;
  try {
    eng = (await get('/api/v1/me/profile')).engineer;
  } catch (err) {
    failed(view, err, () => render(view, ctx));
    return;
  }
  if (!ctx.current) return;
  const id = store.get('attempt');
  if (id) {
    let att = null;
    try {
      att = await get(`/api/v1/assessments/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err.status !== 404) { failed(view, err, () => render(view, ctx)); return; }
      store.del('attempt');
    }
    if (!ctx.current) return;
    if (att?.status === 'open') { await quiz(view, ctx, att, store.get(`meta.${att.id}`) || {}); return; }
    if (att?.status === 'submitted') {
      const graded = store.get(`result.${att.id}`);
      if (graded) { result(view, ctx, att, graded, eng); return; }
    }
    if (att?.status === 'expired') {
      intro(view, ctx, eng, h('div', { class: 'notice notice-warn' },
        h('p', h('strong', 'Your last attempt ran out of time. '), `It expired ${relative(att.expires_at)} without being submitted, so it was not graded.`)));
      store.del('attempt');
      return;
    }
  }
  intro(view, ctx, eng);
}

// ---- before an attempt ----------------------------------------------------------------

function rules(extra) {
  return h('ul', { class: 'ticks quiz-rules' },
    h('li', `${TOTAL} questions drawn at random from a bank on concurrency, testing and production async Python.`),
    h('li', `${MINUTES} minutes from the moment you start. The clock keeps running if you leave the page.`),
    h('li', `${PASS} of ${TOTAL} correct to pass. Unanswered questions count as wrong.`),
    h('li', 'At most 3 attempts in any 30 days. After each one you see every answer with its explanation.'),
    extra ? h('li', extra) : null);
}

function intro(view, ctx, eng, notice) {
  const v = eng.vetting || {};
  const s = v.status || 'registered';
  const status = h('div', { role: 'status', class: 'start-status' });
  let body;
  if (s === 'registered') {
    body = [h('div', { class: 'notice notice-info' }, h('p', h('strong', 'First, complete your profile. '),
      'The assessment opens once your profile and skills are saved.')),
    h('a', { class: 'btn btn-primary', href: '/profile' }, 'Complete your profile')];
  } else if (s === 'profile_complete' || (s === 'rejected' && (!v.reapply_after || Date.parse(v.reapply_after) <= Date.now()))) {
    const btn = h('button', { type: 'button', class: 'btn btn-primary' }, 'Start the assessment');
    btn.addEventListener('click', () => start(view, ctx, eng, btn, status));
    body = [rules(), h('p', 'Find a quiet half hour first: the timer starts when you press the button.'),
      h('div', { class: 'actions' }, btn), status];
  } else if (s === 'rejected') {
    body = [h('div', { class: 'notice notice-warn' }, h('p', h('strong', 'Not yet. '), `You may start again from ${exactTime(v.reapply_after)}.`))];
  } else if (s === 'vetted') {
    body = [h('div', { class: 'notice notice-good' }, h('p', h('strong', 'You are vetted. '), 'There is no assessment left to take.')),
      h('a', { class: 'btn', href: '/profile' }, 'Your profile')];
  } else {
    body = [h('div', { class: 'notice notice-good' }, h('p', h('strong', 'You passed the assessment. '),
      'Next is the interview with a vetter; you are in their queue.')), h('a', { class: 'btn', href: '/profile' }, 'See where you are')];
  }
  const head = pageHead('Assessment', { sub: 'Async Python: concurrency, testing and production.' });
  head.querySelector('h1').append(' ', vettingChip(v));
  mount(view, head, notice || null, card('How it works', ...body));
}

async function start(view, ctx, eng, btn, status) {
  if (btn.disabled) return;
  btn.disabled = true;
  btn.setAttribute('aria-busy', 'true');
  btn.textContent = 'Starting…';
  try {
    const att = await post('/api/v1/me/assessment');
    // the server's clock against ours, from the moment it started the attempt (seconds: within 2 s is ours)
    const skew = Date.parse(att.started_at) - Date.now();
    const meta = { attempts_left: att.attempts_left, pass_mark: att.pass_mark, offset: Math.abs(skew) < 2000 ? 0 : skew };
    store.set('attempt', att.id);
    store.set(`meta.${att.id}`, meta);
    if (ctx.current) await quiz(view, ctx, att, meta);
  } catch (err) {
    if (err instanceof ApiError && err.type === 'attempt-open' && err.body.attempt_id) {
      // one is already open (started in another tab or before a reload): resume it
      store.set('attempt', err.body.attempt_id);
      try {
        const att = await get(`/api/v1/assessments/${encodeURIComponent(err.body.attempt_id)}`);
        toast('You already had an attempt open: here it is, with its own clock.', 'info');
        if (ctx.current) await quiz(view, ctx, att, {});
        return;
      } catch (e2) { err = e2; } // eslint-disable-line no-param-reassign
    }
    btn.disabled = false;
    btn.removeAttribute('aria-busy');
    btn.textContent = 'Start the assessment';
    let text = err.detail;
    if (err.type === 'attempt-limit') {
      text = `You have used your 3 attempts for now. The next one can start ${err.body.next_attempt_at ? `on ${exactTime(err.body.next_attempt_at)}` : 'later'}.`;
      btn.hidden = true;
    } else if (err.type === 'profile-incomplete') {
      text = 'Complete your profile first.';
    } else if (err.type === 'wrong-state') {
      text = `The assessment is not open to you now (you are ${String(err.body.state || '').replace(/_/g, ' ')}).`;
    }
    status.replaceChildren(h('div', { class: 'notice notice-bad', role: 'alert' }, h('p', text),
      err.type === 'profile-incomplete' ? h('a', { href: '/profile' }, 'Go to your profile') : null));
  }
}

// ---- the quiz -------------------------------------------------------------------------

async function quiz(view, ctx, att, meta) {
  // the clock the server counts by: ours, corrected by what was measured at the start (or the Date header)
  const offset = typeof meta.offset === 'number' ? meta.offset : await serverOffset();
  if (!ctx.current) return;
  const now = () => Date.now() + offset;
  const expires = Date.parse(att.expires_at);
  const questions = att.questions || [];
  const answers = store.get(`answers.${att.id}`) || {};
  store.set(`questions.${att.id}`, questions);
  let sent = false;
  let sending = false;

  const progressText = h('span', { class: 'quiz-progress-text' });
  const progress = h('progress', { max: questions.length, value: 0, 'aria-hidden': 'true' });
  const timeText = h('span', { class: 'quiz-time' });
  const timer = h('div', { class: 'quiz-timer', role: 'timer', 'aria-label': 'Time left' },
    h('span', { class: 'quiz-timer-label' }, 'Time left '), timeText);
  const announce = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
  const jump = h('ol', { class: 'quiz-jump', 'aria-label': 'Questions' });
  const submitBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Submit answers');
  const formStatus = h('div', { class: 'form-status', role: 'status' });

  const answered = () => questions.filter((q) => answers[q.id] !== undefined).length;
  const drawProgress = () => {
    const n = answered();
    progressText.textContent = `${n} of ${questions.length} answered`;
    progress.value = n;
    jump.querySelectorAll('a').forEach((a) => {
      const done = answers[a.dataset.q] !== undefined;
      a.classList.toggle('done', done);
      a.setAttribute('aria-label', `Question ${a.textContent}${done ? ', answered' : ', not answered'}`);
    });
  };

  const form = h('form', { class: 'quiz', novalidate: true, 'aria-label': 'Assessment questions' },
    questions.map((q, i) => {
      const qid = `q-${i + 1}`;
      jump.append(h('li', h('a', { href: `#${qid}`, dataset: { q: q.id }, onClick: (ev) => {
        ev.preventDefault();
        document.getElementById(qid)?.scrollIntoView({ block: 'start' });
        document.getElementById(qid)?.querySelector('input')?.focus({ preventScroll: true });
      } }, String(i + 1))));
      return h('section', { class: 'card q-card', id: qid, dataset: { question: q.id } },
        h('fieldset', { class: 'q-fieldset' },
          h('legend', h('span', { class: 'q-num' }, `Question ${i + 1} of ${questions.length}`)),
          h('div', { class: 'q-prompt' }, promptNodes(q.prompt)),
          h('div', { class: 'q-choices' }, q.choices.map((c, k) => {
            const id = `${qid}-c${k}`;
            const input = h('input', { type: 'radio', id, name: q.id, value: String(k), checked: answers[q.id] === k });
            input.addEventListener('change', () => {
              answers[q.id] = k;
              store.set(`answers.${att.id}`, answers);
              drawProgress();
            });
            return h('label', { class: 'q-choice', for: id }, input, h('span', { class: 'q-choice-text' }, inlineCode(c)));
          }))));
    }),
    h('div', { class: 'card quiz-submit' },
      h('p', 'You can change any answer until you submit. Unanswered questions count as wrong.'),
      h('div', { class: 'actions' }, submitBtn), formStatus));

  const bar = h('div', { class: 'quiz-bar', 'aria-label': 'Progress and time' },
    h('div', { class: 'quiz-bar-row' }, h('div', { class: 'quiz-progress' }, progressText, progress), timer),
    jump);

  const lock = () => form.querySelectorAll('input, button').forEach((el) => { el.disabled = true; });

  async function send(auto) {
    if (sent || sending) return;
    sending = true;
    submitBtn.disabled = true;
    submitBtn.setAttribute('aria-busy', 'true');
    submitBtn.textContent = auto ? 'Time is up: sending…' : 'Submitting…';
    const body = { answers: questions.filter((q) => answers[q.id] !== undefined).map((q) => ({ question_id: q.id, choice: answers[q.id] })) };
    try {
      const graded = await post(`/api/v1/assessments/${encodeURIComponent(att.id)}/submit`, body, { timeoutMs: 20000 });
      sent = true;
      store.set(`result.${att.id}`, { ...graded, attempts_left: meta.attempts_left });
      store.del(`answers.${att.id}`);
      stop();
      if (!ctx.current) return;
      const eng = await get('/api/v1/me/profile').then((d) => d.engineer).catch(() => null);
      if (ctx.current) result(view, ctx, att, { ...graded, attempts_left: meta.attempts_left }, eng);
    } catch (err) {
      sending = false;
      submitBtn.removeAttribute('aria-busy');
      submitBtn.textContent = 'Submit answers';
      if (err.type === 'attempt-closed') {
        sent = true;
        stop();
        lock();
        formStatus.replaceChildren(h('div', { class: 'notice notice-bad', role: 'alert' },
          h('p', h('strong', 'This attempt is closed. '), 'The time ran out before the answers arrived, so it was not graded.'),
          h('a', { href: '/assessment', class: 'btn', onClick: () => store.del('attempt') }, 'Back to the assessment page')));
        return;
      }
      submitBtn.disabled = now() >= expires;
      formStatus.replaceChildren(h('div', { class: 'notice notice-bad', role: 'alert' },
        h('p', h('strong', 'Your answers were not sent. '), err.detail, ' They are kept here; try again.')));
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const missing = questions.length - answered();
    if (missing > 0) {
      const ok = await confirmDialog({ title: `Submit with ${missing} unanswered?`,
        body: [`${missing} question${missing === 1 ? ' has' : 's have'} no answer and will count as wrong. You need ${meta.pass_mark || PASS} of ${questions.length} to pass.`],
        confirm: 'Submit anyway' });
      if (!ok) return;
    }
    send(false);
  });

  // the countdown
  const spoken = new Set();
  const tick = () => {
    const left = (expires - now()) / 1000;
    timeText.textContent = clock(left);
    timer.classList.toggle('quiz-timer-warn', left <= WARN_AT && left > 0);
    timer.classList.toggle('quiz-timer-out', left <= 0);
    for (const m of [10, 5, 1]) {
      if (left <= m * 60 && left > m * 60 - 5 && !spoken.has(m)) { spoken.add(m); announce.textContent = `${m} minute${m > 1 ? 's' : ''} left.`; }
    }
    if (left <= SEND_AT && !sent) {
      timeText.textContent = '0:00';
      lock();
      announce.textContent = 'Time is up. Your answers are being sent.';
      send(true);
    }
  };
  const iv = setInterval(tick, 250);
  const beforeUnload = (ev) => { if (!sent) { ev.preventDefault(); ev.returnValue = ''; } };
  window.addEventListener('beforeunload', beforeUnload);
  const leaving = async (ev) => {
    if (sent) return;
    const a = ev.target.closest?.('a[href]');
    if (!a || form.contains(a) || bar.contains(a) || a.target || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    const url = new URL(a.href, location.origin);
    if (url.origin !== location.origin || url.pathname === location.pathname) return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    const ok = await confirmDialog({ title: 'Leave the assessment?',
      body: [`The clock keeps running: it ends ${relative(new Date(expires).toISOString(), now())}. Your answers so far stay on this device, so you can come back to this page and go on.`],
      confirm: 'Leave', tone: 'danger' });
    if (ok) ctx.navigate(url.pathname + url.search + url.hash);
  };
  window.addEventListener('click', leaving, true);
  function stop() {
    clearInterval(iv);
    window.removeEventListener('beforeunload', beforeUnload);
    window.removeEventListener('click', leaving, true);
  }
  ctx.onCleanup(stop);

  const left0 = meta.attempts_left;
  const head = pageHead('Assessment', {
    sub: `Started ${exactTime(att.started_at)}; ends ${exactTime(att.expires_at)}. Pass mark ${meta.pass_mark || PASS} of ${questions.length}.${
      left0 !== undefined ? ` ${left0 === 0 ? 'This is your last attempt for 30 days.' : `${left0} more attempt${left0 === 1 ? '' : 's'} after this one in 30 days.`}` : ''}`,
  });
  head.querySelector('h1').append(' ', chip('open', 'In progress'));
  mount(view, head, bar, announce, form);
  drawProgress();
  tick();
}

// ---- the graded result ----------------------------------------------------------------

async function result(view, ctx, att, graded, eng) {
  let questions = att.questions || store.get(`questions.${att.id}`) || [];
  if (!questions.length) {
    try { questions = (await get(`/api/v1/assessments/${encodeURIComponent(att.id)}`)).questions || []; } catch { questions = []; }
  }
  if (!ctx.current) return;
  const byId = new Map(questions.map((q) => [q.id, q]));
  const passed = !!graded.passed;
  const left = graded.attempts_left;
  const status = eng?.vetting?.status || graded.vetting?.status;

  let next;
  if (passed) {
    next = h('div', { class: 'notice notice-good' },
      h('p', h('strong', 'You passed. '), 'Next is an interview with a vetter: you are in their queue now, and they will contact you by email.'),
      h('a', { class: 'btn btn-primary', href: '/profile' }, 'See what comes next'));
  } else {
    const again = h('button', { type: 'button', class: 'btn btn-primary' }, 'Start another attempt');
    again.addEventListener('click', () => { store.del('attempt'); render(view, ctx); });
    next = h('div', { class: 'notice notice-warn' },
      h('p', h('strong', 'Not passed this time. '), `You needed ${graded.pass_mark || PASS}. Read the explanations below; a new attempt draws new questions. `,
        left === 0 ? 'That was your last attempt in this 30-day window: the next one opens 30 days after your first.'
          : left !== undefined ? `${left} attempt${left === 1 ? '' : 's'} left in 30 days.` : ''),
      again);
  }

  const items = (graded.results || []).map((r, i) => {
    const q = byId.get(r.question_id);
    const choices = q?.choices || [];
    return h('li', { class: `card q-result ${r.correct ? 'q-right' : 'q-wrong'}`, dataset: { question: r.question_id } },
      h('h3', { class: 'q-result-head' }, `Question ${i + 1} `, r.correct ? chip('succeeded', 'Correct') : chip('failed', r.your_choice === null ? 'Not answered' : 'Wrong')),
      q ? h('div', { class: 'q-prompt' }, promptNodes(q.prompt)) : null,
      h('ul', { class: 'q-answers' }, choices.map((c, k) => {
        const right = k === r.correct_choice;
        const mine = k === r.your_choice;
        const tags = [right ? 'Right answer' : null, mine ? 'Your answer' : null].filter(Boolean);
        return h('li', { class: ['q-answer', right ? 'q-answer-right' : null, mine && !right ? 'q-answer-mine' : null] },
          h('span', { class: 'q-answer-mark', 'aria-hidden': 'true' }, right ? '✓' : mine ? '✕' : ''),
          h('span', { class: 'q-choice-text' }, inlineCode(c)),
          tags.length ? h('span', { class: 'q-answer-tag' }, ` (${tags.join(', ')})`) : null);
      })),
      h('p', { class: 'q-explain' }, h('strong', 'Why: '), inlineCode(r.explanation)));
  });

  const head = pageHead('Assessment result', { sub: `Submitted ${exactTime(att.submitted_at || new Date().toISOString())}.` });
  head.querySelector('h1').append(' ', chip(passed ? 'assessment_passed' : 'assessment_failed', passed ? 'Passed' : 'Not passed'));
  mount(view, head,
    h('div', { class: 'kpis' },
      h('div', { class: 'kpi' }, h('div', { class: 'kpi-value quiz-score' }, `${graded.score} of ${graded.total || TOTAL}`), h('div', { class: 'kpi-label' }, 'Your score')),
      h('div', { class: 'kpi' }, h('div', { class: 'kpi-value' }, `${graded.pass_mark || PASS}`), h('div', { class: 'kpi-label' }, 'Needed to pass')),
      h('div', { class: 'kpi' }, h('div', { class: 'kpi-value' }, status ? vettingChip({ status }) : '—'), h('div', { class: 'kpi-label' }, 'Your vetting state'))),
    next,
    h('h2', 'Every question, with the answer'),
    items.length ? h('ol', { class: 'q-results' }, items) : h('p', 'The questions of this attempt are no longer available here.'));
}
