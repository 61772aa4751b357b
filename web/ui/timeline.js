// The state timeline of a target, computed from its transitions (pure: no DOM, unit-tested in node).

/**
 * Segments of the state timeline over [fromMs, toMs]: before the oldest transition in the window the target
 * was in that transition's `from` state; after each one in its `to`; the last lasts until now. When the
 * window reaches back before the target's first known transition (from UNKNOWN, nothing older kept), the
 * timeline starts at that transition instead of showing hours of "not monitored yet".
 * `transitions` newest first (as the API gives them); `current` the state now.
 * @returns {{fromMs: number, segments: {state: string, fromMs: number, toMs: number}[]}}
 */
export function timelineSegments(transitions, current, fromMs, toMs) {
  const inWindow = transitions.filter((t) => Date.parse(t.at) >= fromMs).reverse();
  const older = transitions.find((t) => Date.parse(t.at) < fromMs);
  const first = inWindow[0];
  const start0 =
    first && !older && first.from === 'UNKNOWN' && transitions.at(-1) === first
      ? Date.parse(first.at)
      : fromMs;
  let state = first?.from ?? older?.to ?? current;
  let start = start0;
  const segments = [];
  for (const t of inWindow) {
    const at = Date.parse(t.at);
    if (at > start) segments.push({ state, fromMs: start, toMs: at });
    state = t.to;
    start = Math.max(start, at);
  }
  if (toMs > start) segments.push({ state, fromMs: start, toMs });
  return { fromMs: start0, segments };
}
