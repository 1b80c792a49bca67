/** The bench's command line: `--quick` (small sizes, a smoke run) and `--only <scenario>[,<scenario>]`. */

export const SCENARIOS = ['rate-limit', 'rclone', 'memory', 'catalog'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchOptions {
  quick: boolean;
  only: ScenarioName[];
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let quick = false;
  const only: ScenarioName[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!value) throw new Error(`--only needs a scenario: ${SCENARIOS.join(', ')}`);
      for (const name of value.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`unknown scenario ${JSON.stringify(name)} (known: ${SCENARIOS.join(', ')})`);
        if (!only.includes(name as ScenarioName)) only.push(name as ScenarioName);
      }
    } else if (arg === '--') {
      continue;
    } else {
      throw new Error(`unknown argument ${JSON.stringify(arg)} (use --quick, --only <${SCENARIOS.join('|')}>)`);
    }
  }
  return { quick, only: only.length > 0 ? only : [...SCENARIOS] };
}
