// Alerts (#/alerts?state=firing&monitor=<name>): the alert history, newest first, keyset-paged
// (GET /api/v1/alerts). Each alert links to its target's page and offers a silence prefilled from its labels.
import { api, query } from '../api.js';
import { append, h, replace } from '../dom.js';
import { when } from '../format.js';
import { monitorHref, targetLink } from '../monitoring.js';
import { cursorLinks } from '../pager.js';
import { autoRefresh } from '../refresh.js';
import { dataTable } from '../table.js';

const PAGE = 100;
const REFRESH_MS = 5000;
/** Labels every alert has: shown in their own columns, not again in the label list. */
const OWN = new Set(['alertname', 'monitor', 'severity', 'target', 'port', 'name']);

/** `#/silences?new=1&...`: a silence form prefilled to match this alert (its monitor, rule and target). */
function silenceHref(alert) {
  const q = new URLSearchParams({ new: '1', monitor: alert.monitor });
  q.append('matcher', `alertname="${alert.labels.alertname ?? alert.rule}"`);
  if (alert.labels.target) q.set('target', alert.labels.target);
  return `#/silences?${q}`;
}

/** Mounts the alerts page in `root`. */
export function alertsView(root, ctx) {
  const { signal, params } = ctx;
  const state = ['firing', 'resolved'].includes(params.get('state')) ? params.get('state') : '';
  const monitor = params.get('monitor') ?? '';
  const cursor = params.get('cursor') ?? '';
  const href = (q) => `#/alerts${query({ state, monitor, ...q })}`;

  const stateSel = h(
    'select',
    { id: 'al-state' },
    h('option', { value: '', text: 'any' }),
    h('option', { value: 'firing', text: 'firing' }),
    h('option', { value: 'resolved', text: 'resolved' }),
  );
  stateSel.value = state;
  stateSel.addEventListener('change', () => {
    location.hash = href({ state: stateSel.value, cursor: '' });
  });
  const table = dataTable({
    id: 'alerts-table',
    caption: 'Alerts, newest first',
    columns: ['Alert', 'State', 'Severity', 'Monitor', 'Target', 'Labels', 'Since', 'Ended', ''],
  });
  const paging = h('div', { class: 'actions' });
  const status = h('p', { class: 'muted small' });
  append(
    root,
    h(
      'div',
      { class: 'title-row' },
      h('h1', { text: 'Alerts' }),
      h('a', { class: 'button secondary', href: '#/silences', text: 'Silences' }),
    ),
    h(
      'div',
      { class: 'filters' },
      h('div', { class: 'field' }, h('label', { for: 'al-state', text: 'State' }), stateSel),
      monitor
        ? h('p', {}, `monitor ${monitor} · `, h('a', { href: href({ monitor: '' }), text: 'all monitors' }))
        : null,
    ),
    table.el,
    paging,
    status,
  );

  const row = (a) =>
    h(
      'tr',
      { dataset: { fingerprint: a.fingerprint, state: a.state } },
      h(
        'td',
        {},
        h('strong', { text: a.labels.alertname ?? a.rule }),
        h('div', {
          class: 'small muted',
          text: a.annotations.description ?? a.annotations.summary ?? '',
        }),
      ),
      h(
        'td',
        {},
        h('span', { class: `badge alert-${a.state}`, text: a.state }),
        a.silencedBy
          ? h('span', { class: 'badge', title: `silence ${a.silencedBy}`, text: 'silenced' })
          : null,
        a.inhibitedBy
          ? h('span', { class: 'badge', title: `held back by ${a.inhibitedBy}`, text: 'inhibited' })
          : null,
      ),
      h('td', { text: a.labels.severity ?? '' }),
      h('td', {}, h('a', { href: monitorHref(a.monitor), text: a.monitor })),
      h('td', {}, a.labels.target ? targetLink(a.labels.target, a.monitor, a.labels.port) : a.kind),
      h(
        'td',
        { class: 'small' },
        Object.entries(a.labels)
          .filter(([k]) => !OWN.has(k))
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      ),
      h('td', {}, when(a.startsAt)),
      h('td', {}, when(a.endsAt)),
      h(
        'td',
        {},
        a.state === 'firing'
          ? h('a', { href: silenceHref(a), class: 'button secondary', text: 'Silence' })
          : null,
      ),
    );
  const { load } = autoRefresh(ctx, REFRESH_MS, async () => {
    const { alerts, nextCursor } = await api(`/alerts${query({ state, monitor, cursor, limit: PAGE })}`, {
      signal,
    });
    table.fill(alerts, row, 'No alerts.');
    replace(
      paging,
      cursorLinks({
        cursor,
        nextCursor,
        hrefOf: (c) => href({ cursor: c }),
        first: { text: 'Newest' },
        next: { text: 'Older', id: 'al-next' },
      }),
    );
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
  });
  void load();
}
