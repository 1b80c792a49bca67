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

export function renderTable(results: readonly ScenarioResult[], figureWidth = 64): string {
  const headers = ['scenario', 'figures', 'target', 'verdict'];
  const rows = results.map((r) => ({
    scenario: [r.scenario],
    figures: wrapFigures(r.figures, figureWidth),
    target: [r.target],
    verdict: [verdictText(r.pass)],
  }));
  const widths = [
    Math.max(headers[0]!.length, ...rows.map((r) => r.scenario[0]!.length)),
    Math.max(headers[1]!.length, ...rows.flatMap((r) => r.figures.map((l) => l.length))),
    Math.max(headers[2]!.length, ...rows.map((r) => r.target[0]!.length)),
    Math.max(headers[3]!.length, 7),
  ];
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  const out = [headers.map((h, i) => pad(h, widths[i]!)).join(' | '), rule];
  for (const row of rows) {
    const height = row.figures.length;
    for (let i = 0; i < height; i++) {
      const cells = [i === 0 ? row.scenario[0]! : '', row.figures[i]!, i === 0 ? row.target[0]! : '', i === 0 ? row.verdict[0]! : ''];
      out.push(cells.map((c, j) => pad(c, widths[j]!)).join(' | ').trimEnd());
    }
  }
  return out.join('\n');
}
