/** The bench's pure parts: ratios, bounds, verdicts, the table and the argument parser. No timing. */
import { describe, expect, it } from 'vitest';
import { parseBenchArgs, SCENARIOS } from '../../scripts/bench/bench-options.js';
import { formatFigure, renderTable, verdictText, wrapFigures } from '../../scripts/bench/bench-table.js';
import { rcloneEnv } from '../../scripts/bench/rclone-scenario.js';
import { parseProcStatCpuSeconds, parseProcStatusMemory } from '../../scripts/bench/rss-sampler.js';
import { BENCH_TARGETS, checkTargets, meetsTarget, renderTargetTable } from '../../scripts/bench/bench-targets.js';
import { crashedScenario, mebibytes, memoryVerdict, perSecond, rateLimitBound, ratio, type ScenarioResult } from '../../scripts/bench/scenario-result.js';

describe('scenario math', () => {
  it('ratio divides and rounds, and refuses a missing or non-positive bound', () => {
    expect(ratio(45, 50)).toBe(0.9);
    expect(ratio(1, 3)).toBe(0.333);
    expect(ratio(10, 0)).toBeNull();
    expect(ratio(null, 5)).toBeNull();
    expect(ratio(5, null)).toBeNull();
  });

  it('perSecond converts a count over milliseconds', () => {
    expect(perSecond(500, 10_000)).toBe(50);
    expect(perSecond(1, 3000, 3)).toBe(0.333);
    expect(perSecond(10, 0)).toBeNull();
  });

  it('the rate-limit bound is R / requests per fax, plus the burst spread over the window', () => {
    // 1010 requests for 1000 faxes at 50 rps: 1.01 requests per fax.
    expect(rateLimitBound(50, 1010, 1000)).toBeCloseTo(49.505, 3);
    // A 50-token burst over a 10 s window adds 5 admitted requests per second.
    expect(rateLimitBound(50, 1000, 1000, 50, 10_000)).toBeCloseTo(55, 6);
    expect(rateLimitBound(50, 0, 1000)).toBeNull();
    expect(rateLimitBound(50, 10, 0)).toBeNull();
    expect(rateLimitBound(0, 10, 10)).toBeNull();
  });

  it('memory is flat only when the large peak stays within the slack and under the ceiling', () => {
    const mb = 1024 * 1024;
    expect(memoryVerdict(100 * mb, 140 * mb, 200 * mb)).toEqual({ flat: true, underCeiling: true, pass: true });
    expect(memoryVerdict(100 * mb, 160 * mb, 200 * mb).flat).toBe(false);
    expect(memoryVerdict(150 * mb, 210 * mb, 200 * mb)).toEqual({ flat: true, underCeiling: false, pass: false });
    expect(memoryVerdict(null, 100 * mb, 200 * mb).pass).toBe(false);
    expect(mebibytes(3 * mb / 2)).toBe(1.5);
    expect(mebibytes(null)).toBeNull();
  });

  it('a crashed scenario is a failed line carrying the first line of the reason', () => {
    const result = crashedScenario('rclone', 'x', new Error('rclone exited 1\nlong tail'));
    expect(result.pass).toBe(false);
    expect(result.notes).toEqual(['did not complete: rclone exited 1']);
  });
});

describe('table', () => {
  const results: ScenarioResult[] = [
    { scenario: 'rate-limit', figures: { ratio: 0.9512, faxes: 3000, server: 'moto', missing: null }, target: 'ratio >= 0.9', pass: true, notes: [] },
    { scenario: 'catalog', figures: { insert_rows_per_s: 18_500.4 }, target: '>= 20k rows/s', pass: false, notes: [] },
    { scenario: 'report', figures: {}, target: 'none', pass: null, notes: [] },
  ];

  it('formats figures compactly and verdicts as words', () => {
    expect(formatFigure(0.9512)).toBe('0.951');
    expect(formatFigure(12.345)).toBe('12.3');
    expect(formatFigure(18500.4)).toBe('18500');
    expect(formatFigure(3000)).toBe('3000');
    expect(formatFigure(null)).toBe('n/a');
    expect(formatFigure('moto')).toBe('moto');
    expect([verdictText(true), verdictText(false), verdictText(null)]).toEqual(['PASS', 'FAIL', '-']);
  });

  it('wraps figures into lines no wider than asked, keeping every pair', () => {
    const lines = wrapFigures({ a: 1, bb: 2, ccc: 3, dddd: 4 }, 9);
    expect(lines).toEqual(['a=1 bb=2', 'ccc=3', 'dddd=4']);
    expect(lines.every((l) => l.length <= 9)).toBe(true);
  });

  it('renders one row per scenario with aligned columns', () => {
    const table = renderTable(results, 40).split('\n');
    expect(table[0]).toMatch(/^scenario\s+\| figures\s+\| target\s+\| verdict$/);
    expect(table[1]).toMatch(/^-+-\+-/);
    const body = table.slice(2).join('\n');
    expect(body).toContain('rate-limit | ratio=0.951 faxes=3000 server=moto');
    expect(body).toContain('missing=n/a');
    expect(body).toMatch(/catalog\s+\| insert_rows_per_s=18500\s+\| >= 20k rows\/s\s+\| FAIL/);
    expect(body).toMatch(/report\s+\|\s+\| none\s+\| -/);
    // Every line has its column separators at the same places as the header's.
    const bars = (line: string) => [...line.matchAll(/\|/g)].map((m) => m.index);
    for (const line of table.slice(2)) expect(bars(line)).toEqual(bars(table[0]!));
  });
});

describe('arguments and parsers', () => {
  it('parses --quick and --only, refusing unknown scenarios and arguments', () => {
    expect(parseBenchArgs([])).toEqual({ quick: false, only: [...SCENARIOS] });
    expect(parseBenchArgs(['--', '--quick', '--only', 'memory,catalog'])).toEqual({ quick: true, only: ['memory', 'catalog'] });
    expect(parseBenchArgs(['--only=rclone', '--only', 'rclone'])).toEqual({ quick: false, only: ['rclone'] });
    expect(() => parseBenchArgs(['--only', 'speed'])).toThrow(/unknown scenario "speed"/);
    expect(() => parseBenchArgs(['--only'])).toThrow(/needs a scenario/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown argument/);
  });

  it('reads peak and current RSS from /proc/<pid>/status text', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1000000 kB\nVmHWM:\t  180224 kB\nVmRSS:\t  150000 kB\n';
    expect(parseProcStatusMemory(status)).toEqual({ hwmBytes: 180224 * 1024, rssBytes: 150000 * 1024 });
    expect(parseProcStatusMemory('Name:\tzombie\n')).toEqual({ hwmBytes: null, rssBytes: null });
  });

  it('reads CPU seconds from /proc/<pid>/stat even when the command name has spaces', () => {
    const fields = ['S', '1', '1', '1', '0', '-1', '0', '0', '0', '0', '0', '250', '50', '0', '0'];
    expect(parseProcStatCpuSeconds(`42 (node my app) ${fields.join(' ')}`)).toBe(3);
    expect(parseProcStatCpuSeconds('garbage')).toBeNull();
  });

  it('configures rclone by environment only, never reading a config file', () => {
    const env = rcloneEnv('http://127.0.0.1:5000', 'id', 'secret', 'us-east-1');
    expect(env.RCLONE_CONFIG).toBe('/dev/null');
    expect(env).toMatchObject({ RCLONE_CONFIG_BENCH_TYPE: 's3', RCLONE_CONFIG_BENCH_PROVIDER: 'Other', RCLONE_CONFIG_BENCH_ENDPOINT: 'http://127.0.0.1:5000' });
  });
});

describe('the per-figure target table', () => {
  const result = (scenario: string, figures: Record<string, number | string | null>): ScenarioResult => ({ scenario, figures, target: '', pass: null, notes: [] });

  it('judges each figure against its own bound: at least, at most, strictly under', () => {
    const min = BENCH_TARGETS.find((t) => t.figure === 'insert_rows_per_s')!;
    expect(meetsTarget(min, 50_000)).toBe(true);
    expect(meetsTarget(min, 49_999)).toBe(false);
    const below = BENCH_TARGETS.find((t) => t.figure === 'report_s')!;
    expect(meetsTarget(below, 5)).toBe(false);
    expect(meetsTarget(below, 4.99)).toBe(true);
    const max = BENCH_TARGETS.find((t) => t.figure === 'archiver_cpu_ms_per_fax')!;
    expect(meetsTarget(max, 10)).toBe(true);
    expect(meetsTarget(max, 10.1)).toBe(false);
    expect(meetsTarget(max, null)).toBe(false);
    expect(meetsTarget(max, undefined)).toBeNull();
  });

  it('shows a scenario that was not run apart from one that gave no figure', () => {
    const checks = checkTargets([result('rate-limit', { ratio: 0.97 }), result('rclone', { ratio: null })]);
    const byLabel = (figure: string, scenario: string) => checks.find((c) => c.target.figure === figure && c.target.scenario === scenario)!;
    expect(byLabel('ratio', 'rate-limit').pass).toBe(true);
    expect(byLabel('ratio', 'rclone').pass).toBe(false);
    expect(byLabel('insert_rows_per_s', 'catalog').value).toBeUndefined();
    const table = renderTargetTable(checks);
    expect(table.split('\n')).toHaveLength(2 + BENCH_TARGETS.length);
    expect(table).toMatch(/rate-limit ratio \(with the pre-delete proof\)\s+\| 0\.97 x\s+\| >= 0\.95 x\s+\| PASS/);
    expect(table).toMatch(/catalog inserts.*\| not run\s+\| >= 50000 rows\/s \| -/);
    expect(table).toMatch(/archiver files\/s.*\| n\/a x\s+\| >= 1\.5 x\s+\| FAIL/);
  });
});
