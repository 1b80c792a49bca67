/**
 * `--catalog` as verify and report take it (issue 15 §1): the table's repeatable entry, where a
 * folder stands for every shard catalog in it. One value keeps the one-catalog behaviour.
 */
import type { Option } from 'commander';
import { SHARED_OPTIONS, sharedOption } from './shared-options.js';

export function catalogSetOption(): Option {
  return sharedOption('catalogSet');
}

/** The --catalog values as a list, whatever commander kept. */
export function catalogValues(value: string | string[] | undefined): string[] {
  if (value === undefined) return [SHARED_OPTIONS.catalogSet.defaultValue];
  return Array.isArray(value) ? value : [value];
}
