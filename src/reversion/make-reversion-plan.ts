/**
 * `numbers plan`: lists the numbers of the account (and its subaccounts) and hands them to the pure
 * `buildReversionPlan`. Accounts are listed one after another: a plan is a few requests per account,
 * and the gate under the directory already paces them.
 */
import type { NumberDirectory } from './number-directory.js';
import { buildReversionPlan, type ReversionPlan } from './reversion-plan.js';
import type { IncomingNumber } from './voice-state.js';
import type { VoiceTargets } from './voice-targets.js';

export interface MakePlanOptions {
  subaccounts: boolean;
  keepVoiceUrl: boolean;
  deadline: string;
  mapFile?: string | null;
  now?: Date;
}

export async function makeReversionPlan(directory: NumberDirectory, targets: VoiceTargets, options: MakePlanOptions): Promise<ReversionPlan> {
  const accounts = await directory.listAccounts(options.subaccounts);
  const numbers: IncomingNumber[] = [];
  for (const account of accounts) numbers.push(...(await directory.listNumbers(account.sid)));
  return buildReversionPlan(numbers, targets, {
    accounts,
    subaccounts: options.subaccounts,
    keepVoiceUrl: options.keepVoiceUrl,
    createdAt: options.now ?? new Date(),
    deadline: options.deadline,
    mapFile: options.mapFile ?? null,
  });
}
