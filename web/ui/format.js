// Formatting and the shared status widgets (coloured bar, state badge).
import { h } from './dom.js';

/** Result statuses in display order (the API's STATUSES). */
export const STATUSES = ['pass', 'fail', 'error', 'timeout', 'cancelled'];
export const CHECKS = ['tcp', 'http', 'dns', 'ssh'];
/** Run states in which a run may still change. */
export const LIVE_STATES = ['queued', 'running'];

const nf = new Intl.NumberFormat('en-US');
export const num = (n) => (n === null || n === undefined ? '–' : nf.format(n));

export const sumCounts = (counts) => STATUSES.reduce((n, s) => n + (counts?.[s] ?? 0), 0);

/** 950 -> "950 ms", 61000 -> "1 m 1 s", 3723000 -> "1 h 2 m". */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} m`;
}

/** Wall time a run took (or has taken so far). */
export function runDurationMs(run, now = Date.now()) {
  if (!run.startedAt) return null;
  const end = run.finishedAt ? Date.parse(run.finishedAt) : now;
  return end - Date.parse(run.startedAt);
}

/** Local date and time, short; the ISO string goes in a title. */
export function when(iso) {
  if (!iso) return h('span', { class: 'muted', text: '–' });
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  const text = today
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
  return h('time', { datetime: iso, title: iso, text });
}

/** "62 pass · 2 error" (statuses with a count only). */
export function countsText(counts) {
  const parts = STATUSES.filter((s) => (counts?.[s] ?? 0) > 0).map((s) => `${num(counts[s])} ${s}`);
  return parts.length > 0 ? parts.join(' · ') : 'no results yet';
}

/**
 * A stacked bar of the counts per status, scaled to `total` (the undone part stays empty). It is an image to
 * assistive technology, labelled with the counts in words.
 */
export function statusBar(counts, total, { large = false } = {}) {
  const bar = h('div', { class: large ? 'bar bar-large' : 'bar', role: 'img' });
  updateStatusBar(bar, counts, total);
  return bar;
}

export function updateStatusBar(bar, counts, total) {
  const done = sumCounts(counts);
  const scale = Math.max(total ?? 0, done, 1);
  const label = `${countsText(counts)}${total ? ` of ${num(total)}` : ''}`;
  bar.setAttribute('aria-label', label);
  bar.title = label;
  for (const s of STATUSES) {
    let seg = bar.querySelector(`.seg-${s}`);
    if (!seg) {
      seg = h('span', { class: `seg seg-${s}` });
      bar.append(seg);
    }
    seg.style.width = `${((counts?.[s] ?? 0) / scale) * 100}%`;
  }
}

/** The run state as a badge. */
export function stateBadge(state) {
  return h('span', { class: `badge state-${state}`, dataset: { state }, text: state });
}

/** A result status as a badge. */
export function statusBadge(status) {
  if (!status) return h('span', { class: 'muted', text: 'absent' });
  return h('span', { class: `badge status-${status}`, text: status });
}

export function shortId(id) {
  return id.slice(0, 8);
}
