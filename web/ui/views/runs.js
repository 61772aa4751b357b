// The runs table, newest first, refreshed every few seconds while the page is visible.
import { api, query } from '../api.js';
import { append, h, replace } from '../dom.js';
import {
  countsText,
  duration,
  LIVE_STATES,
  num,
  runDurationMs,
  shortId,
  stateBadge,
  statusBar,
  sumCounts,
  when,
} from '../format.js';

const REFRESH_MS = 3000;
const PAGE = 50;

/** Mounts the runs list in `root`; stops refreshing when `ctx.signal` aborts. */
export function runsView(root, ctx) {
  const { signal } = ctx;
  const status = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, text: 'Load older runs' });
  append(
    root,
    h(
      'div',
      { class: 'title-row' },
      h('h1', { text: 'Runs' }),
      h('a', { class: 'button', href: '#/new', text: 'New run' }),
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { id: 'runs-table', class: 'data' },
        h('caption', { class: 'visually-hidden', text: 'Runs, newest first' }),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col', text: 'Run' }),
            h('th', { scope: 'col', text: 'Check' }),
            h('th', { scope: 'col', text: 'State' }),
            h('th', { scope: 'col', class: 'w-bar', text: 'Results' }),
            h('th', { scope: 'col', class: 'num', text: 'Total' }),
            h('th', { scope: 'col', text: 'Started' }),
            h('th', { scope: 'col', class: 'num', text: 'Duration' }),
          ),
        ),
        tbody,
      ),
    ),
    more,
    status,
  );

  // `shown` pages of PAGE runs are refreshed together, so "load older" survives a refresh.
  let pages = 1;
  let timer;
  const load = async () => {
    clearTimeout(timer);
    try {
      const runs = [];
      let cursor = null;
      for (let i = 0; i < pages; i++) {
        const page = await api(`/runs${query({ limit: PAGE, cursor })}`, { signal });
        runs.push(...page.runs);
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      render(runs);
      more.hidden = !cursor;
      status.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString()}`;
      ctx.showError(null);
    } catch (err) {
      if (signal.aborted) return;
      ctx.showError(err);
    }
    if (!signal.aborted) timer = setTimeout(tick, REFRESH_MS);
  };
  const tick = () => {
    if (document.hidden) timer = setTimeout(tick, REFRESH_MS);
    else void load();
  };
  const render = (runs) => {
    if (runs.length === 0) {
      replace(
        tbody,
        h(
          'tr',
          {},
          h(
            'td',
            { colspan: 7, class: 'empty' },
            'No runs yet. ',
            h('a', { href: '#/new', text: 'Start one' }),
            '.',
          ),
        ),
      );
      return;
    }
    replace(
      tbody,
      runs.map((run) =>
        h(
          'tr',
          { dataset: { run: run.id, state: run.state } },
          h(
            'td',
            {},
            h('a', { href: `#/runs/${encodeURIComponent(run.id)}`, class: 'mono', text: shortId(run.id) }),
          ),
          h('td', { text: run.check }),
          h('td', {}, stateBadge(run.state)),
          h(
            'td',
            { class: 'w-bar' },
            statusBar(run.counts, run.total),
            h('span', { class: 'small muted', text: countsText(run.counts) }),
          ),
          h('td', {
            class: 'num',
            text:
              LIVE_STATES.includes(run.state) && run.total
                ? `${num(sumCounts(run.counts))} / ${num(run.total)}`
                : num(run.total),
          }),
          h('td', {}, when(run.startedAt ?? run.createdAt)),
          h('td', { class: 'num', text: duration(runDurationMs(run)) }),
        ),
      ),
    );
  };
  more.addEventListener('click', () => {
    pages++;
    void load();
  });
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  void load();
}
