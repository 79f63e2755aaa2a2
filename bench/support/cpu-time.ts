import { readFileSync } from "node:fs";

/**
 * CPU time of whole processes (every thread: user + system), from
 * /proc/<pid>/stat, to tell who limits a multi-process benchmark: read it
 * before and after a timed phase and divide by the phase's wall time to get
 * the share of one core each process used.
 *
 * Linux only; elsewhere every reading is NaN and the figures just say so.
 * Resolution is one clock tick (1/100 s on Linux): meaningful for phases of
 * a few hundred milliseconds and more.
 */
const TICKS_PER_SECOND = 100;

/** CPU seconds the process has used so far (NaN if it cannot be read). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 (utime) and 15 (stime); fields[0] is field 3.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Several named processes, read together. */
export class CpuMeter {
  constructor(readonly pids: Readonly<Record<string, number | undefined>>) {}

  /** CPU seconds per process so far. */
  read(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) out[name] = pid === undefined ? NaN : cpuSeconds(pid);
    return out;
  }

  /** Per process: CPU seconds used since `before` (a `read()`). */
  since(before: Record<string, number>): Record<string, number> {
    const now = this.read();
    const out: Record<string, number> = {};
    for (const name of Object.keys(now)) out[name] = now[name]! - (before[name] ?? NaN);
    return out;
  }
}
