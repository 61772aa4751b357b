// Keyset paging for a table: Previous / Next over opaque cursors. Only one page is ever in the DOM.
import { h, setText } from './dom.js';

/**
 * A pager: `load(cursor)` fetches one page and returns its `nextCursor`. Keeps the cursors of the pages
 * before the current one, so Previous goes back without offsets. `reset()` starts again at page 1.
 * @param {string} idPrefix  ids of the buttons: `<prefix>-prev`, `<prefix>-next`, `<prefix>-page`
 * @param {(cursor: string|null) => Promise<string|null|undefined>} load  undefined: the load was superseded
 */
export function pager(idPrefix, load) {
  const prev = h('button', {
    type: 'button',
    id: `${idPrefix}-prev`,
    class: 'secondary',
    text: '‹ Previous',
  });
  const next = h('button', { type: 'button', id: `${idPrefix}-next`, class: 'secondary', text: 'Next ›' });
  const label = h('span', { class: 'small muted', id: `${idPrefix}-page` });
  const el = h('div', { class: 'pager' }, prev, label, next);
  const cursors = [null]; // cursors[i]: the cursor of page i+1
  let nextCursor = null;

  const show = async (index) => {
    prev.disabled = true;
    next.disabled = true;
    const got = await load(cursors[index]);
    if (got === undefined) return; // superseded by a newer load
    cursors.length = index + 1;
    nextCursor = got;
    if (got) cursors.push(got);
    prev.disabled = index === 0;
    next.disabled = !got;
    setText(label, `page ${index + 1}`);
    el.dataset.page = String(index + 1);
  };
  let index = 0;
  prev.addEventListener('click', () => {
    if (index > 0) void show(--index);
  });
  next.addEventListener('click', () => {
    if (nextCursor) void show(++index);
  });
  return {
    el,
    /** Back to page 1 and load it. */
    reset: () => {
      index = 0;
      cursors.length = 1;
      return show(0);
    },
    /** Reloads the current page. */
    refresh: () => show(index),
    get page() {
      return index + 1;
    },
  };
}

/**
 * Paging links for a page whose cursor lives in the URL: a link back to the first page when `cursor` is set,
 * and one to the next page when `nextCursor` is.
 * @param {{ cursor: string, nextCursor: string|null, hrefOf: (cursor: string) => string,
 *   first: { text: string, id?: string }, next: { text: string, id?: string } }} spec
 * @returns {(HTMLElement|null)[]}
 */
export function cursorLinks({ cursor, nextCursor, hrefOf, first, next }) {
  const link = (c, { text, id }) => h('a', { class: 'button secondary', id, href: hrefOf(c), text });
  return [cursor ? link('', first) : null, nextCursor ? link(nextCursor, next) : null];
}
