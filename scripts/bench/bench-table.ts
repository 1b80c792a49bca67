/**
 * The readable table printed after the JSON lines: one row per scenario, its figures as
 * `name=value` pairs, the target and the verdict. Pure: returns text.
 */
import type { Figure, ScenarioResult } from './scenario-result.js';

export function formatFigure(value: Figure): string {
  if (value === null) return 'n/a';
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
}

export function verdictText(pass: boolean | null): string {
  return pass === null ? '-' : pass ? 'PASS' : 'FAIL';
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - text.length));
}

/** Splits `name=value` pairs into lines no wider than `width` (a single long pair keeps its line). */
export function wrapFigures(figures: Record<string, Figure>, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const [name, value] of Object.entries(figures)) {
    const pair = `${name}=${formatFigure(value)}`;
    if (line && line.length + 1 + pair.length > width) {
      lines.push(line);
      line = pair;
    } else {
      line = line ? `${line} ${pair}` : pair;
    }
  }
  if (line) lines.push(line);
  return lines.length > 0 ? lines : [''];
}

/** Rows of cells under headers, each column as wide as its widest cell, a rule under the headers. */
export function renderGrid(headers: readonly string[], rows: readonly (readonly string[])[], minWidths: readonly number[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, minWidths[i] ?? 0, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => pad(c, widths[i]!)).join(' | ').trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(line)].join('\n');
}

export function renderTable(results: readonly ScenarioResult[], figureWidth = 64): string {
  // A scenario's figures wrap over several lines; the other cells stand on its first line.
  const lines = results.flatMap((r) =>
    wrapFigures(r.figures, figureWidth).map((figures, i) => (i === 0 ? [r.scenario, figures, r.target, verdictText(r.pass)] : ['', figures, '', ''])),
  );
  return renderGrid(['scenario', 'figures', 'target', 'verdict'], lines, [0, 0, 0, 7]);
}
