/**
 * The plan on disk: plan.json (what apply reads and hashes), plan.csv and plan.md (what people read).
 * Each is written atomically; plan.json last, so a folder with a plan.json always has its reviews.
 */
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

export async function writePlanFiles(plan: ReversionPlan, outDir: string): Promise<PlanFilePaths> {
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
  await writeFileAtomic(paths.csv, renderPlanCsv(plan));
  await writeFileAtomic(paths.markdown, renderPlanMarkdown(plan));
  await writeFileAtomic(paths.json, `${JSON.stringify(plan, null, 2)}\n`);
  return paths;
}

export async function readPlanFile(filePath: string): Promise<ReversionPlan> {
  let text: string;
  try {
    text = await fs.readFile(filePath, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${filePath}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${filePath} is not JSON`);
  }
  return parsePlan(json, filePath);
}
