// One run: summary, live progress over SSE, cancel, results, diff against another run.
import { api, streamEvents } from '../api.js';
import { append, h, replace, setText } from '../dom.js';
import {
  duration,
  LIVE_STATES,
  num,
  runDurationMs,
  STATUSES,
  shortId,
  stateBadge,
  statusBar,
  sumCounts,
  updateStatusBar,
  when,
} from '../format.js';
import { diffPanel } from './diff.js';
import { groupsPanel } from './groups.js';
import { resultsPanel } from './results.js';

const RETRY_MS = [1000, 2000, 5000, 10000];

/** Mounts the run page for `id` in `root`. */
export async function runView(root, id, ctx) {
  const { signal } = ctx;
  append(root, h('p', { class: 'muted', text: 'Loading run…' }));
  let run;
  try {
    run = await api(`/runs/${encodeURIComponent(id)}`, { signal });
  } catch (err) {
    if (signal.aborted) return;
    replace(
      root,
      h('h1', { text: 'Run not available' }),
      h('p', {}, h('a', { href: '#/', text: 'All runs' })),
    );
    ctx.showError(err);
    return;
  }
  if (signal.aborted) return;

  const badgeSlot = h('span', {}, stateBadge(run.state));
  const cancel = h('button', { type: 'button', id: 'cancel-run', class: 'danger', text: 'Cancel run' });
  const again = h('a', {
    class: 'button secondary',
    href: `#/new?from=${encodeURIComponent(run.id)}`,
    text: 'Run again',
  });
  let summaryEl = summary(run);
  const refreshSummary = () => {
    const next = summary(run);
    summaryEl.replaceWith(next);
    summaryEl = next;
  };
  const progress = progressPanel(run);
  // The results' first page is asked for first: it is what a user waits for.
  const results = resultsPanel(run, ctx);
  const groups = groupsPanel(run, ctx, (g) => results.showGroup(g));
  void results.firstPage.then(() => groups.reload());
  const diff = diffPanel(run, ctx, results.firstPage);
  replace(
    root,
    h(
      'div',
      { class: 'title-row' },
      h(
        'h1',
        {},
        h('span', { text: `${run.check} run ` }),
        h('span', { class: 'mono', title: run.id, text: shortId(run.id) }),
        ' ',
        badgeSlot,
      ),
      h('div', { class: 'actions' }, cancel, again),
    ),
    summaryEl,
    progress.el,
    groups.el,
    results.el,
    diff.el,
  );

  const setState = (state) => {
    const was = run.state;
    run.state = state;
    // queued -> running: fetch the run once for its start time.
    if (was === 'queued' && state === 'running') {
      api(`/runs/${encodeURIComponent(run.id)}`, { signal })
        .then((fresh) => {
          if (run.state === 'running') Object.assign(run, fresh, { state: 'running' });
          refreshSummary();
        })
        .catch(() => {});
    }
    replace(badgeSlot, stateBadge(state));
    cancel.hidden = !LIVE_STATES.includes(state);
  };
  setState(run.state);

  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    setText(cancel, 'Cancelling…');
    try {
      const after = await api(`/runs/${encodeURIComponent(run.id)}/cancel`, { method: 'POST', signal });
      setState(after.state);
    } catch (err) {
      ctx.showError(err);
    } finally {
      cancel.disabled = false;
      setText(cancel, 'Cancel run');
    }
  });

  // Follow the event stream until `done`; reconnect with backoff when it drops early. A run already over
  // when the page loaded gets `done` at once: its panels are final, so they are not loaded a second time.
  const loadedLive = LIVE_STATES.includes(run.state);
  let finished = false;
  for (let attempt = 0; !finished && !signal.aborted; attempt++) {
    progress.setConnection(attempt === 0 ? 'connecting' : 'reconnecting');
    try {
      await streamEvents(`/runs/${encodeURIComponent(run.id)}/events`, {
        signal,
        onEvent(event, data) {
          progress.setConnection('live');
          if (event === 'progress') {
            // Marks that the live view saw the run in flight (not just its final state).
            if (LIVE_STATES.includes(data.state)) progress.el.dataset.sawLive = 'true';
            progress.update(data);
            if (data.state && data.state !== run.state) setState(data.state);
            if (LIVE_STATES.includes(data.state)) results.refreshIfLive();
          } else if (event === 'done') {
            finished = true;
            Object.assign(run, data);
            setState(data.state);
            refreshSummary();
            progress.finish(data);
            if (loadedLive) {
              results.reload();
              groups.reload();
              diff.reload();
            }
          }
        },
      });
      if (finished) break;
    } catch (err) {
      if (signal.aborted) return;
      if (err.status >= 400 && err.status < 500) {
        ctx.showError(err);
        progress.setConnection('stopped');
        return;
      }
    }
    const waitMs = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
    await new Promise((resolve) => {
      const t = setTimeout(resolve, waitMs);
      signal.addEventListener('abort', () => clearTimeout(t) || resolve(), { once: true });
    });
  }
}

function summary(run) {
  const specs = run.targets?.specs ?? [];
  const shownSpecs =
    specs.length > 6 ? `${specs.slice(0, 6).join(', ')} … (+${specs.length - 6})` : specs.join(', ');
  const args = Object.entries(run.args ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join('  ');
  const o = run.options ?? {};
  const opts = [
    `concurrency ${o.concurrency ?? '–'}`,
    o.timeoutMs ? `timeout ${o.timeoutMs} ms` : null,
    o.retries ? `retries ${o.retries}` : null,
    o.rate ? `rate ${o.rate}/s` : null,
  ]
    .filter(Boolean)
    .join(', ');
  const row = (term, ...desc) => [h('dt', { text: term }), h('dd', {}, ...desc)];
  return h(
    'dl',
    { class: 'summary' },
    row('Targets', h('span', { class: 'mono', text: shownSpecs || '–' })),
    row('Arguments', h('span', { class: 'mono', text: args || 'defaults' })),
    row('Options', opts),
    row('Created', when(run.createdAt)),
    row('Started', when(run.startedAt)),
    row('Finished', when(run.finishedAt)),
    run.error ? row('Error', h('span', { class: 'error-text', text: run.error })) : null,
  );
}

/** The progress panel: bar, done/total, rate, ETA, per-status counts; `data-*` mirror the numbers. */
function progressPanel(run) {
  const bar = statusBar(run.counts, run.total, { large: true });
  const conn = h('span', { class: 'conn small', id: 'conn', 'aria-live': 'polite' });
  const doneText = h('strong', { id: 'progress-done' });
  const pct = h('span', { class: 'muted', id: 'progress-pct' });
  const rate = h('dd', { id: 'progress-rate', text: '–' });
  const inflight = h('dd', { id: 'progress-inflight', text: '–' });
  const elapsed = h('dd', { id: 'progress-elapsed', text: '–' });
  const eta = h('dd', { id: 'progress-eta', text: '–' });
  const countEls = {};
  const legend = h(
    'ul',
    { class: 'legend', 'aria-label': 'Results per status' },
    STATUSES.map((s) => {
      countEls[s] = h('span', { class: 'count', id: `count-${s}`, dataset: { status: s }, text: '0' });
      return h(
        'li',
        {},
        h('span', { class: `swatch seg-${s}`, 'aria-hidden': 'true' }),
        ` ${s} `,
        countEls[s],
      );
    }),
  );
  const el = h(
    'section',
    { class: 'panel', id: 'progress', 'aria-labelledby': 'progress-h', dataset: { events: '0' } },
    h('div', { class: 'panel-head' }, h('h2', { id: 'progress-h', text: 'Progress' }), conn),
    h('p', { class: 'progress-line' }, doneText, ' ', pct),
    bar,
    h(
      'dl',
      { class: 'stats' },
      h('div', {}, h('dt', { text: 'Rate' }), rate),
      h('div', {}, h('dt', { text: 'In flight' }), inflight),
      h('div', {}, h('dt', { text: 'Elapsed' }), elapsed),
      h('div', {}, h('dt', { text: 'ETA' }), eta),
    ),
    legend,
  );

  let events = 0;
  const update = (p) => {
    events++;
    el.dataset.events = String(events);
    const done = p.done ?? sumCounts(p.counts);
    const total = p.total ?? run.total;
    updateStatusBar(bar, p.counts, total);
    setText(doneText, total ? `${num(done)} of ${num(total)} targets` : `${num(done)} targets`);
    setText(pct, total ? `(${Math.floor((done / total) * 100)} %)` : '');
    el.dataset.done = String(done);
    for (const s of STATUSES) setText(countEls[s], num(p.counts?.[s] ?? 0));
    if (LIVE_STATES.includes(p.state)) {
      setText(rate, p.rate ? `${num(p.rate)} /s` : '–');
      setText(inflight, num(p.inFlight ?? 0));
      if (p.elapsedMs !== undefined) setText(elapsed, duration(p.elapsedMs));
      const left = total ? total - done : null;
      setText(eta, left !== null && p.rate > 0 ? duration((left / p.rate) * 1000) : '–');
    }
  };
  const finish = (final) => {
    update({ ...final, done: sumCounts(final.counts), inFlight: 0 });
    const ms = runDurationMs(final);
    setText(elapsed, duration(ms));
    setText(inflight, '0');
    setText(eta, '–');
    const done = sumCounts(final.counts);
    setText(rate, ms && ms > 0 ? `${num(Math.round((done / ms) * 10000) / 10)} /s` : '–');
    el.dataset.final = final.state;
  };
  const setConnection = (what) => {
    const text = { connecting: 'connecting…', reconnecting: 'reconnecting…', live: '', stopped: 'not live' }[
      what
    ];
    conn.dataset.conn = what;
    setText(conn, LIVE_STATES.includes(run.state) && what === 'live' ? '● live' : text);
  };
  update({ ...run, done: sumCounts(run.counts), ...(run.progress ?? {}) });
  events = 0;
  el.dataset.events = '0';
  if (!LIVE_STATES.includes(run.state)) finish(run);
  return { el, update, finish, setConnection };
}
