/**
 * `npm run bench [-- --quick] [-- --only rate-limit,rclone,memory,catalog]`: the figures DESIGN.md's
 * "Performance" section promises, measured on this machine. Prints one JSON line per scenario on
 * stdout as it finishes (scenario, figures, target, pass, notes), then the environment and a readable
 * table. Progress goes to stderr. Timing is never asserted in tests: figures live here; README's
 * "Benchmark: how to read the figures" explains them. Exit code 0 when every scenario met its target,
 * 1 otherwise, 2 for bad arguments.
 */
import { parseBenchArgs, type ScenarioName } from './bench/bench-options.js';
import { BenchCleanup } from './bench/bench-cleanup.js';
import { buildCli } from './bench/run-cli.js';
import { describeEnvironment } from './bench/bench-environment.js';
import { renderTable } from './bench/bench-table.js';
import { checkTargets, renderTargetTable } from './bench/bench-targets.js';
import { catalogScenario } from './bench/catalog-scenario.js';
import { memoryScenario } from './bench/memory-scenario.js';
import { rateLimitScenario } from './bench/rate-limit-scenario.js';
import { rcloneScenario } from './bench/rclone-scenario.js';
import type { ScenarioContext } from './bench/scenario-context.js';
import { crashedScenario, type ScenarioResult } from './bench/scenario-result.js';

const RUNNERS: Record<ScenarioName, { run: (ctx: ScenarioContext) => Promise<ScenarioResult>; target: string }> = {
  'rate-limit': { run: rateLimitScenario, target: 'ratio >= 0.95 at --rps R, 0 failed' },
  rclone: { run: rcloneScenario, target: 'archiver files/s >= 1.5x rclone; <= 10 ms CPU per fax' },
  memory: { run: memoryScenario, target: 'peak RSS flat and < 150 MB' },
  catalog: { run: catalogScenario, target: 'inserts >= 50k rows/s; steps >= 5k/s; report < 5 s, < 150 MB; no-change sync' },
};

async function main(): Promise<number> {
  let options;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    return 2;
  }
  const cleanup = new BenchCleanup();
  const stop = (signal: NodeJS.Signals): void => {
    process.stderr.write(`bench: ${signal}, cleaning up\n`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.once('exit', () => cleanup.runSyncOnExit());

  buildCli();
  const environment = describeEnvironment();
  const started = performance.now();
  const log = (message: string): void => {
    process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
  };
  log(`bench ${options.quick ? '--quick ' : ''}on ${environment.cores} cores, node ${environment.node}: ${options.only.join(', ')}`);
  const results: ScenarioResult[] = [];
  for (const name of options.only) {
    const runner = RUNNERS[name];
    let result: ScenarioResult;
    try {
      result = await runner.run({ quick: options.quick, cleanup, log });
    } catch (error) {
      result = crashedScenario(name, runner.target, error);
    } finally {
      await cleanup.run();
    }
    results.push(result);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }

  const env = environment;
  const versions = Object.entries(env.versions).map(([name, version]) => `${name} ${version ?? 'not found'}`).join(', ');
  process.stdout.write(`${JSON.stringify({ environment: env, quick: options.quick, totalSeconds: Math.round((performance.now() - started) / 1000) })}\n`);
  process.stdout.write(
    `\nfax-sunset bench${options.quick ? ' (--quick: small sizes, a smoke run)' : ''}: ${env.cores} cores (${env.cpuModel}), ${env.memoryGiB} GiB, node ${env.node}, ${env.platform}\n` +
      `versions: ${versions}\n\n${renderTable(results)}\n\n${renderTargetTable(checkTargets(results))}\n`,
  );
  for (const result of results) for (const note of result.notes) process.stdout.write(`  ${result.scenario}: ${note}\n`);
  return results.every((r) => r.pass === true) ? 0 : 1;
}

process.exitCode = await main();
