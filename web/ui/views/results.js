// The results of a run: status filter, exact target search, cursor paging ("load more").
import { api, query } from '../api.js';
import { h, replace, setText } from '../dom.js';
import { duration, LIVE_STATES, num, STATUSES, statusBadge, when } from '../format.js';

const PAGE_SIZES = [20, 100, 500];
const LIVE_REFRESH_MS = 2000;

/** The results panel of `run`; `reload()` starts again from the first page with the current filter. */
export function resultsPanel(run, ctx) {
  const status = h('select', { id: 'rs-status', name: 'status' }, h('option', { value: '', text: 'all' }));
  for (const s of STATUSES) status.append(h('option', { value: s, text: s }));
  const target = h('input', {
    id: 'rs-target',
    name: 'target',
    type: 'search',
    spellcheck: 'false',
    placeholder: 'exact address, e.g. 10.0.0.7',
  });
  const size = h('select', { id: 'rs-size', name: 'limit' });
  for (const n of PAGE_SIZES) size.append(h('option', { value: n, text: n, selected: n === 100 }));
  const tbody = h('tbody');
  const info = h('p', { class: 'small muted', id: 'rs-info', 'aria-live': 'polite' });
  const more = h('button', {
    type: 'button',
    id: 'rs-more',
    class: 'secondary',
    hidden: true,
    text: 'Load more',
  });

  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter results' },
    h('div', { class: 'field' }, h('label', { for: 'rs-status', text: 'Status' }), status),
    h('div', { class: 'field grow' }, h('label', { for: 'rs-target', text: 'Target' }), target),
    h('div', { class: 'field' }, h('label', { for: 'rs-size', text: 'Per page' }), size),
    h('button', { type: 'submit', text: 'Apply' }),
  );
  const el = h(
    'section',
    { class: 'panel', id: 'results', 'aria-labelledby': 'results-h' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'results-h', text: 'Results' })),
    form,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data', id: 'results-table' },
        h('caption', { class: 'visually-hidden', text: 'Results in completion order' }),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Target', 'Port', 'Name', 'Status', 'Duration', 'Tries', 'Message', 'Started'].map((t) =>
              h('th', {
                scope: 'col',
                class: ['Port', 'Duration', 'Tries'].includes(t) ? 'num' : null,
                text: t,
              }),
            ),
          ),
        ),
        tbody,
      ),
    ),
    h('div', { class: 'more-row' }, more, info),
  );

  let cursor = null;
  let shown = 0;
  let generation = 0; // a newer load makes an older one's answer irrelevant

  const row = (r) =>
    h(
      'tr',
      { dataset: { status: r.status, target: r.target } },
      h('td', { class: 'mono', text: r.target }),
      h('td', { class: 'num', text: r.port ?? '–' }),
      h('td', { text: r.name ?? '' }),
      h('td', {}, statusBadge(r.status)),
      h('td', { class: 'num', text: duration(r.durationMs) }),
      h('td', { class: 'num', text: r.attempts }),
      h('td', { class: 'message', title: r.message, text: r.message }),
      h('td', {}, when(r.startedAt)),
    );

  const load = async (fresh) => {
    const mine = ++generation;
    if (fresh) cursor = null;
    more.disabled = true;
    try {
      const page = await api(
        `/runs/${encodeURIComponent(run.id)}/results${query({
          status: status.value,
          target: target.value.trim(),
          limit: size.value,
          cursor,
        })}`,
        { signal: ctx.signal },
      );
      if (mine !== generation) return;
      if (fresh) {
        shown = 0;
        tbody.replaceChildren();
      }
      tbody.append(...page.results.map(row));
      shown += page.results.length;
      cursor = page.nextCursor;
      more.hidden = !cursor;
      if (shown === 0) {
        const live = LIVE_STATES.includes(run.state) && !status.value && !target.value.trim();
        const text = live ? 'No results yet: they appear as targets complete.' : 'No results match.';
        replace(tbody, h('tr', {}, h('td', { colspan: 8, class: 'empty', text })));
      }
      setText(info, `${num(shown)} result${shown === 1 ? '' : 's'} shown${cursor ? ', more available' : ''}`);
      el.dataset.shown = String(shown);
    } catch (err) {
      if (!ctx.signal.aborted) ctx.showError(err);
    } finally {
      more.disabled = false;
    }
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void load(true);
  });
  status.addEventListener('change', () => void load(true));
  size.addEventListener('change', () => void load(true));
  more.addEventListener('click', () => void load(false));
  // While the run is live the first page refills every few seconds, unless the user has paged further.
  let lastLiveLoad = 0;
  const refreshIfLive = () => {
    const now = Date.now();
    if (now - lastLiveLoad < LIVE_REFRESH_MS || shown >= Number(size.value)) return;
    lastLiveLoad = now;
    void load(true);
  };
  void load(true);
  return { el, reload: () => void load(true), refreshIfLive };
}
