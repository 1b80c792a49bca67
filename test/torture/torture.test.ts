/**
 * The short torture (issue 3: "killed (SIGKILL) at random moments, at least ten times, and rerun
 * until it exits 0: nothing lost, nothing stored twice, nothing deleted unverified, the catalog
 * consistent"): the same harness as `npm run torture`, with 150 faxes and 10 kills. The ten kills
 * are what this test is for; more faxes only lengthen every rerun (scale belongs to `npm run
 * torture`, issue 16: the suite's own cost).
 *
 * Every fault kind is on, including the media 'corrupt' fault (bytes changed in transit from Twilio's
 * media host, same length): the download is checked against the media host's MD5 ETag, as a
 * pre-signed S3 GET sends it, so corrupt bytes are refused, retried, and never archived or deleted.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TORTURE_OPTIONS, runTorture } from '../../scripts/torture/run-torture.js';
import { formatTortureReport } from '../../scripts/torture/torture-report.js';

const motoAvailable = spawnSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' }).status === 0;
if (!motoAvailable) console.warn('torture test skipped: moto_server (Python moto) is not on PATH; install moto[server] to run it');

describe.skipIf(!motoAvailable)('torture: SIGKILL x10 under Twilio and S3 faults (moto)', () => {
  it('reruns to exit 0 with nothing lost, stored twice or deleted unverified, and a consistent catalog', async () => {
    const report = await runTorture({
      ...DEFAULT_TORTURE_OPTIONS,
      faxes: 150,
      kills: 10,
      seed: 11,
      maxKillMs: 2000,
      emulatorFaultKinds: ['500', '503', 'reset', 'truncate', 'corrupt', 'slow'],
      slowMs: 500,
    });
    const printed = formatTortureReport(report).join('\n');
    expect(report.violations, printed).toEqual([]);
    expect(report.kills).toBe(10);
    expect(report.finalExitCode).toBe(0);
    // Kills aimed at the work itself, not only at start-up.
    expect((report.killsByPhase.archive ?? 0) + (report.killsByPhase.delete ?? 0)).toBeGreaterThan(0);
    expect(report.audit.figures).toMatchObject({ faxes: 150, lost: 0, deleted: 150, archived: 150, remainingInTwilio: 0 });
    expect(report.audit.figures.catalogByState).toEqual({ deleted: 150 });
    // The faults really happened on both sides, or this proved nothing about them.
    const injected = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);
    expect(injected(report.emulatorFaults)).toBeGreaterThan(0);
    expect(injected(report.s3Faults)).toBeGreaterThan(0);
    // Every object the catalog names was read back from the server itself and hashed.
    expect(report.audit.figures.storedObjects).toBe(report.audit.figures.catalogObjects);
    // At least the last, clean run wrote its chain anchor (killed runs may not have).
    expect(report.audit.figures.anchorObjects).toBeGreaterThanOrEqual(1);
  }, 240_000);
});
