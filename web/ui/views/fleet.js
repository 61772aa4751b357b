// Fleet at a glance (#/fleet?by=<label>): every monitor with its target counts by state, and a heatmap of
// its targets by the chosen label × state whose cells drill into the matching targets. Refreshes itself.
import { api, query } from '../api.js';
import { append, h, replace } from '../dom.js';
import { num, when } from '../format.js';
import { heatmapTable, labelSelect } from '../heatmap.js';
import { intervalText, monitorHref, stateBar, stateChips } from '../monitoring.js';
import { autoRefresh } from '../refresh.js';

const REFRESH_MS = 5000;

/** Mounts the fleet page in `root`; `ctx.params.by` is the label of the heatmaps. */
export function fleetView(root, ctx) {
  const { signal } = ctx;
  const by = ctx.params.get('by') ?? '';
  const picker = h('div', { class: 'filters' });
  const list = h('div', { id: 'fleet', 'aria-live': 'polite' });
  const status = h('p', { class: 'muted small' });
  append(
    root,
    h(
      'div',
      { class: 'title-row' },
      h('h1', { text: 'Fleet' }),
      h('a', { class: 'button secondary', href: '#/monitors', text: 'Monitors' }),
    ),
    picker,
    list,
    status,
  );

  let chosen = by;
  const { load } = autoRefresh(ctx, REFRESH_MS, async () => {
    const { monitors } = await api('/monitors', { signal });
    let maps = await Promise.all(
      monitors.map((m) =>
        api(`/monitors/${encodeURIComponent(m.name)}/heatmap${query({ by: chosen })}`, { signal }),
      ),
    );
    const keys = [...new Set(maps.flatMap((m) => m.keys))].sort();
    if (!chosen && keys.length > 0) {
      // No label in the URL: the first one the targets carry.
      chosen = keys[0];
      maps = await Promise.all(
        monitors.map((m) =>
          api(`/monitors/${encodeURIComponent(m.name)}/heatmap${query({ by: chosen })}`, { signal }),
        ),
      );
    }
    replace(
      picker,
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'fleet-by', text: 'Heatmap by label' }),
        labelSelect('fleet-by', keys, chosen, (key) => {
          location.hash = `#/fleet${query({ by: key })}`;
        }),
      ),
    );
    render(monitors, maps);
    status.textContent = `${monitors.length} monitor${monitors.length === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString()}`;
  });
  const render = (monitors, maps) => {
    if (monitors.length === 0) {
      replace(
        list,
        h(
          'p',
          { class: 'panel empty' },
          'No monitors yet. ',
          h('a', { href: '#/monitors', text: 'Define one' }),
          ' or add them to the config file.',
        ),
      );
      return;
    }
    replace(
      list,
      monitors.map((m, i) => {
        const st = m.status;
        const states = st?.states ?? {};
        return h(
          'section',
          { class: 'panel monitor-card', dataset: { monitor: m.name } },
          h(
            'div',
            { class: 'panel-head' },
            h(
              'h2',
              {},
              h('a', { href: monitorHref(m.name, { by: chosen }), text: m.name }),
              ' ',
              h('span', { class: 'muted small', text: `${m.check} every ${intervalText(m.intervalMs)}` }),
              st?.paused ? h('span', { class: 'badge state-cancelled', text: 'paused' }) : null,
            ),
            h(
              'span',
              { class: 'muted small' },
              `${num(st?.targets ?? 0)} targets · last round `,
              when(st?.lastRound?.finishedAt ?? st?.lastRound?.startedAt),
            ),
          ),
          stateBar(states),
          stateChips(states, (s) => monitorHref(m.name, { state: s, by: chosen })),
          heatmapTable(maps[i]),
        );
      }),
    );
  };
  void load();
}
