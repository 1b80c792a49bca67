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

export interface RssSampler {
  /** Reads once more (call right before the process is reaped if possible) and stops polling. */
  stop(): number | null;
  /** The highest value seen so far, in bytes. */
  peakBytes(): number | null;
}

export function startRssSampler(pid: number, intervalMs = 100): RssSampler {
  let peak: number | null = null;
  const sample = (): void => {
    try {
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
  };
}
