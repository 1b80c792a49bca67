import { describe, expect, it } from 'vitest';
import { ProgressLine } from '../../src/commands/progress-line.js';
import { TerminalScreen } from '../support/terminal-screen.js';

function fakeTerminal(columns = 80) {
  const screen = new TerminalScreen(columns);
  let raw = '';
  const stream = { columns, write: (chunk: string) => { raw += chunk; screen.feed(chunk); return true; } };
  return { screen, stream, raw: () => raw };
}

describe('ProgressLine (a bar with log lines above it)', () => {
  it('prints log lines whole above the bar, keeps the bar to one row, and gives the terminal back', () => {
    const { screen, stream, raw } = fakeTerminal(80);
    let now = 0;
    const line = new ProgressLine(stream, { clock: () => now, timer: false, guardProcess: false });
    line.start('archive', 3000);
    expect(screen.cursorVisible).toBe(false);
    const long = `FAILED FX${'0'.repeat(32)}: ${'the media host answered 500 Internal Server Error; '.repeat(3)}end`;
    for (let i = 0; i < 5; i++) {
      now += 1000;
      line.advance(100, 'x'.repeat(200));
      line.render();
      line.log(`${long} #${i}`);
    }
    expect(screen.lines().at(-1)).toMatch(/^archive +\[#{3}-{17}\] +500\/3,000 +100\/s +ETA 25s/);
    line.stop();
    expect(screen.cursorVisible).toBe(true);
    expect(screen.wrap).toBe(true);
    expect(raw()).not.toContain('\x1b7'); // never saves the cursor: nothing is restored over the log
    // Every log line in full (the terminal wrapped it; compared without the blanks a wrap trims).
    const text = screen.lines().join('').replace(/\s/g, '');
    for (let i = 0; i < 5; i++) expect(text).toContain(`${long} #${i}`.replace(/\s/g, ''));
    expect(screen.lines().filter((row) => row.startsWith('FAILED')).length).toBe(5);
    // The bar's last state stays as the final row, cut to the width.
    const last = screen.lines().at(-1)!;
    expect(last).toMatch(/^archive +\[#{3}-{17}\] +500\/3,000 +100\/s +in 5\.0s +x+$/);
    expect(last.length).toBeLessThanOrEqual(79);
  });

  it('a phase without a total (the listing) shows a count and a rate', () => {
    const { screen, stream } = fakeTerminal(80);
    let now = 0;
    const line = new ProgressLine(stream, { clock: () => now, timer: false, guardProcess: false });
    line.start('listing');
    line.advance(0, 'ACaaaa');
    now = 2000;
    line.advance(2000);
    line.stop();
    expect(screen.lines().at(-1)).toMatch(/^listing +2,000 +1,000\/s +in 2\.0s +ACaaaa$/);
  });
});
