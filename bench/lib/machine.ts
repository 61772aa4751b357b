import { readFileSync } from 'node:fs';
import os from 'node:os';

/** What a benchmark table needs to say about where it ran. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly node: string;
  readonly os: string;
  readonly date: string;
  /** 1-minute load average when the info was taken: other work on the machine skews every number. */
  readonly loadAvg1m: number;
}

/** CPU model, logical cores, total memory (GB, one decimal), node version, kernel, ISO date, load average. */
export function machineInfo(): MachineInfo {
  let cpu = os.cpus()[0]?.model?.trim() ?? 'unknown';
  if (cpu === 'unknown' || cpu === '') {
    try {
      const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
      if (m?.[1]) cpu = m[1].trim();
    } catch {
      // not Linux: keep "unknown"
    }
  }
  return {
    cpu,
    cores: os.availableParallelism(),
    memoryGb: Math.round(os.totalmem() / 1e8) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    loadAvg1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** One line for the top of a benchmark's output. */
export function formatMachineInfo(m: MachineInfo): string {
  return `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB; node ${m.node}; ${m.os}; ${m.date}; load average ${m.loadAvg1m}`;
}
