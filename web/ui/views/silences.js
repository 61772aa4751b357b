// Silences (#/silences?all=true): those in force or to come (all with all=true); end one now; a form that
// creates one (POST /api/v1/silences), prefilled from the URL (`new=1&monitor=&matcher=&target=`, as an
// alert's "Silence" link gives).
import { api, operateSubmit, query } from '../api.js';
import { append, h } from '../dom.js';
import { when } from '../format.js';
import { monitorHref } from '../monitoring.js';
import { dataTable } from '../table.js';

const DURATIONS = [
  { text: '1 hour', ms: 3_600_000 },
  { text: '4 hours', ms: 4 * 3_600_000 },
  { text: '1 day', ms: 24 * 3_600_000 },
  { text: '1 week', ms: 7 * 24 * 3_600_000 },
];

const matcherText = (m) => (typeof m === 'string' ? m : `${m.name}${m.op}"${m.value}"`);
const lines = (text) =>
  text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

function createForm(ctx, onCreated) {
  const p = ctx.params;
  const monitor = h('input', {
    id: 'sf-monitor',
    spellcheck: 'false',
    placeholder: 'any monitor',
    value: p.get('monitor') ?? '',
  });
  const matchers = h('textarea', {
    id: 'sf-matchers',
    rows: 3,
    spellcheck: 'false',
    placeholder: 'pop="fra"\nseverity!="info"',
  });
  matchers.value = p.getAll('matcher').join('\n');
  const targets = h('textarea', {
    id: 'sf-targets',
    rows: 2,
    spellcheck: 'false',
    placeholder: '10.0.0.0/24, edge-1.example',
  });
  targets.value = p.getAll('target').join('\n');
  const dur = h('select', { id: 'sf-duration' });
  for (const d of DURATIONS) dur.append(h('option', { value: d.ms, text: d.text }));
  const comment = h('input', { id: 'sf-comment', placeholder: 'maintenance of fra' });
  const by = h('input', { id: 'sf-by', placeholder: 'your name' });
  const error = h('div', { class: 'form-error', role: 'alert', id: 'sf-error' });
  const submit = h('button', { type: 'submit', text: 'Create silence' });
  const field = (id, label, control, hint) =>
    h(
      'div',
      { class: 'field' },
      h('label', { for: id, text: label }),
      control,
      hint ? h('p', { class: 'hint', text: hint }) : null,
    );
  const form = h(
    'form',
    { id: 'silence-form', class: 'form', novalidate: true },
    field('sf-monitor', 'Monitor', monitor),
    field(
      'sf-matchers',
      'Label matchers',
      matchers,
      'One per line: name="value", name!="value", name=~"regex", name!~"regex".',
    ),
    field(
      'sf-targets',
      'Targets',
      targets,
      'Addresses, names or CIDR blocks: every target causing the alert must lie in one.',
    ),
    h(
      'div',
      { class: 'field-row' },
      field('sf-duration', 'For', dur),
      field('sf-comment', 'Comment', comment),
      field('sf-by', 'Created by', by),
    ),
    error,
    h('div', { class: 'actions' }, submit),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const body = {
      matchers: matchers.value
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean),
      targets: lines(targets.value),
      endsAt: new Date(Date.now() + Number(dur.value)).toISOString(),
      comment: comment.value.trim(),
      createdBy: by.value.trim(),
    };
    if (monitor.value.trim()) body.monitor = monitor.value.trim();
    await operateSubmit({ submit, error, signal: ctx.signal }, async () => {
      await api('/silences', { method: 'POST', body, signal: ctx.signal });
      form.reset();
      matchers.value = '';
      targets.value = '';
      onCreated();
    });
  });
  return form;
}

/** Mounts the silences page in `root`. */
export function silencesView(root, ctx) {
  const { signal } = ctx;
  const all = ctx.params.get('all') === 'true';
  const table = dataTable({
    id: 'silences-table',
    caption: 'Silences',
    columns: ['Monitor', 'Matchers', 'Targets', 'From', 'Until', 'Comment', ''],
  });
  const load = async () => {
    try {
      const { silences } = await api(`/silences${query({ all: all ? 'true' : '' })}`, { signal });
      render(silences);
      ctx.showError(null);
    } catch (err) {
      if (!signal.aborted) ctx.showError(err);
    }
  };
  append(
    root,
    h(
      'div',
      { class: 'title-row' },
      h('h1', { text: 'Silences' }),
      h(
        'div',
        { class: 'actions' },
        h('a', {
          class: 'button secondary',
          href: all ? '#/silences' : '#/silences?all=true',
          text: all ? 'In force only' : 'Show ended too',
        }),
        h('a', { class: 'button secondary', href: '#/alerts', text: 'Alerts' }),
      ),
    ),
    table.el,
    h(
      'details',
      { class: 'panel', id: 'new-silence', open: ctx.params.get('new') === '1' },
      h('summary', { text: 'New silence' }),
      createForm(ctx, load),
    ),
  );
  const render = (silences) => {
    const now = Date.now();
    table.fill(
      silences,
      (s) =>
        h(
          'tr',
          { dataset: { silence: s.id } },
          h(
            'td',
            {},
            s.monitor
              ? h('a', { href: monitorHref(s.monitor), text: s.monitor })
              : h('span', { class: 'muted', text: 'any' }),
          ),
          h('td', { class: 'mono small', text: s.matchers.map(matcherText).join(', ') }),
          h('td', { class: 'mono small', text: s.targets.join(', ') }),
          h('td', {}, when(s.startsAt)),
          h('td', {}, when(s.endsAt)),
          h('td', {
            class: 'small',
            text: [s.comment, s.createdBy && `(${s.createdBy})`].filter(Boolean).join(' '),
          }),
          h(
            'td',
            {},
            Date.parse(s.endsAt) > now
              ? h('button', {
                  type: 'button',
                  class: 'secondary',
                  text: 'End now',
                  onclick: async () => {
                    try {
                      await api(`/silences/${encodeURIComponent(s.id)}`, { method: 'DELETE', signal });
                      await load();
                    } catch (err) {
                      if (!signal.aborted) ctx.showError(err);
                    }
                  },
                })
              : h('span', { class: 'muted small', text: 'ended' }),
          ),
        ),
      'No silences.',
    );
  };
  void load();
}
