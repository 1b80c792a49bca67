/**
 * Peak resident memory of a child process, read from /proc/<pid>/status while it runs. VmHWM is the
 * kernel's own high-water mark, so a poll only has to happen before the process is reaped; VmRSS is
 * kept too in case a kernel does not report VmHWM. Linux only: elsewhere the peak stays null.
 */
import { readFileSync } from 'node:fs';

/** Parses `VmHWM:   123456 kB` style lines of /proc/<pid>/status into bytes. Pure: exported for tests. */
export function parseProcStatusMemory(status: string): { hwmBytes: number | null; rssBytes: number | null } {
  const field = (name: string): number | null => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : null;
  };
  return { hwmBytes: field('VmHWM'), rssBytes: field('VmRSS') };
}

/**
 * User + system CPU seconds from /proc/<pid>/stat (fields 14 and 15, in clock ticks; 100 per second
 * on Linux). The command name (field 2) may hold spaces, so fields are counted after its ")".
 */
export function parseProcStatCpuSeconds(stat: string, ticksPerSecond = 100): number | null {
  const close = stat.lastIndexOf(')');
  if (close === -1) return null;
  const fields = stat.slice(close + 2).trim().split(/\s+/);
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / ticksPerSecond;
}

export interface RssSampler {
  /** Reads once more (call right before the process is reaped if possible) and stops polling. */
  stop(): number | null;
  /** The highest value seen so far, in bytes. */
  peakBytes(): number | null;
  /** CPU seconds (user + system) at the last successful sample. */
  cpuSeconds(): number | null;
}

export function startRssSampler(pid: number, intervalMs = 100): RssSampler {
  let peak: number | null = null;
  let cpu: number | null = null;
  const sample = (): void => {
    try {
      cpu = parseProcStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8')) ?? cpu;
      const { hwmBytes, rssBytes } = parseProcStatusMemory(readFileSync(`/proc/${pid}/status`, 'utf8'));
      const value = hwmBytes ?? rssBytes;
      if (value !== null && (peak === null || value > peak)) peak = value;
    } catch {
      // The process is gone (or this is not Linux): keep what was seen.
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop: () => {
      sample();
      clearInterval(timer);
      return peak;
    },
    peakBytes: () => peak,
    cpuSeconds: () => cpu,
  };
}
