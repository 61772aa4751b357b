// The monitors page (#/monitors): every monitor with its state counts; pause, resume and delete; a form that
// defines a new one (POST /api/v1/monitors). Monitors of the config file are read-only here: the row says so.
import { api, operateSubmit } from '../api.js';
import { append, h, replace } from '../dom.js';
import { CHECKS, num, when } from '../format.js';
import { intervalText, monitorHref, stateBar, stateChips } from '../monitoring.js';
import { autoRefresh } from '../refresh.js';
import { dataTable } from '../table.js';
import { parseArgLines } from './new-run.js';

const REFRESH_MS = 5000;
const READ_ONLY = 'Defined in the config file: change or remove it there, then reload the config.';

/**
 * Targets textarea to the API's list: a line starting with `{` is a target object
 * (`{"address":"10.0.0.1","labels":{"pop":"ams"}}`), any other line holds specs separated by spaces or commas.
 * @returns {{targets: unknown[]} | {error: string}}
 */
export function parseTargetLines(text) {
  const targets = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('{')) {
      try {
        targets.push(JSON.parse(line));
      } catch {
        return { error: `Targets, line ${i + 1}: starts with { but is not a JSON object` };
      }
    } else targets.push(...line.split(/[\s,]+/).filter(Boolean));
  }
  return targets.length > 0 ? { targets } : { error: 'Targets: give at least one.' };
}

const field = (id, label, control, hint) =>
  h(
    'div',
    { class: 'field' },
    h('label', { for: id, text: label }),
    control,
    hint ? h('p', { class: 'hint', text: hint }) : null,
  );

function createForm(ctx) {
  const name = h('input', {
    id: 'mf-name',
    name: 'name',
    required: true,
    spellcheck: 'false',
    placeholder: 'edge-https',
  });
  const check = h('select', { id: 'mf-check', name: 'check' });
  for (const c of CHECKS) check.append(h('option', { value: c, text: c }));
  const targets = h('textarea', {
    id: 'mf-targets',
    rows: 5,
    spellcheck: 'false',
    placeholder: '10.0.0.0/24\n{"address":"10.0.1.5","name":"edge-5","labels":{"pop":"ams"}}',
  });
  const args = h('textarea', { id: 'mf-args', rows: 3, spellcheck: 'false', placeholder: 'port=443' });
  const labels = h('textarea', { id: 'mf-labels', rows: 2, spellcheck: 'false', placeholder: 'team=edge' });
  const interval = h('input', { id: 'mf-interval', value: '60s', required: true, spellcheck: 'false' });
  const timeout = h('input', { id: 'mf-timeout', placeholder: "check's default", spellcheck: 'false' });
  const downAfter = h('input', { id: 'mf-down', type: 'number', min: 1, max: 1000, value: 2 });
  const upAfter = h('input', { id: 'mf-up', type: 'number', min: 1, max: 1000, value: 1 });
  const error = h('div', { class: 'form-error', role: 'alert', id: 'mf-error' });
  const submit = h('button', { type: 'submit', text: 'Create monitor' });
  const form = h(
    'form',
    { id: 'monitor-form', class: 'form', novalidate: true },
    h('div', { class: 'field-row' }, field('mf-name', 'Name', name), field('mf-check', 'Check', check)),
    field(
      'mf-targets',
      'Targets',
      targets,
      'Specs (addresses, CIDR blocks, host:port), or one JSON object per line with name and labels.',
    ),
    field('mf-args', 'Arguments', args, 'One key=value per line, as with fleetprobe run -a.'),
    h(
      'div',
      { class: 'field-row' },
      field('mf-interval', 'Interval', interval),
      field('mf-timeout', 'Timeout', timeout),
      field('mf-down', 'Down after', downAfter),
      field('mf-up', 'Up after', upAfter),
    ),
    field('mf-labels', 'Labels', labels, 'key=value per line, added to every target of this monitor.'),
    error,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const t = parseTargetLines(targets.value);
    const a = parseArgLines(args.value);
    const l = parseArgLines(labels.value);
    const bad = t.error ?? a.error ?? l.error?.replace('Arguments', 'Labels');
    if (bad) {
      error.textContent = bad;
      return;
    }
    const body = {
      name: name.value.trim(),
      check: check.value,
      targets: t.targets,
      args: a.args,
      labels: Object.fromEntries(Object.entries(l.args).map(([k, v]) => [k, String(v)])),
      interval: interval.value.trim(),
      downAfter: Number(downAfter.value || 2),
      upAfter: Number(upAfter.value || 1),
    };
    if (timeout.value.trim()) body.timeout = timeout.value.trim();
    await operateSubmit({ submit, error, signal: ctx.signal }, async () => {
      const created = await api('/monitors', { method: 'POST', body, signal: ctx.signal });
      location.hash = monitorHref(created.name);
    });
  });
  return form;
}

/** Mounts the monitors page in `root`. */
export function monitorsView(root, ctx) {
  const { signal } = ctx;
  const status = h('p', { class: 'muted small' });
  const details = h(
    'details',
    { class: 'panel', id: 'new-monitor', open: ctx.params.get('new') === '1' },
    h('summary', { text: 'New monitor' }),
    createForm(ctx),
  );
  const table = dataTable({
    id: 'monitors-table',
    caption: 'Monitors',
    columns: ['Monitor', 'Check', 'Every', 'Targets', 'States', 'Last round', 'Actions'],
  });
  append(
    root,
    h(
      'div',
      { class: 'title-row' },
      h('h1', { text: 'Monitors' }),
      h('a', { class: 'button secondary', href: '#/fleet', text: 'Fleet' }),
    ),
    table.el,
    status,
    details,
  );

  const act = async (path, method) => {
    try {
      await api(path, { method, signal });
      await load();
    } catch (err) {
      if (!signal.aborted) ctx.showError(err);
    }
  };
  const actions = (m) => {
    const base = `/monitors/${encodeURIComponent(m.name)}`;
    const paused = m.status?.paused ?? m.paused;
    const toggle = h('button', {
      type: 'button',
      class: 'secondary',
      text: paused ? 'Resume' : 'Pause',
      onclick: () => act(`${base}/${paused ? 'resume' : 'pause'}`, 'POST'),
    });
    if (m.source === 'config')
      return h(
        'div',
        { class: 'actions' },
        toggle,
        h('span', { class: 'small muted read-only', title: READ_ONLY, text: 'read-only: config file' }),
      );
    const cell = h('div', { class: 'actions' });
    const del = h('button', {
      type: 'button',
      class: 'danger',
      text: 'Delete',
      onclick: () => {
        hold(); // no refresh while the question is open, nor one in flight painting over it
        replace(
          cell,
          h('span', { class: 'small', text: `Delete ${m.name} and its history?` }),
          h('button', {
            type: 'button',
            class: 'danger',
            text: 'Yes, delete',
            onclick: () => act(base, 'DELETE'),
          }),
          h('button', { type: 'button', class: 'secondary', text: 'Keep', onclick: () => load() }),
        );
      },
    });
    return append(cell, toggle, del);
  };
  const row = (m) =>
    h(
      'tr',
      {
        dataset: { monitor: m.name, source: m.source, paused: String(m.status?.paused ?? m.paused) },
      },
      h(
        'td',
        {},
        h('a', { href: monitorHref(m.name), text: m.name }),
        ' ',
        m.source === 'config' ? h('span', { class: 'badge', title: READ_ONLY, text: 'config file' }) : null,
        (m.status?.paused ?? m.paused) ? h('span', { class: 'badge state-cancelled', text: 'paused' }) : null,
      ),
      h('td', { text: m.check }),
      h('td', { text: intervalText(m.intervalMs) }),
      h('td', { class: 'num', text: num(m.status?.targets ?? 0) }),
      h(
        'td',
        { class: 'w-bar' },
        stateBar(m.status?.states),
        stateChips(m.status?.states, (s) => monitorHref(m.name, { state: s })),
      ),
      h('td', {}, when(m.status?.lastRound?.finishedAt ?? m.status?.lastRound?.startedAt)),
      h('td', {}, actions(m)),
    );
  // A load started before a pause or delete must not paint over the answer of the load after it.
  const { load, hold } = autoRefresh(ctx, REFRESH_MS, async (current) => {
    const { monitors } = await api('/monitors', { signal });
    if (!current()) return;
    table.fill(monitors, row, 'No monitors yet: define one below.');
    if (monitors.length === 0) details.open = true;
    status.textContent = `${monitors.length} monitor${monitors.length === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString()}`;
  });
  void load();
}
