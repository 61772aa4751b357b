// The "new run" form: POST /api/v1/runs, then the run's page. `#/new?from=<id>` copies an earlier run.
import { api } from '../api.js';
import { append, h } from '../dom.js';
import { CHECKS } from '../format.js';

const ARG_HINTS = {
  tcp: 'port=22',
  http: 'port=80\npath=/healthz\nexpectStatus=2xx',
  dns: 'name=example.com\ntype=A',
  ssh: 'command=uptime\nuser=root\nhostKeyPolicy=accept-new',
};

/**
 * `key=value` lines to an object. Values stay strings (each check coerces them, as with `fleetprobe run -a`),
 * except a value that is a JSON object or array (e.g. `headers={"x-a":"1"}`).
 * @returns {{args: Record<string, unknown>} | {error: string}}
 */
export function parseArgLines(text) {
  const args = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { error: `Arguments, line ${i + 1}: "${line}" is not key=value` };
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (/^[[{]/.test(value)) {
      try {
        value = JSON.parse(value);
      } catch {
        return { error: `Arguments, line ${i + 1}: the value of ${key} looks like JSON but does not parse` };
      }
    }
    args[key] = value;
  }
  return { args };
}

const field = (id, label, control, hint) =>
  h(
    'div',
    { class: 'field' },
    h('label', { for: id, text: label }),
    control,
    hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null,
  );

/** Mounts the form in `root`. */
export function newRunView(root, ctx) {
  const check = h('select', { id: 'nr-check', name: 'check', required: true });
  for (const c of CHECKS) check.append(h('option', { value: c, text: c }));
  const targets = h('textarea', {
    id: 'nr-targets',
    name: 'targets',
    rows: 6,
    required: true,
    spellcheck: 'false',
    placeholder: '10.0.0.1\n10.0.1.0/24\nedge-1.example:8443',
    'aria-describedby': 'nr-targets-hint',
  });
  const args = h('textarea', {
    id: 'nr-args',
    name: 'args',
    rows: 4,
    spellcheck: 'false',
    'aria-describedby': 'nr-args-hint',
  });
  const num = (id, name, attrs) => h('input', { id, name, type: 'number', inputmode: 'numeric', ...attrs });
  const concurrency = num('nr-concurrency', 'concurrency', {
    min: 1,
    max: 10000,
    value: 256,
    required: true,
  });
  const timeout = num('nr-timeout', 'timeoutMs', { min: 1, max: 600000, placeholder: "check's default" });
  const retries = num('nr-retries', 'retries', { min: 0, max: 10, value: 0 });
  const rate = num('nr-rate', 'rate', { min: 0, step: 'any', placeholder: 'no limit' });
  const error = h('div', { class: 'form-error', role: 'alert', id: 'nr-error' });
  const submit = h('button', { type: 'submit', id: 'nr-submit', text: 'Start run' });
  const syncHint = () => {
    args.placeholder = ARG_HINTS[check.value] ?? 'key=value';
  };
  check.addEventListener('change', syncHint);
  syncHint();

  const form = h(
    'form',
    { id: 'new-run', class: 'panel form', novalidate: true },
    field('nr-check', 'Check', check),
    field(
      'nr-targets',
      'Targets',
      targets,
      'One per line (or separated by spaces or commas): addresses, CIDR blocks, host:port.',
    ),
    field(
      'nr-args',
      'Arguments',
      args,
      'One key=value per line, as with fleetprobe run -a. JSON objects allowed: headers={"x-a":"1"}.',
    ),
    h(
      'div',
      { class: 'field-row' },
      field('nr-concurrency', 'Concurrency', concurrency),
      field('nr-timeout', 'Timeout (ms)', timeout),
      field('nr-retries', 'Retries', retries),
      field('nr-rate', 'Rate (checks/s)', rate),
    ),
    error,
    h('div', { class: 'actions' }, submit, h('a', { href: '#/', class: 'button secondary', text: 'Cancel' })),
  );
  append(root, h('h1', { text: 'New run' }), form);

  const from = ctx.params.get('from');
  if (from) {
    api(`/runs/${encodeURIComponent(from)}`, { signal: ctx.signal })
      .then((run) => {
        check.value = run.check;
        syncHint();
        targets.value = (run.targets?.specs ?? []).join('\n');
        args.value = Object.entries(run.args ?? {})
          .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
          .join('\n');
        const o = run.options ?? {};
        if (o.concurrency) concurrency.value = o.concurrency;
        if (o.timeoutMs) timeout.value = o.timeoutMs;
        if (o.retries !== undefined) retries.value = o.retries;
        if (o.rate) rate.value = o.rate;
      })
      .catch((err) => ctx.showError(err));
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const list = targets.value.split(/[\s,]+/).filter(Boolean);
    if (list.length === 0) {
      error.textContent = 'Targets: give at least one.';
      targets.focus();
      return;
    }
    const parsed = parseArgLines(args.value);
    if (parsed.error) {
      error.textContent = parsed.error;
      args.focus();
      return;
    }
    const body = {
      check: check.value,
      targets: list,
      args: parsed.args,
      concurrency: Number(concurrency.value || 256),
      retries: Number(retries.value || 0),
    };
    if (timeout.value) body.timeoutMs = Number(timeout.value);
    if (rate.value && Number(rate.value) > 0) body.rate = Number(rate.value);
    submit.disabled = true;
    try {
      const run = await api('/runs', { method: 'POST', body, signal: ctx.signal });
      location.hash = `#/runs/${encodeURIComponent(run.id)}`;
    } catch (err) {
      if (ctx.signal.aborted) return;
      error.textContent = err.status === 401 ? 'An API token with role operate is needed.' : err.message;
    } finally {
      submit.disabled = false;
    }
  });
  check.focus();
}
