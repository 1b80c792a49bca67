/**
 * Issue 17 §1 and §11: `demo` writes to its own folder (./fax-sunset-demo/, never the production
 * default ./fax-archive/), and the block the README shows is exactly what it prints at the end.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from '../support/cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-demo-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fenced block right after "It ends by printing where everything is:" in README.md. */
function readmeBlock(): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const after = readme.slice(readme.indexOf('It ends by printing where everything is:'));
  const body = /```\n([\s\S]*?)```/.exec(after)?.[1] ?? '';
  return body.trimEnd().split('\n');
}

describe('demo', () => {
  it('writes into ./fax-sunset-demo/ and ends with the very block the README shows', async () => {
    const run = await runCli(['demo', '--faxes', '6'], { cwd: dir, timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(dir, 'fax-sunset-demo', 'catalog.sqlite'))).toBe(true);
    expect(existsSync(join(dir, 'fax-archive'))).toBe(false);
    const expected = readmeBlock();
    expect(expected.length).toBeGreaterThan(4);
    const printed = run.stdout.trimEnd().split('\n');
    expect(printed.slice(-expected.length)).toEqual(expected);
    expect(run.stdout).not.toContain('npm run demo');
  });
});
