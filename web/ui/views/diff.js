// Diff of a run against a baseline: by default the previous run of the same series (same check, args and
// targets). Counts first (regressed, recovered, ...), then the changed targets in address order with both
// messages, filterable by kind of change, in keyset pages.
import { api, query } from '../api.js';
import { h, replace, setText } from '../dom.js';
import { LIVE_STATES, num, shortId, statusBadge } from '../format.js';
import { targetLink } from '../monitoring.js';
import { pager } from '../pager.js';
import { dataTable } from '../table.js';

const PAGE = 100;
const KINDS = ['regressed', 'recovered', 'changed', 'added', 'removed'];
const KIND_HELP = {
  regressed: 'pass → not pass',
  recovered: 'not pass → pass',
  changed: 'one failure → another',
  unchanged: 'same status',
  added: 'only now',
  removed: 'only before',
};

/**
 * The diff panel of `run`; `reload()` refreshes the baseline choice and the changes. It loads once `after`
 * settles: the run page passes its results' first page, so a diff of two big runs never delays those rows.
 */
export function diffPanel(run, ctx, after = Promise.resolve()) {
  const select = h('select', { id: 'df-base', name: 'base' });
  const change = h(
    'select',
    { id: 'df-change', name: 'change' },
    h('option', { value: '', text: 'every change' }),
  );
  for (const k of KINDS) change.append(h('option', { value: k, text: `${k} (${KIND_HELP[k]})` }));
  const counts = h('dl', { class: 'stats diff-counts', id: 'df-counts' });
  const table = dataTable({
    id: 'diff-table',
    caption: 'Targets whose status changed, in address order',
    columns: ['Target', { text: 'Port', class: 'num' }, 'Before', 'Before message', 'Now', 'Now message'],
  });
  const info = h('p', { class: 'small muted', id: 'df-info', 'aria-live': 'polite' });

  let generation = 0;
  const loadPage = async (cursor) => {
    const mine = ++generation;
    const base = select.value;
    if (LIVE_STATES.includes(run.state) || !base) {
      table.fill([]);
      replace(counts);
      setText(
        info,
        LIVE_STATES.includes(run.state)
          ? 'The changes are shown when the run has finished.'
          : 'No earlier run of this series: choose a run to compare with.',
      );
      return null;
    }
    try {
      const page = await api(
        `/runs/${encodeURIComponent(base)}/diff/${encodeURIComponent(run.id)}${query({
          limit: PAGE,
          cursor,
          change: change.value,
        })}`,
        { signal: ctx.signal },
      );
      if (mine !== generation) return undefined;
      if (page.summary) showCounts(page.summary);
      table.fill(
        page.changes,
        (c) =>
          h(
            'tr',
            { dataset: { target: c.target } },
            h('td', {}, targetLink(c.target, run.monitor)),
            h('td', { class: 'num', text: c.port ?? '–' }),
            h('td', {}, statusBadge(c.from)),
            h('td', { class: 'message', title: c.fromMessage ?? '', text: c.fromMessage ?? '' }),
            h('td', {}, statusBadge(c.to)),
            h('td', { class: 'message', title: c.toMessage ?? '', text: c.toMessage ?? '' }),
          ),
        cursor ? null : 'No target changed status.',
      );
      el.dataset.changes = String(page.changes.length);
      return page.nextCursor;
    } catch (err) {
      if (!ctx.signal.aborted) ctx.showError(err);
      return undefined;
    }
  };
  const pages = pager('df', loadPage);

  const showCounts = (s) => {
    const item = (k, n) =>
      h(
        'div',
        { dataset: { kind: k } },
        h('dt', { title: KIND_HELP[k], text: k }),
        h('dd', { id: `df-${k}`, class: `kind-${k}`, text: num(n) }),
      );
    replace(
      counts,
      ...['regressed', 'recovered', 'changed', 'unchanged', 'added', 'removed'].map((k) => item(k, s[k])),
    );
    setText(info, `${num(s.totalBefore)} results before, ${num(s.totalNow)} now`);
  };

  const el = h(
    'section',
    { class: 'panel', id: 'diff', 'aria-labelledby': 'diff-h' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'diff-h', text: 'Changes' })),
    h(
      'div',
      { class: 'filters' },
      h('div', { class: 'field grow' }, h('label', { for: 'df-base', text: 'Compared with' }), select),
      h('div', { class: 'field' }, h('label', { for: 'df-change', text: 'Show' }), change),
    ),
    counts,
    info,
    table.el,
    h('div', { class: 'more-row' }, pages.el),
  );

  const option = (r, note = '') =>
    h('option', {
      value: r.id,
      text: `${shortId(r.id)} · ${r.state} · ${new Date(r.createdAt).toLocaleString()}${note}`,
    });

  const loadRuns = async () => {
    try {
      const [list, { previous }] = await Promise.all([
        api(`/runs${query({ check: run.check, limit: 50 })}`, { signal: ctx.signal }),
        api(`/runs/${encodeURIComponent(run.id)}/previous`, { signal: ctx.signal }),
      ]);
      const others = list.runs.filter((r) => r.id !== run.id && r.id !== previous?.id);
      const keep = select.value;
      replace(
        select,
        previous
          ? option(previous, ' · previous of this series')
          : h('option', { value: '', text: 'none chosen' }),
        others.map((r) => option(r)),
      );
      select.value = keep && [...select.options].some((o) => o.value === keep) ? keep : (previous?.id ?? '');
      select.disabled = select.options.length <= 1 && !previous;
      el.dataset.base = select.value;
      await pages.reset();
    } catch (err) {
      if (!ctx.signal.aborted) ctx.showError(err);
    }
  };

  select.addEventListener('change', () => {
    el.dataset.base = select.value;
    void pages.reset();
  });
  change.addEventListener('change', () => void pages.reset());
  void after.then(loadRuns, loadRuns);
  return { el, reload: () => void loadRuns() };
}
