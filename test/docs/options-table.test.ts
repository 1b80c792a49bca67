/**
 * Flags are declared once (issue 14 §4): every option of every command comes from the option
 * table, and the README's option table is the one generated from it, so a flag, a default or an
 * environment variable cannot change without the README saying so.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SHARED_OPTIONS } from '../../src/commands/shared-options.js';
import { inlineOptions, README, readmeTable, renderOptionsTable } from './options-table.js';

describe('the option table', () => {
  it('declares every option of every command (none inline)', () => {
    expect(inlineOptions()).toEqual([]);
  });

  it('gives every option an environment variable, or says why not', () => {
    for (const [name, spec] of Object.entries(SHARED_OPTIONS)) {
      const s = spec as { env: string | null; noEnvBecause?: string };
      if (s.env === null) expect(s.noEnvBecause, name).toBeTruthy();
      else expect(s.env, name).toMatch(/^FAX_SUNSET_[A-Z0-9_]+$/);
    }
  });

  it('is the README\'s table (regenerate with: npx tsx test/docs/options-table.ts --write)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readmeTable(readme)).toBe(renderOptionsTable());
    for (const spec of Object.values(SHARED_OPTIONS)) {
      const long = /--[a-z0-9-]+/.exec(spec.flags)?.[0];
      expect(readme, spec.flags).toContain(`\`${spec.flags.replace(/\|/g, '\\|')}\``);
      if (spec.env) expect(readme, long).toContain(spec.env);
    }
  });
});
