/**
 * The performance targets, one row per promised figure (DESIGN.md "Performance"), judged against
 * the figures the scenarios print. The scenarios take their thresholds from here, so a target is
 * written once; the table printed after the scenarios shows each figure beside its target, which
 * is what a reader compares. Pure: no I/O.
 */
import { formatFigure, renderGrid, verdictText } from './bench-table.js';
import type { Figure, ScenarioResult } from './scenario-result.js';

export const MIN_RATE_LIMIT_RATIO = 0.95;
export const MIN_RCLONE_RATIO = 1.5;
export const MAX_CPU_MS_PER_FAX = 10;
export const MIN_INSERT_ROWS_PER_S = 50_000;
export const MIN_STEP_ROWS_PER_S = 5_000;
export const MAX_REPORT_S = 5;
export const MAX_REPORT_RSS_MB = 150;
export const MAX_ARCHIVE_RSS_MB = 150;
export const MAX_MEMORY_GROWTH = 1.5;

export interface BenchTarget {
  /** What the figure is, in the words of the table. */
  label: string;
  scenario: string;
  /** The figure's key in the scenario's `figures`. */
  figure: string;
  /** 'min': the figure must be at least `limit`; 'max': at most (`below`: strictly under). */
  kind: 'min' | 'max' | 'below';
  limit: number;
  unit: string;
}

export const BENCH_TARGETS: readonly BenchTarget[] = [
  { label: 'rclone scenario: archiver files/s / rclone files/s', scenario: 'rclone', figure: 'ratio', kind: 'min', limit: MIN_RCLONE_RATIO, unit: 'x' },
  { label: 'archiver CPU per fax with media', scenario: 'rclone', figure: 'archiver_cpu_ms_per_fax', kind: 'max', limit: MAX_CPU_MS_PER_FAX, unit: 'ms' },
  { label: 'catalog inserts (recordListed, pages of 1000)', scenario: 'catalog', figure: 'insert_rows_per_s', kind: 'min', limit: MIN_INSERT_ROWS_PER_S, unit: 'rows/s' },
  { label: 'archive steps (fetched, stored, verified)', scenario: 'catalog', figure: 'archive_steps_rows_per_s', kind: 'min', limit: MIN_STEP_ROWS_PER_S, unit: 'rows/s' },
  { label: 'report over 100k faxes: time', scenario: 'catalog', figure: 'report_s', kind: 'below', limit: MAX_REPORT_S, unit: 's' },
  { label: 'report over 100k faxes: peak RSS', scenario: 'catalog', figure: 'report_peak_rss_mb', kind: 'below', limit: MAX_REPORT_RSS_MB, unit: 'MB' },
  { label: 'peak RSS, archive of 100k faxes (mix)', scenario: 'memory', figure: 'peak_rss_mb_100000_mix', kind: 'below', limit: MAX_ARCHIVE_RSS_MB, unit: 'MB' },
  { label: 'archive RSS growth, 1k to 100k (flat)', scenario: 'memory', figure: 'growth', kind: 'max', limit: MAX_MEMORY_GROWTH, unit: 'x' },
  { label: 'rate-limit ratio (with the pre-delete proof)', scenario: 'rate-limit', figure: 'ratio', kind: 'min', limit: MIN_RATE_LIMIT_RATIO, unit: 'x' },
];

export interface TargetCheck {
  target: BenchTarget;
  /** undefined when the scenario did not run (not asked for with --only); null when it ran but gave no figure. */
  value: Figure | undefined;
  pass: boolean | null;
}

export function meetsTarget(target: BenchTarget, value: Figure | undefined): boolean | null {
  if (value === undefined) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (target.kind === 'min') return value >= target.limit;
  if (target.kind === 'max') return value <= target.limit;
  return value < target.limit;
}

export function checkTargets(results: readonly ScenarioResult[], targets: readonly BenchTarget[] = BENCH_TARGETS): TargetCheck[] {
  return targets.map((target) => {
    const result = results.find((r) => r.scenario === target.scenario);
    const value = result === undefined ? undefined : (result.figures[target.figure] ?? null);
    return { target, value, pass: meetsTarget(target, value) };
  });
}

function targetText(target: BenchTarget): string {
  const op = target.kind === 'min' ? '>=' : target.kind === 'max' ? '<=' : '<';
  return `${op} ${formatFigure(target.limit)} ${target.unit}`;
}

/** The per-figure table: figure | measured | target | verdict, in the order of the table. */
export function renderTargetTable(checks: readonly TargetCheck[]): string {
  const rows = checks.map((c) => [
    c.target.label,
    c.value === undefined ? 'not run' : `${formatFigure(c.value)} ${c.target.unit}`,
    targetText(c.target),
    c.value === undefined ? '-' : verdictText(c.pass),
  ]);
  return renderGrid(['figure', 'measured', 'target', 'verdict'], rows);
}
