// The results of a run: filters (status, message text, address prefix or CIDR, name, labels, failure group)
// kept in the URL, the total of matches, keyset pages (one page in the DOM at a time) and export.
import { api, download, query } from '../api.js';
import { h, setText } from '../dom.js';
import { duration, LIVE_STATES, num, STATUSES, shortId, statusBadge, when } from '../format.js';
import { targetLink } from '../monitoring.js';
import { pager } from '../pager.js';
import { dataTable } from '../table.js';

const PAGE_SIZES = [20, 100, 500];
const LIVE_REFRESH_MS = 2000;
const FIELDS = ['status', 'text', 'address', 'name', 'reason'];

/** `pop=fra role=edge` -> {pop: 'fra', role: 'edge'} (pairs split by spaces or commas). */
function parseLabels(text) {
  const out = {};
  for (const pair of text.split(/[\s,]+/)) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** The filter in URL / API form: {status, text, ..., 'label.k': v}. */
function filterParams(f) {
  const p = {};
  for (const k of FIELDS) if (f[k]) p[k] = f[k];
  for (const [k, v] of Object.entries(parseLabels(f.labels ?? ''))) p[`label.${k}`] = v;
  return p;
}

/** The filter read back from URL parameters. */
function filterFromParams(params) {
  const f = { labels: '' };
  for (const k of FIELDS) f[k] = params?.get(k) ?? '';
  const labels = [];
  for (const [k, v] of params?.entries() ?? []) if (k.startsWith('label.')) labels.push(`${k.slice(6)}=${v}`);
  f.labels = labels.join(' ');
  return f;
}

/** The results panel of `run`; `setFilter()` applies a filter (e.g. a failure group) and reloads. */
export function resultsPanel(run, ctx) {
  const initial = filterFromParams(ctx.params);
  const status = h('select', { id: 'rs-status', name: 'status' }, h('option', { value: '', text: 'all' }));
  for (const s of STATUSES) status.append(h('option', { value: s, text: s }));
  status.value = initial.status;
  const input = (id, name, placeholder, value) =>
    h('input', { id, name, type: 'search', spellcheck: 'false', placeholder, value });
  const text = input('rs-text', 'text', 'e.g. refused', initial.text);
  const address = input('rs-address', 'address', '10.1.0.0/16 or 10.1.', initial.address);
  const name = input('rs-name', 'name', 'part of a name', initial.name);
  const labels = input('rs-labels', 'labels', 'pop=fra role=edge', initial.labels);
  let reason = initial.reason;
  const reasonChip = h('span', { class: 'chip', id: 'rs-reason' });
  const clearReason = h('button', { type: 'button', class: 'secondary small-button', text: 'clear group' });
  const reasonRow = h('p', { class: 'small', hidden: !reason }, 'Group: ', reasonChip, ' ', clearReason);
  const size = h('select', { id: 'rs-size', name: 'limit' });
  const wanted = Number(ctx.params?.get('limit')) || 100;
  for (const n of PAGE_SIZES) size.append(h('option', { value: n, text: n, selected: n === wanted }));
  const table = dataTable({
    id: 'results-table',
    caption: 'Results in completion order',
    columns: ['Target', 'Port', 'Name', 'Status', 'Duration', 'Tries', 'Message', 'Started'].map((t) =>
      ['Port', 'Duration', 'Tries'].includes(t) ? { text: t, class: 'num' } : t,
    ),
  });
  const info = h('p', { class: 'small muted', id: 'rs-info', 'aria-live': 'polite' });
  const exportJsonl = h('button', {
    type: 'button',
    id: 'rs-export-jsonl',
    class: 'secondary',
    text: 'Export JSONL',
  });
  const exportCsv = h('button', {
    type: 'button',
    id: 'rs-export-csv',
    class: 'secondary',
    text: 'Export CSV',
  });

  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter results' },
    h('div', { class: 'field' }, h('label', { for: 'rs-status', text: 'Status' }), status),
    h('div', { class: 'field grow' }, h('label', { for: 'rs-text', text: 'Message' }), text),
    h('div', { class: 'field grow' }, h('label', { for: 'rs-address', text: 'Address' }), address),
    h('div', { class: 'field grow' }, h('label', { for: 'rs-name', text: 'Name' }), name),
    h('div', { class: 'field grow' }, h('label', { for: 'rs-labels', text: 'Labels' }), labels),
    h('div', { class: 'field' }, h('label', { for: 'rs-size', text: 'Per page' }), size),
    h('button', { type: 'submit', text: 'Apply' }),
  );

  const row = (r) =>
    h(
      'tr',
      { dataset: { status: r.status, target: r.target } },
      h('td', {}, targetLink(r.target, run.monitor)),
      h('td', { class: 'num', text: r.port ?? '–' }),
      h('td', { text: r.name ?? '' }),
      h('td', {}, statusBadge(r.status)),
      h('td', { class: 'num', text: duration(r.durationMs) }),
      h('td', { class: 'num', text: r.attempts }),
      h('td', { class: 'message', title: r.message, text: r.message }),
      h('td', {}, when(r.startedAt)),
    );

  const current = () => ({
    status: status.value,
    text: text.value.trim(),
    address: address.value.trim(),
    name: name.value.trim(),
    labels: labels.value.trim(),
    reason,
  });

  let generation = 0; // a newer load makes an older one's answer irrelevant
  const loadTotal = async (params, mine) => {
    try {
      const { total } = await api(
        `/runs/${encodeURIComponent(run.id)}/results${query({ ...params, limit: 1, total: 'true' })}`,
        { signal: ctx.signal },
      );
      if (mine !== generation) return;
      setText(info, `${num(total)} matching result${total === 1 ? '' : 's'}`);
      el.dataset.total = String(total);
    } catch (err) {
      if (!ctx.signal.aborted) ctx.showError(err);
    }
  };
  const loadPage = async (cursor) => {
    const mine = ++generation;
    const params = filterParams(current());
    try {
      const page = await api(
        `/runs/${encodeURIComponent(run.id)}/results${query({ ...params, limit: size.value, cursor })}`,
        { signal: ctx.signal },
      );
      if (mine !== generation) return undefined;
      // The total is counted after the rows are painted: on a big run the count is the slower query.
      if (!cursor) void loadTotal(params, mine);
      const live = LIVE_STATES.includes(run.state) && Object.keys(params).length === 0;
      table.fill(
        page.results,
        row,
        live ? 'No results yet: they appear as targets complete.' : 'No results match.',
      );
      el.dataset.shown = String(page.results.length);
      return page.nextCursor;
    } catch (err) {
      if (!ctx.signal.aborted) ctx.showError(err);
      return undefined;
    }
  };
  const pages = pager('rs', loadPage);

  const el = h(
    'section',
    { class: 'panel', id: 'results', 'aria-labelledby': 'results-h' },
    h(
      'div',
      { class: 'panel-head' },
      h('h2', { id: 'results-h', text: 'Results' }),
      h('div', { class: 'actions' }, exportJsonl, exportCsv),
    ),
    form,
    reasonRow,
    table.el,
    h('div', { class: 'more-row' }, pages.el, info),
  );

  /** Puts the filter in the URL (shareable; no history entry per keystroke) and loads page 1. */
  const apply = () => {
    setText(reasonChip, reason);
    reasonRow.hidden = !reason;
    const params = filterParams(current());
    if (Number(size.value) !== 100) params.limit = size.value;
    history.replaceState(null, '', `#/runs/${encodeURIComponent(run.id)}${query(params)}`);
    return pages.reset();
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void apply();
  });
  status.addEventListener('change', () => void apply());
  size.addEventListener('change', () => void apply());
  clearReason.addEventListener('click', () => {
    reason = '';
    void apply();
  });
  const exportAs = (ext) => {
    const path = `/runs/${encodeURIComponent(run.id)}/results.${ext}${query(filterParams(current()))}`;
    download(path, `fleetprobe-${shortId(run.id)}.${ext}`, ctx.signal).catch((err) => {
      if (!ctx.signal.aborted) ctx.showError(err);
    });
  };
  exportJsonl.addEventListener('click', () => exportAs('jsonl'));
  exportCsv.addEventListener('click', () => exportAs('csv'));

  // While the run is live the first page refills every few seconds, unless the user has paged further.
  let lastLiveLoad = 0;
  const refreshIfLive = () => {
    const now = Date.now();
    if (now - lastLiveLoad < LIVE_REFRESH_MS || pages.page > 1) return;
    lastLiveLoad = now;
    void pages.reset();
  };
  const firstPage = apply();
  return {
    el,
    /** Settles when the first page has been shown (or failed). */
    firstPage,
    reload: () => void pages.reset(),
    refreshIfLive,
    /** Shows one failure group's results: its status and reason, the other filters cleared. */
    showGroup(group) {
      status.value = group.status;
      for (const i of [text, address, name, labels]) i.value = '';
      reason = group.reason;
      void apply();
      el.scrollIntoView({ block: 'start' });
    },
  };
}
