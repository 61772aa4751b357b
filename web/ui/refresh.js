// A view that refreshes itself: load now, then again every few seconds while the page is visible.

/**
 * Runs `work` now (call `load()`) and again `intervalMs` after each load, skipping beats while the tab is hidden,
 * until `ctx.signal` aborts. A failed load shows its error (`ctx.showError`); a good one clears it.
 * `work(current)`: `current()` turns false once a newer load started or `hold()` was called: check it after an
 * await and before painting, so an older answer never paints over a newer one.
 * @param {{ signal: AbortSignal, showError: (err: unknown) => void }} ctx
 * @param {number} intervalMs
 * @param {(current: () => boolean) => Promise<void>} work
 * @returns {{ load: () => Promise<void>, hold: () => void }}  `hold`: no refresh, and no load in flight paints,
 *   until the next `load()`
 */
export function autoRefresh(ctx, intervalMs, work) {
  const { signal } = ctx;
  let timer;
  let generation = 0;
  const load = async () => {
    clearTimeout(timer);
    const mine = ++generation;
    const current = () => mine === generation;
    try {
      await work(current);
      if (!current()) return; // the newer load reports and schedules
      ctx.showError(null);
    } catch (err) {
      if (signal.aborted || !current()) return;
      ctx.showError(err);
    }
    if (!signal.aborted) timer = setTimeout(tick, intervalMs);
  };
  const tick = () => {
    if (document.hidden) timer = setTimeout(tick, intervalMs);
    else void load();
  };
  const hold = () => {
    clearTimeout(timer);
    generation++;
  };
  signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  return { load, hold };
}
