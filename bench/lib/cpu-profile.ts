import { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Self time of one function (or one group of functions) in a CPU profile. */
export interface ProfileEntry {
  readonly name: string;
  /** Share of the profile's samples, percent. */
  readonly pct: number;
  readonly ms: number;
}

/** Where a process's CPU went over a window: top functions by self time, and the same grouped by area. */
export interface ProfileSummary {
  readonly windowMs: number;
  /** Share of the window the process was busy (not idle), percent. */
  readonly busyPct: number;
  readonly top: readonly ProfileEntry[];
  readonly areas: readonly ProfileEntry[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}

/** Which part of the system a function belongs to, from its script URL. */
function areaOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'garbage collection';
  if (fn === '(program)') return 'V8/native (program)';
  if (fn === '(idle)') return 'idle';
  if (url.includes('better-sqlite3')) return 'better-sqlite3';
  if (url.includes('/node_modules/pg')) return 'pg driver';
  if (url.includes('/node_modules/kysely')) return 'kysely';
  if (url.includes('/node_modules/zod')) return 'zod';
  if (url.includes('/node_modules/pino')) return 'pino';
  const src = /\/src\/([a-z-]+)\//.exec(url);
  if (src) return `src/${src[1]}`;
  if (url.includes('/bench/')) return 'bench measuring';
  if (url.startsWith('node:')) {
    const mod = /^node:(?:internal\/)?([a-z_]+)/.exec(url)?.[1] ?? 'core';
    return `node:${mod}`;
  }
  if (url === '') return 'native (socket connect/close/write, syscalls)';
  return 'other';
}

/**
 * Profiles this process's JavaScript for `windowMs` with the inspector (sampling every `intervalUs`, default
 * 1000 µs) and sums self time per function and per area. The profiler itself costs a few percent of CPU.
 */
export async function profileCpu(windowMs: number, intervalUs = 1000): Promise<ProfileSummary> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    await sleep(windowMs);
    const { profile } = (await session.post('Profiler.stop')) as unknown as {
      profile: { nodes: ProfileNode[]; startTime: number; endTime: number };
    };
    const totalHits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0) || 1;
    const msPerHit = (profile.endTime - profile.startTime) / 1000 / totalHits;
    const byFn = new Map<string, number>();
    const byArea = new Map<string, number>();
    let idle = 0;
    for (const n of profile.nodes) {
      const hits = n.hitCount ?? 0;
      if (hits === 0) continue;
      const { functionName, url } = n.callFrame;
      const area = areaOf(url, functionName);
      if (area === 'idle') {
        idle += hits;
        continue;
      }
      const file = url.replace(/^.*\/(node_modules|src|bench)\//, '$1/').replace(/^file:\/\//, '');
      // No line numbers: tsx's transpiled code does not keep the source's.
      const name = `${functionName || '(anonymous)'} ${file}`.trim();
      byFn.set(name, (byFn.get(name) ?? 0) + hits);
      byArea.set(area, (byArea.get(area) ?? 0) + hits);
    }
    const busy = totalHits - idle || 1;
    const entries = (m: Map<string, number>, k: number) =>
      [...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, k)
        .map(([name, hits]) => ({ name, pct: (hits / busy) * 100, ms: hits * msPerHit }));
    return {
      windowMs,
      busyPct: ((totalHits - idle) / totalHits) * 100,
      top: entries(byFn, 15),
      areas: entries(byArea, 12),
    };
  } finally {
    await session.post('Profiler.disable').catch(() => {});
    session.disconnect();
  }
}
