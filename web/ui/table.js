// The dashboard's data tables: a scrolling frame with a hidden caption and one header row, filled with a row per
// item or with a single empty-state cell. Paging over a table is in pager.js; refreshing it in refresh.js.
import { h, replace } from './dom.js';

/**
 * A data table (`div.table-wrap > table.data`).
 * @param {{ id?: string, class?: string, dataset?: Record<string, string>, caption: string,
 *   columns: (string | { text: string, class?: string })[] }} spec  `class` of a column: e.g. `num` (right-aligned)
 * @returns {{ el: HTMLElement, tbody: HTMLElement,
 *   fill: (items: unknown[], rowOf: (item: any) => Node, empty?: unknown) => void }}
 *   `fill`: one row per item; none: one cell across the columns holding `empty` (text or nodes), or nothing
 *   when `empty` is null or left out
 */
export function dataTable({ id, class: extra, dataset, caption, columns }) {
  const tbody = h('tbody');
  const th = (c) =>
    typeof c === 'string'
      ? h('th', { scope: 'col', text: c })
      : h('th', { scope: 'col', class: c.class, text: c.text });
  const el = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id, class: extra ? `data ${extra}` : 'data', dataset },
      h('caption', { class: 'visually-hidden', text: caption }),
      h('thead', {}, h('tr', {}, columns.map(th))),
      tbody,
    ),
  );
  const fill = (items, rowOf, empty) => {
    if (items.length > 0) replace(tbody, items.map(rowOf));
    else if (empty === null || empty === undefined) replace(tbody);
    else replace(tbody, h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty)));
  };
  return { el, tbody, fill };
}
