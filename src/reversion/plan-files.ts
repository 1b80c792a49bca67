/**
 * The plan on disk: plan.json (what apply reads and hashes), plan.csv and plan.md (what people read).
 * Each is written atomically; plan.json last, so a folder with a plan.json always has its reviews.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ConfigurationError, UsageError } from '../errors.js';
import { renderPlanCsv, renderPlanMarkdown } from './render-plan.js';
import { parsePlan, type ReversionPlan } from './reversion-plan.js';
import { writeFileAtomic } from './write-file-atomic.js';

export interface PlanFilePaths {
  json: string;
  csv: string;
  markdown: string;
}

/** plan.json's text: what is written, hashed and approved. */
export function planFileText(plan: ReversionPlan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

/** The SHA-256 of a file's bytes, as `sha256sum` prints it. */
export function fileSha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Writes plan.csv, plan.md and plan.json. plan.md shows plan.json's own SHA-256 (the text is
 * fixed before anything is written), so the hash a reviewer approves is the one `sha256sum
 * plan.json` prints and the one `apply --expect-sha256` compares.
 */
export async function writePlanFiles(plan: ReversionPlan, outDir: string): Promise<PlanFilePaths & { fileSha256: string }> {
  try {
    await fs.mkdir(outDir, { recursive: true });
  } catch (error) {
    throw new ConfigurationError(`cannot create ${outDir}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const paths: PlanFilePaths = {
    json: path.join(outDir, 'plan.json'),
    csv: path.join(outDir, 'plan.csv'),
    markdown: path.join(outDir, 'plan.md'),
  };
  const json = planFileText(plan);
  const sha256 = fileSha256(json);
  await writeFileAtomic(paths.csv, renderPlanCsv(plan));
  await writeFileAtomic(paths.markdown, renderPlanMarkdown(plan, sha256));
  await writeFileAtomic(paths.json, json);
  return { ...paths, fileSha256: sha256 };
}

export async function readPlanFile(filePath: string): Promise<ReversionPlan> {
  return (await readPlanFileWithHash(filePath)).plan;
}

/** The plan and the SHA-256 of the file's bytes (what `--expect-sha256` is compared with). */
export async function readPlanFileWithHash(filePath: string): Promise<{ plan: ReversionPlan; fileSha256: string }> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(filePath);
  } catch (error) {
    throw new UsageError(`cannot read ${filePath}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new UsageError(`${filePath} is not JSON`);
  }
  return { plan: parsePlan(json, filePath), fileSha256: fileSha256(bytes) };
}
