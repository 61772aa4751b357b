// Diff of a run against another run of the same check (default: the previous one).
import { api, query } from '../api.js';
import { h, replace, setText } from '../dom.js';
import { LIVE_STATES, num, shortId, statusBadge } from '../format.js';

const PAGE = 100;

/** The diff panel of `run`; `reload()` refreshes the run list and the changes. */
export function diffPanel(run, ctx) {
  const select = h('select', { id: 'df-base', name: 'base' });
  const tbody = h('tbody');
  const info = h('p', { class: 'small muted', id: 'df-info', 'aria-live': 'polite' });
  const more = h('button', {
    type: 'button',
    id: 'df-more',
    class: 'secondary',
    hidden: true,
    text: 'Load more',
  });
  const el = h(
    'section',
    { class: 'panel', id: 'diff', 'aria-labelledby': 'diff-h' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'diff-h', text: 'Changes' })),
    h(
      'div',
      { class: 'filters' },
      h(
        'div',
        { class: 'field grow' },
        h('label', { for: 'df-base', text: `Compared with ${run.check} run` }),
        select,
      ),
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data', id: 'diff-table' },
        h('caption', { class: 'visually-hidden', text: 'Targets whose status changed' }),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col', text: 'Target' }),
            h('th', { scope: 'col', class: 'num', text: 'Port' }),
            h('th', { scope: 'col', text: 'Before' }),
            h('th', { scope: 'col', text: 'Now' }),
          ),
        ),
        tbody,
      ),
    ),
    h('div', { class: 'more-row' }, more, info),
  );

  let cursor = null;
  let shown = 0;
  let generation = 0;

  const loadChanges = async (fresh) => {
    const mine = ++generation;
    if (fresh) cursor = null;
    const base = select.value;
    if (LIVE_STATES.includes(run.state)) {
      replace(tbody);
      more.hidden = true;
      setText(info, 'The changes are shown when the run has finished.');
      return;
    }
    if (!base) {
      replace(tbody);
      more.hidden = true;
      setText(info, `No other ${run.check} run to compare with.`);
      return;
    }
    try {
      const page = await api(
        `/runs/${encodeURIComponent(base)}/diff/${encodeURIComponent(run.id)}${query({ limit: PAGE, cursor })}`,
        { signal: ctx.signal },
      );
      if (mine !== generation) return;
      if (fresh) {
        shown = 0;
        tbody.replaceChildren();
      }
      tbody.append(
        ...page.changes.map((c) =>
          h(
            'tr',
            { dataset: { target: c.target } },
            h('td', { class: 'mono', text: c.target }),
            h('td', { class: 'num', text: c.port ?? '–' }),
            h('td', {}, statusBadge(c.from)),
            h('td', {}, statusBadge(c.to)),
          ),
        ),
      );
      shown += page.changes.length;
      cursor = page.nextCursor;
      more.hidden = !cursor;
      if (shown === 0)
        replace(
          tbody,
          h('tr', {}, h('td', { colspan: 4, class: 'empty', text: 'No target changed status.' })),
        );
      setText(info, `${num(shown)} change${shown === 1 ? '' : 's'} shown${cursor ? ', more available' : ''}`);
      el.dataset.changes = String(shown);
    } catch (err) {
      if (!ctx.signal.aborted) ctx.showError(err);
    }
  };

  const loadRuns = async () => {
    try {
      const page = await api(`/runs${query({ check: run.check, limit: 50 })}`, { signal: ctx.signal });
      const others = page.runs.filter((r) => r.id !== run.id);
      const keep = select.value;
      replace(
        select,
        others.map((r) =>
          h('option', {
            value: r.id,
            text: `${shortId(r.id)} · ${r.state} · ${new Date(r.createdAt).toLocaleString()}`,
          }),
        ),
      );
      // Default: the newest run created before this one (runs come newest first).
      const previous = others.find((r) => r.createdAt < run.createdAt) ?? others[0];
      select.value = keep && others.some((r) => r.id === keep) ? keep : (previous?.id ?? '');
      select.disabled = others.length === 0;
      await loadChanges(true);
    } catch (err) {
      if (!ctx.signal.aborted) ctx.showError(err);
    }
  };

  select.addEventListener('change', () => void loadChanges(true));
  more.addEventListener('click', () => void loadChanges(false));
  void loadRuns();
  return { el, reload: () => void loadRuns() };
}
