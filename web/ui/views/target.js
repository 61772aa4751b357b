// A target's page (#/targets/<address>?monitor=<name>&port=&hours=): per monitor that has it, its current
// state, a state timeline over the window (from its transitions), the hourly latency sparkline (rollups),
// uptime over 24 h / 7 d / 30 d, and its transitions.
import { api, query } from '../api.js';
import { append, h, replace } from '../dom.js';
import { duration, shortId, statusBadge, when } from '../format.js';
import { monitorHref, pct, targetStateBadge } from '../monitoring.js';
import { dataTable } from '../table.js';
import { timelineSegments } from '../timeline.js';

const WINDOWS = [
  { hours: 24, text: '24 h' },
  { hours: 24 * 7, text: '7 d' },
  { hours: 24 * 30, text: '30 d' },
];
const SVG = 'http://www.w3.org/2000/svg';

const svg = (tag, attrs = {}) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
};

function timeline({ fromMs, segments }, toMs) {
  const span = Math.max(1, toMs - fromMs);
  const bar = h('div', {
    class: 'timeline',
    role: 'img',
    'aria-label': segments.map((s) => `${s.state} from ${new Date(s.fromMs).toISOString()}`).join(', '),
  });
  for (const s of segments) {
    const seg = h('span', {
      class: `seg tstate-bg-${s.state}`,
      dataset: { state: s.state },
      title: `${s.state}: ${new Date(s.fromMs).toLocaleString()} – ${new Date(s.toMs).toLocaleString()} (${duration(s.toMs - s.fromMs)})`,
    });
    seg.style.width = `${((s.toMs - s.fromMs) / span) * 100}%`;
    bar.append(seg);
  }
  return h(
    'div',
    {},
    bar,
    h(
      'div',
      { class: 'timeline-axis small muted' },
      h('span', { text: new Date(fromMs).toLocaleString() }),
      h('span', { text: 'now' }),
    ),
  );
}

/**
 * An SVG sparkline of the hourly latency over the window: one bar per hour with results (height: the mean),
 * a tick at its p95. Hours without results stay empty, so gaps show.
 */
function sparkline(points, fromMs, toMs) {
  const withLat = points.filter((p) => p.latMeanMs !== null);
  if (withLat.length === 0)
    return h('p', { class: 'muted', id: 'latency-none', text: 'No latency samples in this window.' });
  const W = 720;
  const H = 80;
  const hourMs = 3_600_000;
  const start = Math.floor(fromMs / hourMs) * hourMs;
  const slots = Math.max(1, Math.ceil((toMs - start) / hourMs));
  const slotW = W / slots;
  const max = Math.max(...withLat.map((p) => p.latP95Ms ?? p.latMeanMs), 1);
  const y = (v) => H - 2 - (v / max) * (H - 6);
  const el = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'sparkline', preserveAspectRatio: 'none' });
  for (const p of withLat) {
    const slot = Math.min(slots - 1, Math.max(0, Math.floor((Date.parse(p.hour) - start) / hourMs)));
    const x = slot * slotW;
    const w = Math.max(2, slotW - 1);
    const top = y(p.latMeanMs);
    const bar = svg('rect', { x, y: top, width: w, height: H - 2 - top, class: 'spark-bar' });
    bar.append(svg('title'));
    bar.firstChild.textContent = `${new Date(p.hour).toLocaleString()}: mean ${duration(p.latMeanMs)}, p95 ${duration(p.latP95Ms)}`;
    el.append(bar);
    if (p.latP95Ms !== null)
      el.append(svg('rect', { x, y: y(p.latP95Ms), width: w, height: 2, class: 'spark-p95' }));
  }
  const mean = withLat.reduce((n, p) => n + p.latMeanMs, 0) / withLat.length;
  const hours = `${withLat.length} hour${withLat.length === 1 ? '' : 's'}`;
  const label = `Latency per hour over ${hours} with results: mean ${duration(mean)}, highest p95 ${duration(max)}`;
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', label);
  return h(
    'figure',
    { class: 'spark', id: 'latency', dataset: { points: withLat.length } },
    el,
    h('figcaption', {
      class: 'small muted',
      text: `${label}. Bars: mean; ticks: p95; full height = ${duration(max)}.`,
    }),
  );
}

function uptimeList(uptime) {
  return h(
    'dl',
    { class: 'uptime', id: 'uptime' },
    [
      ['24 h', uptime.h24, 'h24'],
      ['7 d', uptime.d7, 'd7'],
      ['30 d', uptime.d30, 'd30'],
    ].map(([label, share, key]) =>
      h(
        'div',
        { dataset: { window: key } },
        h('dt', { text: `Uptime ${label}` }),
        h('dd', { text: pct(share) }),
      ),
    ),
  );
}

function transitionsTable(transitions) {
  if (transitions.length === 0)
    return h('p', { class: 'muted', text: 'No transitions kept for this target.' });
  const table = dataTable({
    class: 'transitions',
    caption: 'Transitions, newest first',
    columns: ['When', 'From', 'To', 'Result', 'Message', 'Round'],
  });
  table.fill(transitions, (t) =>
    h(
      'tr',
      { dataset: { from: t.from, to: t.to } },
      h('td', {}, when(t.at)),
      h('td', {}, targetStateBadge(t.from)),
      h('td', {}, targetStateBadge(t.to)),
      h('td', {}, statusBadge(t.status)),
      h('td', { class: 'small', text: t.message }),
      h(
        'td',
        {},
        h('a', { href: `#/runs/${encodeURIComponent(t.run)}`, class: 'mono', text: shortId(t.run) }),
      ),
    ),
  );
  return table.el;
}

/** Mounts the target's page in `root`. */
export function targetView(root, address, ctx) {
  const { signal, params } = ctx;
  const monitor = params.get('monitor') ?? '';
  const port = params.get('port') ?? '';
  const hours = WINDOWS.some((w) => String(w.hours) === params.get('hours'))
    ? Number(params.get('hours'))
    : 24;
  const body = h('div', { id: 'target-history' }, h('p', { class: 'muted', text: 'Loading…' }));
  const windowLinks = h(
    'nav',
    { class: 'actions', 'aria-label': 'Window' },
    WINDOWS.map((w) => {
      const q = new URLSearchParams(params);
      q.set('hours', String(w.hours));
      const href = `#/targets/${encodeURIComponent(address)}?${q}`;
      return h('a', {
        class: w.hours === hours ? 'button' : 'button secondary',
        href,
        'aria-current': w.hours === hours ? 'page' : null,
        text: w.text,
      });
    }),
  );
  append(
    root,
    h('div', { class: 'title-row' }, h('h1', {}, h('span', { class: 'mono', text: address })), windowLinks),
    body,
  );

  api(`/targets/${encodeURIComponent(address)}/history${query({ monitor, port, hours })}`, { signal })
    .then((res) => {
      const toMs = Date.now();
      const fromMs = toMs - hours * 3_600_000;
      replace(
        body,
        res.monitors.map((m) => {
          const current = m.states[0]?.state ?? 'UNKNOWN';
          return h(
            'section',
            { class: 'panel target-monitor', dataset: { monitor: m.monitor, state: current } },
            h(
              'div',
              { class: 'panel-head' },
              h(
                'h2',
                {},
                'in ',
                h('a', { href: monitorHref(m.monitor), text: m.monitor }),
                ' ',
                targetStateBadge(current),
              ),
              h(
                'span',
                { class: 'small muted' },
                m.states[0] ? ['since ', when(m.states[0].since)] : 'no state yet',
              ),
            ),
            m.states.length > 1 || m.states[0]?.port
              ? h(
                  'ul',
                  { class: 'state-chips' },
                  m.states.map((s) =>
                    h(
                      'li',
                      { class: 'state-chip' },
                      `port ${s.port ?? '–'} `,
                      targetStateBadge(s.state),
                      ' ',
                      statusBadge(s.lastStatus),
                    ),
                  ),
                )
              : null,
            h('h3', { text: 'State timeline' }),
            timeline(timelineSegments(m.transitions, current, fromMs, toMs), toMs),
            h('h3', { text: 'Latency' }),
            sparkline(m.latency, fromMs, toMs),
            h('h3', { text: 'Uptime' }),
            uptimeList(m.uptime),
            h('h3', { text: 'Transitions' }),
            transitionsTable(m.transitions),
          );
        }),
      );
    })
    .catch((err) => {
      if (signal.aborted) return;
      replace(
        body,
        h('p', {
          class: 'muted',
          text: err.status === 404 ? `No monitor has ${address}.` : 'Could not load the history.',
        }),
      );
      ctx.showError(err);
    });
}
