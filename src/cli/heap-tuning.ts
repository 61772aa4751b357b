import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * V8 grows the old generation to up to 4x the live heap after each full GC. A run at -c 1000 keeps ~20 MB
 * live but allocates fast, so the heap grew to 100 MB of mostly garbage (RSS 190 MB for a 20,000-host
 * http sweep); growing by 50% instead holds it near 130 MB for ~10% more CPU (measured, bench/sweep.ts).
 * 75 or 100 were no better on 2026-12-01 (20,000 hosts, -c 1000, 3-6 alternated rounds at load 5-12: CPU per
 * host and full GCs within the rounds' spread, peak RSS 104-118 MB against 97-106): at ~18 MB live V8's
 * minimum growing step, more than the percentage, sets the old generation's limit (28-36 MB committed at 50).
 */
const HEAP_GROWING_PERCENT = 50;

/**
 * The young generation doubles whenever enough objects survive it (they do: a check in flight lives through
 * many scavenges), up to V8's default 32 MB, all of it touched. 16 MB holds a sweep at -c 1000 about
 * 15 MB lower, with no CPU cost measurable on `run dns` or `run http` (2026-11-30, bench/sweep.ts).
 * Re-measured 2026-12-01 (`--trace-gc-nvp`, 20,000 hosts, -c 1000): uncapped halves the scavenges (19-25
 * against 33-45), the bytes promoted (20-28 MB against 43-69) and the full GCs (3-5 against 5-9), but the CPU
 * per host stayed within the rounds' spread (min/median 147/176 against 170/177 us, 5 rounds, load 8) and
 * peak RSS went to 113-125 MB, over the 120 MB target in some rounds: the cap stays.
 */
const NEW_SPACE_CAP_BYTES = 16 * 1024 * 1024;
const WATCH_MS = 20;

/**
 * Heap settings for a long run in this process. `--max-semi-space-size` is read only when V8 starts, so the
 * young generation is capped instead by watching it and turning its growth factor to 1 once it reaches the
 * cap (V8 reads that flag each time it grows the space). The flags are process-wide: worker threads get a fixed
 * young generation instead (distributed/thread-start.ts).
 */
export function tuneHeapForRun(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  const watcher = setInterval(() => {
    const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    if (newSpace === undefined || newSpace.space_size >= NEW_SPACE_CAP_BYTES) {
      setFlagsFromString('--semi-space-growth-factor=1');
      clearInterval(watcher);
    }
  }, WATCH_MS);
  watcher.unref();
}
