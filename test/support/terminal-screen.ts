/**
 * A tiny terminal: feeds the bytes a program wrote to a terminal and says what a person would see
 * (every row, scrollback included), whether the cursor is shown and whether lines wrap. Enough of
 * VT100/xterm for what progress output uses: CR, LF, BS, erase line, cursor up/down/column,
 * save/restore cursor, show/hide cursor, autowrap on/off. Unknown sequences are skipped.
 */
export class TerminalScreen {
  readonly rows: string[][] = [[]];
  row = 0;
  col = 0;
  cursorVisible = true;
  wrap = true;
  private saved: { row: number; col: number } | null = null;
  private pendingWrap = false;

  constructor(readonly columns = 80) {}

  feed(text: string): this {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (ch === '\x1b') {
        i = this.escape(text, i);
        continue;
      }
      if (ch === '\r') {
        this.col = 0;
        this.pendingWrap = false;
      } else if (ch === '\n') {
        this.lineFeed();
      } else if (ch === '\b') {
        this.col = Math.max(0, this.col - 1);
        this.pendingWrap = false;
      } else if (ch >= ' ') {
        this.put(ch);
      }
    }
    return this;
  }

  /** Every row as text, trailing spaces trimmed, trailing empty rows dropped. */
  lines(): string[] {
    const out = this.rows.map((cells) => cells.map((c) => c ?? ' ').join('').trimEnd());
    while (out.length > 0 && out[out.length - 1] === '') out.pop();
    return out;
  }

  private put(ch: string): void {
    if (this.pendingWrap) {
      this.pendingWrap = false;
      this.col = 0;
      this.lineFeed();
    }
    const cells = this.rowAt(this.row);
    cells[this.col] = ch;
    if (this.col === this.columns - 1) {
      // At the margin: with wrap on the next character goes to the next row; off, it overwrites.
      if (this.wrap) this.pendingWrap = true;
    } else {
      this.col++;
    }
  }

  private lineFeed(): void {
    this.pendingWrap = false;
    this.row++;
    this.rowAt(this.row);
  }

  private rowAt(row: number): string[] {
    while (this.rows.length <= row) this.rows.push([]);
    return this.rows[row]!;
  }

  private escape(text: string, at: number): number {
    const next = text[at + 1];
    if (next === '7') {
      this.saved = { row: this.row, col: this.col };
      return at + 1;
    }
    if (next === '8') {
      if (this.saved) ({ row: this.row, col: this.col } = this.saved);
      this.pendingWrap = false;
      return at + 1;
    }
    if (next !== '[') return at + 1;
    let end = at + 2;
    while (end < text.length && !/[@-~]/.test(text[end]!)) end++;
    const params = text.slice(at + 2, end);
    const final = text[end];
    const n = Number.parseInt(params.replace('?', ''), 10);
    const count = Number.isNaN(n) ? 1 : n;
    if (params.startsWith('?') && (final === 'h' || final === 'l')) {
      const on = final === 'h';
      if (count === 25) this.cursorVisible = on;
      if (count === 7) this.wrap = on;
    } else if (final === 'K') {
      const cells = this.rowAt(this.row);
      if (params === '2') cells.length = 0;
      else if (params === '' || params === '0') cells.length = Math.min(cells.length, this.col);
      else for (let c = 0; c <= this.col; c++) cells[c] = ' ';
    } else if (final === 'A') {
      this.row = Math.max(0, this.row - count);
    } else if (final === 'B') {
      this.row += count;
      this.rowAt(this.row);
    } else if (final === 'G') {
      this.col = Math.min(this.columns - 1, count - 1);
    } else if (final === 'C') {
      this.col = Math.min(this.columns - 1, this.col + count);
    } else if (final === 'D') {
      this.col = Math.max(0, this.col - count);
    } else if (final === 'J') {
      if (params === '' || params === '0') {
        this.rowAt(this.row).length = this.col;
        this.rows.length = this.row + 1;
      }
    }
    if (final !== undefined) this.pendingWrap = false;
    return end;
  }
}
