// Failure groups of a run: (status, reason) largest first, with folded targets and names. Clicking a group
// filters the results to it.
import { api } from '../api.js';
import { h, replace, setText } from '../dom.js';
import { LIVE_STATES, num, statusBadge } from '../format.js';

const TARGETS_SHOWN = 12;

/** The title of a group: its message when all are alike, else its reason template (as the CLI shows it). */
const title = (g) => (g.messagesVary ? g.reason : g.message);

/** A folded list, cut at `max` items with a button that shows the rest. */
function foldedList(items, max, cls) {
  const el = h('span', { class: cls, text: items.slice(0, max).join(', ') });
  if (items.length <= max) return el;
  const more = h('button', {
    type: 'button',
    class: 'link-button',
    text: `+${num(items.length - max)} more`,
    onclick: (e) => {
      e.stopPropagation();
      setText(el, items.join(', '));
      more.remove();
    },
  });
  return h('span', {}, el, ' ', more);
}

/** The groups panel of `run`; `onSelect(group)` is called when a group is clicked. */
export function groupsPanel(run, ctx, onSelect) {
  const list = h('ol', { class: 'groups', id: 'groups-list' });
  const info = h('p', { class: 'small muted', id: 'groups-info', 'aria-live': 'polite' });
  const el = h(
    'section',
    { class: 'panel', id: 'groups', 'aria-labelledby': 'groups-h' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'groups-h', text: 'Failure groups' })),
    info,
    list,
  );

  const item = (g) => {
    const select = h(
      'button',
      {
        type: 'button',
        class: 'group-title',
        title: `Show these ${num(g.count)} results`,
        onclick: () => onSelect(g),
      },
      h('span', { class: 'group-count', text: num(g.count) }),
      ' ',
      statusBadge(g.status),
      ' ',
      h('span', { class: 'mono', text: title(g) }),
    );
    return h(
      'li',
      { dataset: { status: g.status, reason: g.reason, count: String(g.count) } },
      select,
      h('div', { class: 'small' }, foldedList(g.targets, TARGETS_SHOWN, 'mono')),
      g.names.length > 0
        ? h(
            'div',
            { class: 'small muted' },
            foldedList(g.names, TARGETS_SHOWN, ''),
            g.unlisted > 0 ? ` (and ${num(g.unlisted)} not listed)` : '',
          )
        : null,
    );
  };

  const load = async () => {
    try {
      const res = await api(`/runs/${encodeURIComponent(run.id)}/groups`, { signal: ctx.signal });
      replace(list, res.groups.map(item));
      const shown = res.groups.length;
      setText(
        info,
        shown === 0
          ? LIVE_STATES.includes(run.state)
            ? 'No failures so far.'
            : 'No failures: every target passed.'
          : `${num(res.groupCount)} group${res.groupCount === 1 ? '' : 's'} of failing results, largest first${
              res.groupCount > shown ? ` (the ${shown} largest shown)` : ''
            }. Click one to see its results.`,
      );
      el.dataset.groups = String(shown);
    } catch (err) {
      if (!ctx.signal.aborted) ctx.showError(err);
    }
  };
  // Loaded by the caller (after the results' first page, which the user waits for).
  return { el, reload: () => void load() };
}
