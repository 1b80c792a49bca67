/** The machine and the versions a bench run used, printed with the figures so they can be compared. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './run-cli.js';

export interface BenchEnvironment {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  versions: Record<string, string | null>;
}

function packageVersion(name: string): string | null {
  try {
    const json = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return json.version ?? null;
  } catch {
    return null;
  }
}

/** First line of `command --version`-style output matching `pattern`, or null when absent. */
function toolVersion(command: string, args: string[], pattern: RegExp): string | null {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 20_000 });
  if (result.error || result.status !== 0) return null;
  const match = pattern.exec(`${result.stdout}\n${result.stderr}`);
  return match ? (match[1] ?? match[0]) : null;
}

export function rcloneVersion(): string | null {
  return toolVersion('rclone', ['version'], /rclone v?([\w.\-]+)/);
}

export function describeEnvironment(): BenchEnvironment {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    versions: {
      twilio: packageVersion('twilio'),
      '@aws-sdk/client-s3': packageVersion('@aws-sdk/client-s3'),
      'better-sqlite3': packageVersion('better-sqlite3'),
      rclone: rcloneVersion(),
      moto: toolVersion('python3', ['-c', 'import moto; print(moto.__version__)'], /([\d.]+\S*)/),
    },
  };
}
