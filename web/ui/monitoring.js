// Shared pieces of the monitoring views: target states, their counts, links to a target's page, URL filters.
import { h } from './dom.js';
import { num } from './format.js';

/** Target states in display order (the API's TARGET_STATES, worst first after UP). */
export const TARGET_STATES = ['UP', 'DOWN', 'FLAPPING', 'UNKNOWN'];

/** Most targets a monitor's targets table shows per page: the DOM never holds more than this many rows. */
export const MAX_PAGE = 200;

/** `#/targets/<address>?monitor=<name>`: the target's page (every monitor that has it when `monitor` is absent). */
export function targetHref(address, monitor, port) {
  const q = new URLSearchParams();
  if (monitor) q.set('monitor', monitor);
  if (port !== undefined && port !== null) q.set('port', String(port));
  const s = q.toString();
  return `#/targets/${encodeURIComponent(address)}${s ? `?${s}` : ''}`;
}

/**
 * A target cell: the address as a link to its page. Run results can use it too (`monitor` = the run's
 * monitor, or null for a one-off run: the page then shows every monitor that has the address).
 */
export function targetLink(address, monitor, port) {
  return h('a', { class: 'mono target-link', href: targetHref(address, monitor, port), text: address });
}

/** `#/monitors/<name>` with its filters (`state`, `labels`, `by`, `cursor`, `limit`) in the URL. */
export function monitorHref(name, { state, labels = {}, by, cursor, limit } = {}) {
  const q = new URLSearchParams();
  if (by) q.set('by', by);
  if (state) q.set('state', state);
  for (const [k, v] of Object.entries(labels)) q.set(`label.${k}`, v);
  if (limit) q.set('limit', String(limit));
  if (cursor) q.set('cursor', cursor);
  const s = q.toString();
  return `#/monitors/${encodeURIComponent(name)}${s ? `?${s}` : ''}`;
}

/** The `label.<key>=<value>` filters of a view's URL parameters. */
export function labelFilters(params) {
  const labels = {};
  for (const [k, v] of params) if (k.startsWith('label.') && k.length > 6) labels[k.slice(6)] = v;
  return labels;
}

/** A target state as a badge. */
export function targetStateBadge(state) {
  return h('span', { class: `badge tstate-${state}`, dataset: { state }, text: state });
}

/**
 * The counts per state as a row of chips (`UP 180 · DOWN 20`), each a link to that state's targets when
 * `hrefOf(state)` is given. Chips carry `data-state` and `data-count` for tests and styling.
 */
export function stateChips(states, hrefOf) {
  return h(
    'ul',
    { class: 'state-chips' },
    TARGET_STATES.map((s) => {
      const n = states?.[s] ?? 0;
      const label = [h('span', { class: `dot tstate-bg-${s}` }), `${s} `, h('strong', { text: num(n) })];
      return h(
        'li',
        { class: n === 0 ? 'state-chip zero' : 'state-chip', dataset: { state: s, count: n } },
        hrefOf && n > 0 ? h('a', { href: hrefOf(s) }, ...label) : label,
      );
    }),
  );
}

/** A stacked bar of the target states, labelled with the counts in words. */
export function stateBar(states) {
  const total = TARGET_STATES.reduce((n, s) => n + (states?.[s] ?? 0), 0);
  const label = TARGET_STATES.filter((s) => states?.[s])
    .map((s) => `${num(states[s])} ${s}`)
    .join(' · ');
  const bar = h('div', { class: 'bar', role: 'img', 'aria-label': label || 'no targets yet', title: label });
  for (const s of TARGET_STATES) {
    const seg = h('span', { class: `seg tstate-bg-${s}` });
    seg.style.width = `${total ? ((states?.[s] ?? 0) / total) * 100 : 0}%`;
    bar.append(seg);
  }
  return bar;
}

/** 0.99712 -> "99.71 %"; null -> "–". */
export function pct(share) {
  if (share === null || share === undefined) return '–';
  return `${(share * 100).toFixed(share === 1 ? 0 : 2)} %`;
}

/** 90000 -> "1m 30s"-like text for an interval in ms (whole units). */
export function intervalText(ms) {
  if (!ms) return '–';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} m`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
