// The label × state heatmap of one monitor (GET /monitors/:name/heatmap?by=<label>): a table whose cells are
// shaded by their share of the row and link to the matching targets.
import { h } from './dom.js';
import { num } from './format.js';
import { monitorHref, TARGET_STATES } from './monitoring.js';

/**
 * Renders `hm` (the API's Heatmap). Each non-zero cell links to `#/monitors/<name>?label.<by>=<value>&state=<S>`
 * and carries `data-value`, `data-state` and `data-count`. Targets without the label form a last row that
 * cannot be drilled into (the API filters by a label's value, not by its absence).
 */
export function heatmapTable(hm) {
  if (!hm.by) return h('p', { class: 'muted', text: 'Choose a label to break the targets down by.' });
  if (hm.rows.length === 0) return h('p', { class: 'muted', text: 'No targets yet.' });
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col', text: hm.by }),
    TARGET_STATES.map((s) => h('th', { scope: 'col', class: 'num', text: s })),
    h('th', { scope: 'col', class: 'num', text: 'Total' }),
  );
  const body = hm.rows.map((row) => {
    const cells = TARGET_STATES.map((s) => {
      const n = row.states[s] ?? 0;
      const share = row.total ? n / row.total : 0;
      const td = h('td', {
        class: n === 0 ? 'hm-cell zero' : `hm-cell tstate-bg-${s}${share >= 0.7 ? ' strong' : ''}`,
        dataset: { state: s, count: n, value: row.value ?? '' },
      });
      // At least a light shade for any non-zero count, full colour when the whole row is in that state.
      if (n > 0) td.style.setProperty('--share', String(0.18 + 0.82 * share));
      const text = n === 0 ? '·' : num(n);
      if (n > 0 && row.value !== null)
        td.append(
          h('a', {
            href: monitorHref(hm.monitor, { state: s, labels: { [hm.by]: row.value }, by: hm.by }),
            'aria-label': `${num(n)} ${s} targets with ${hm.by}=${row.value}`,
            text,
          }),
        );
      else td.textContent = text;
      return td;
    });
    return h(
      'tr',
      { dataset: { value: row.value ?? '' } },
      h('th', {
        scope: 'row',
        class: row.value === null ? 'muted' : 'mono',
        text: row.value ?? '(no label)',
      }),
      cells,
      h('td', { class: 'num', text: num(row.total) }),
    );
  });
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data heatmap', dataset: { monitor: hm.monitor, by: hm.by } },
      h('caption', { class: 'visually-hidden', text: `${hm.monitor}: targets by ${hm.by} and state` }),
      h('thead', {}, head),
      h('tbody', {}, body),
    ),
    hm.truncated
      ? h('p', { class: 'hint', text: `Only the first ${hm.rows.length} values of ${hm.by} are shown.` })
      : null,
  );
}

/** A select of the label keys (`keys`), `current` selected; calls `onChange(key)`. */
export function labelSelect(id, keys, current, onChange) {
  const select = h('select', { id, name: 'by' }, h('option', { value: '', text: '(none)' }));
  for (const k of keys) select.append(h('option', { value: k, text: k }));
  if (current && !keys.includes(current)) select.append(h('option', { value: current, text: current }));
  select.value = current ?? '';
  select.addEventListener('change', () => onChange(select.value));
  return select;
}
