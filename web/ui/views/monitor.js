// One monitor (#/monitors/<name>?by=&state=&label.<k>=<v>&limit=&cursor=): its counts by state, the heatmap
// by a label, and its targets filtered by state and labels, keyset-paged (at most MAX_PAGE rows in the DOM).
// Every filter lives in the URL, so a heatmap cell, a chip or a shared link opens the same list.
import { api, query } from '../api.js';
import { append, h, replace } from '../dom.js';
import { num, shortId, statusBadge, when } from '../format.js';
import { heatmapTable, labelSelect } from '../heatmap.js';
import {
  intervalText,
  labelFilters,
  MAX_PAGE,
  monitorHref,
  stateBar,
  stateChips,
  TARGET_STATES,
  targetLink,
  targetStateBadge,
} from '../monitoring.js';
import { cursorLinks } from '../pager.js';
import { autoRefresh } from '../refresh.js';
import { dataTable } from '../table.js';

const REFRESH_MS = 5000;
const PAGE_SIZES = [50, 100, 200];

/** `pop=ams, rack=3` -> {pop: 'ams', rack: '3'}; null when a part is not key=value. */
function parseLabels(text) {
  const out = {};
  for (const part of text.split(/[,\n]/)) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq <= 0) return null;
    out[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  return out;
}

/**
 * How many targets match, when the counts already at hand tell: no label filter (the status counts), or one
 * label filter on the heatmap's label (its row). Otherwise null.
 */
function matchCount(monitor, hm, state, labels) {
  const keys = Object.keys(labels);
  const pick = (states, total) => (state ? (states?.[state] ?? 0) : total);
  if (keys.length === 0) return pick(monitor.status?.states, monitor.status?.targets ?? 0);
  if (keys.length === 1 && keys[0] === hm.by && !hm.truncated) {
    const row = hm.rows.find((r) => r.value === labels[keys[0]]);
    return row ? pick(row.states, row.total) : 0;
  }
  return null;
}

/** Mounts the monitor's page in `root`. */
export function monitorView(root, name, ctx) {
  const { signal, params } = ctx;
  const state = TARGET_STATES.includes(params.get('state')) ? params.get('state') : '';
  const labels = labelFilters(params);
  const limit = Math.min(MAX_PAGE, Number(params.get('limit')) || 100);
  const cursor = params.get('cursor') ?? '';
  let by = params.get('by') ?? Object.keys(labels)[0] ?? '';
  const filters = { state, labels, by, limit };

  const title = h('h1', {}, name);
  const meta = h('p', { class: 'muted', id: 'mon-meta' });
  const counts = h('div', { id: 'mon-counts' });
  const heat = h('div', { id: 'mon-heatmap' });
  const byField = h('div', { class: 'filters' });
  const table = dataTable({
    id: 'targets-table',
    caption: `Targets of ${name}`,
    columns: ['Target', 'Port', 'Name', 'Labels', 'State', 'Since', 'Last result', 'Checked', 'Round'],
  });
  const matches = h('p', { class: 'muted small', id: 'tg-matches', 'aria-live': 'polite' });
  const paging = h('div', { class: 'actions', id: 'tg-paging' });

  const stateSel = h('select', { id: 'tg-state', name: 'state' }, h('option', { value: '', text: 'any' }));
  for (const s of TARGET_STATES) stateSel.append(h('option', { value: s, text: s }));
  stateSel.value = state;
  const labelInput = h('input', {
    id: 'tg-labels',
    name: 'labels',
    type: 'search',
    spellcheck: 'false',
    placeholder: 'pop=ams, rack=3',
    value: Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(', '),
  });
  const sizeSel = h('select', { id: 'tg-limit', name: 'limit' });
  for (const n of PAGE_SIZES) sizeSel.append(h('option', { value: n, text: n }));
  sizeSel.value = String(PAGE_SIZES.includes(limit) ? limit : 100);
  const formError = h('span', { class: 'error-text', role: 'alert' });
  const form = h(
    'form',
    { class: 'filters', id: 'tg-filters' },
    h('div', { class: 'field' }, h('label', { for: 'tg-state', text: 'State' }), stateSel),
    h('div', { class: 'field' }, h('label', { for: 'tg-labels', text: 'Labels' }), labelInput),
    h('div', { class: 'field' }, h('label', { for: 'tg-limit', text: 'Per page' }), sizeSel),
    h('button', { type: 'submit', text: 'Apply' }),
    formError,
  );
  const go = (f) => {
    location.hash = monitorHref(name, f);
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const parsed = parseLabels(labelInput.value);
    if (!parsed) {
      formError.textContent = 'Labels: write key=value, separated by commas.';
      return;
    }
    go({ ...filters, state: stateSel.value, labels: parsed, limit: Number(sizeSel.value) });
  });
  stateSel.addEventListener('change', () => form.requestSubmit());
  sizeSel.addEventListener('change', () => form.requestSubmit());

  append(
    root,
    h(
      'div',
      { class: 'title-row' },
      title,
      h('a', { class: 'button secondary', href: '#/monitors', text: 'All monitors' }),
    ),
    meta,
    h('section', { class: 'panel' }, counts),
    h(
      'section',
      { class: 'panel' },
      h('div', { class: 'panel-head' }, h('h2', { text: 'Heatmap' }), byField),
      heat,
    ),
    h(
      'section',
      { class: 'panel' },
      h('div', { class: 'panel-head' }, h('h2', { text: 'Targets' }), matches),
      form,
      table.el,
      paging,
    ),
  );

  const { load } = autoRefresh(ctx, REFRESH_MS, async () => {
    const base = `/monitors/${encodeURIComponent(name)}`;
    const q = { state, limit, cursor };
    for (const [k, v] of Object.entries(labels)) q[`label.${k}`] = v;
    const [monitor, hm0, page] = await Promise.all([
      api(base, { signal }),
      api(`${base}/heatmap${query({ by })}`, { signal }),
      api(`${base}/targets${query(q)}`, { signal }),
    ]);
    let hm = hm0;
    if (!by && hm.keys.length > 0) {
      by = hm.keys[0];
      filters.by = by;
      hm = await api(`${base}/heatmap${query({ by })}`, { signal });
    }
    renderHead(monitor);
    replace(
      byField,
      h('label', { for: 'mon-by', class: 'small muted', text: 'by label' }),
      labelSelect('mon-by', hm.keys, by, (key) => go({ ...filters, by: key, cursor: '' })),
    );
    replace(heat, heatmapTable(hm));
    renderTargets(page);
    const n = matchCount(monitor, hm, state, labels);
    matches.textContent = n === null ? '' : `${num(n)} matching`;
    matches.dataset.count = n === null ? '' : String(n);
  });
  const renderHead = (m) => {
    replace(
      title,
      m.name,
      h('span', { class: 'badge', text: m.source === 'config' ? 'config file' : 'API' }),
      m.status?.paused
        ? h('span', { class: 'badge state-cancelled', dataset: { paused: 'true' }, text: 'paused' })
        : null,
    );
    replace(
      meta,
      `${m.check} every ${intervalText(m.intervalMs)} · ${num(m.status?.targets ?? 0)} targets · last round `,
      m.status?.lastRound
        ? h('a', {
            href: `#/runs/${encodeURIComponent(m.status.lastRound.runId)}`,
            class: 'mono',
            text: shortId(m.status.lastRound.runId),
          })
        : '–',
      ' ',
      when(m.status?.lastRound?.finishedAt ?? m.status?.lastRound?.startedAt),
    );
    replace(
      counts,
      stateBar(m.status?.states),
      stateChips(m.status?.states, (s) => monitorHref(name, { ...filters, state: s, cursor: '' })),
    );
  };
  const renderTargets = (page) => {
    table.tbody.dataset.cursor = cursor; // which page this is, for tests and scripts that page through
    table.fill(
      page.targets,
      (t) =>
        h(
          'tr',
          { dataset: { target: t.target, state: t.state } },
          h('td', {}, targetLink(t.target, name, t.port)),
          h('td', { class: 'num', text: t.port ?? '' }),
          h('td', { text: t.name ?? '' }),
          h(
            'td',
            { class: 'small' },
            Object.entries(t.labels)
              .map(([k, v]) => `${k}=${v}`)
              .join(' '),
          ),
          h('td', {}, targetStateBadge(t.state)),
          h('td', {}, when(t.since)),
          h('td', {}, statusBadge(t.lastStatus)),
          h('td', {}, when(t.lastAt)),
          h(
            'td',
            {},
            t.lastRun
              ? h('a', {
                  href: `#/runs/${encodeURIComponent(t.lastRun)}`,
                  class: 'mono',
                  text: shortId(t.lastRun),
                })
              : '',
          ),
        ),
      'No target matches.',
    );
    replace(
      paging,
      cursorLinks({
        cursor,
        nextCursor: page.nextCursor,
        hrefOf: (c) => monitorHref(name, { ...filters, cursor: c }),
        first: { text: 'First page', id: 'tg-first' },
        next: { text: 'Next page', id: 'tg-next' },
      }),
    );
  };
  void load();
}
