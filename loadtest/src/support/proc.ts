/**
 * Process figures from /proc (Linux): resident memory and CPU time of any pid, and the CPU of
 * this process, so every figure can be reported beside the load generator's own cost.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ is 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Resident set size of a process in KiB, or null when it cannot be read. */
export function readRssKiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds a process has used (its threads included), or null. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

/** CPU use over a window, as a share of one core (1.0 = one core busy). */
export interface CpuWindow {
  /** CPU seconds used in the window. */
  seconds: number;
  /** seconds / wall seconds. */
  cores: number;
}

/** Measures the CPU of a pid (or of this process when pid is omitted) from `start()` on. */
export class CpuMeter {
  private cpu0 = 0;
  private wall0 = 0;
  /** `pid`: one process, or the sum over several (a function: the list may change, e.g. nginx workers). */
  constructor(private readonly pid?: number | (() => number[])) {
    this.start();
  }

  start(): void {
    this.cpu0 = this.now();
    this.wall0 = performance.now();
  }

  /** CPU since start(). */
  read(): CpuWindow {
    const seconds = Math.max(0, this.now() - this.cpu0);
    const wall = (performance.now() - this.wall0) / 1000;
    return { seconds, cores: wall > 0 ? seconds / wall : 0 };
  }

  private now(): number {
    if (this.pid === undefined) {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    }
    if (typeof this.pid === 'function') return this.pid().reduce((sum, pid) => sum + (readCpuSeconds(pid) ?? 0), 0);
    return readCpuSeconds(this.pid) ?? 0;
  }
}

/** Cores, memory and Node version of this machine, for every report. */
export function machineInfo(): { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string; loadAverage1m: number } {
  const list = cpus();
  let memKiB = 0;
  try {
    memKiB = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  } catch {
    /* not Linux */
  }
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((memKiB / 1024 / 1024) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
  };
}

/**
 * The median of several RSS samples of a pid over `ms` (GC makes one sample noisy), in KiB.
 */
export async function settledRssKiB(pid: number, ms = 1000, samples = 5): Promise<number | null> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    const v = readRssKiB(pid);
    if (v !== null) values.push(v);
    await new Promise((r) => setTimeout(r, ms / samples));
  }
  values.sort((a, b) => a - b);
  return values.length ? values[Math.floor(values.length / 2)]! : null;
}
