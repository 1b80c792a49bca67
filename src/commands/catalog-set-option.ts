/**
 * `--catalog` as verify and report take it (issue 15 §1): the shared option, repeatable, where a
 * folder stands for every shard catalog in it. One value keeps the one-catalog behaviour.
 */
import { Option } from 'commander';
import { SHARED_OPTIONS } from './shared-options.js';

export function catalogSetOption(): Option {
  const spec = SHARED_OPTIONS.catalog;
  return new Option(`${spec.flags}`, `${spec.description}; given more than once, or a folder of shard catalogs (shard-0-of-3.sqlite ...), they are checked as one set`)
    .env(spec.env)
    .default(spec.defaultValue)
    // The default (or the variable) is a plain string: the first --catalog replaces it, later ones add to it.
    .argParser((value: string, previous: unknown) => (Array.isArray(previous) ? [...(previous as string[]), value] : [value]));
}

/** The --catalog values as a list, whatever commander kept. */
export function catalogValues(value: string | string[] | undefined): string[] {
  if (value === undefined) return [SHARED_OPTIONS.catalog.defaultValue];
  return Array.isArray(value) ? value : [value];
}
