// The runs table, newest first, refreshed every few seconds while the page is visible.
import { api, query } from '../api.js';
import { append, h } from '../dom.js';
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
import { autoRefresh } from '../refresh.js';
import { dataTable } from '../table.js';

const REFRESH_MS = 3000;
const PAGE = 50;

/** Mounts the runs list in `root`; stops refreshing when `ctx.signal` aborts. */
export function runsView(root, ctx) {
  const { signal } = ctx;
  const status = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, text: 'Load older runs' });
  const table = dataTable({
    id: 'runs-table',
    caption: 'Runs, newest first',
    columns: [
      'Run',
      'Check',
      'State',
      { text: 'Results', class: 'w-bar' },
      { text: 'Total', class: 'num' },
      'Started',
      { text: 'Duration', class: 'num' },
    ],
  });
  append(
    root,
    h(
      'div',
      { class: 'title-row' },
      h('h1', { text: 'Runs' }),
      h('a', { class: 'button', href: '#/new', text: 'New run' }),
    ),
    table.el,
    more,
    status,
  );

  const row = (run) =>
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
    );
  // `pages` pages of PAGE runs are refreshed together, so "load older" survives a refresh.
  let pages = 1;
  const { load } = autoRefresh(ctx, REFRESH_MS, async () => {
    const runs = [];
    let cursor = null;
    for (let i = 0; i < pages; i++) {
      const page = await api(`/runs${query({ limit: PAGE, cursor })}`, { signal });
      runs.push(...page.runs);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    table.fill(runs, row, ['No runs yet. ', h('a', { href: '#/new', text: 'Start one' }), '.']);
    more.hidden = !cursor;
    status.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString()}`;
  });
  more.addEventListener('click', () => {
    pages++;
    void load();
  });
  void load();
}
