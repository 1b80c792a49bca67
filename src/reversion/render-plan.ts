/**
 * The plan as a person reviews it (plan.md: warnings first, counts, the deadline, every change) and
 * as a spreadsheet (plan.csv, one row per number). Pure: text in, text out.
 */
import { stringify } from 'csv-stringify/sync';
import { neutralizeSpreadsheetCell } from '../spreadsheet-cell.js';
import { markdownText } from './markdown-text.js';
import { maskCredentialsInText } from './mask-url-credentials.js';
import { daysUntilDeadline, type ReversionPlan } from './reversion-plan.js';
import type { VoiceState, VoiceUpdate } from './voice-state.js';

/** One sentence about the deadline as of `now`, saying plainly when it has passed. */
export function describeDeadline(deadline: string, now: Date): string {
  const days = daysUntilDeadline(deadline, now);
  if (days > 0) return `${days} day${days === 1 ? '' : 's'} left until the deadline ${deadline}.`;
  if (days === 0) return `The deadline ${deadline} is TODAY.`;
  return `The deadline ${deadline} has PASSED (${-days} day${days === -1 ? '' : 's'} ago): fax numbers may already be unreachable; revert now.`;
}

/**
 * `fileSha256` is the SHA-256 of plan.json's bytes, the hash a reviewer approves and an auditor
 * recomputes with `sha256sum plan.json` (issue 17). Without it (a plan not on disk) the plan's
 * content hash stands in.
 */
export function renderPlanMarkdown(plan: ReversionPlan, fileSha256: string = plan.sha256): string {
  const now = new Date(plan.createdAt);
  const lines: string[] = [];
  const { counts } = plan;
  lines.push('# Number reversion plan: fax back to voice', '');
  lines.push(`**${describeDeadline(plan.deadline, now)}**`, '');
  lines.push(`Made ${plan.createdAt} over ${counts.accounts} account${counts.accounts === 1 ? '' : 's'}${plan.options.subaccounts ? ' (main and subaccounts)' : ''}.`);
  lines.push(`Plan SHA-256: \`${fileSha256}\``, '');
  lines.push('(the SHA-256 of plan.json itself: `sha256sum plan.json` prints the same)', '');

  const numberWarnings = plan.changes.flatMap((change) => change.warnings.map((warning) => `${change.phoneNumber} (${change.sid}): ${warning}`));
  const refused = plan.reported.filter((r) => r.refused);
  lines.push('## Warnings', '');
  if (plan.warnings.length + numberWarnings.length + refused.length === 0) lines.push('None.');
  for (const warning of plan.warnings) lines.push(`- **${md(warning)}**`);
  for (const r of refused) lines.push(`- REFUSED ${md(r.phoneNumber)} (${md(r.sid)}, account ${md(r.accountSid)}): ${md(r.detail)}`);
  for (const warning of numberWarnings) lines.push(`- ${md(warning)}`);
  lines.push('');

  lines.push('## Counts', '', '| | numbers |', '|---|---:|');
  const rows: [string, number][] = [
    ['accounts', counts.accounts],
    ['numbers listed', counts.numbersListed],
    ['in fax mode', counts.faxMode],
    ['**to change to voice**', counts.toChange],
    ['of which keep the fax URL (flagged)', counts.keptFaxUrl],
    ['of which carry warnings', counts.withWarnings],
    ['**refused** (no safe voice destination)', counts.refused],
    ['fax mode, no voice capability (reported)', counts.noVoiceCapability],
    ['fax mode, on a trunk (reported)', counts.trunk],
    ['already in voice mode', counts.alreadyVoice],
  ];
  for (const [label, value] of rows) lines.push(`| ${label} | ${value} |`);
  lines.push('');

  lines.push(`## Changes (${plan.changes.length})`, '');
  if (plan.changes.length === 0) lines.push('Nothing to change.');
  else {
    lines.push('| account | number | sid | now | after | warnings |', '|---|---|---|---|---|---|');
    for (const change of plan.changes) {
      lines.push(`| ${md(change.accountSid)} | ${md(change.phoneNumber)} | ${md(change.sid)} | ${md(describeState(change.before))} | ${md(describeUpdate(change.change))} | ${change.warnings.length} |`);
    }
  }
  lines.push('');

  lines.push(`## Not changed (${plan.reported.length})`, '');
  if (plan.reported.length === 0) lines.push('None.');
  else {
    lines.push('| account | number | sid | reason | detail |', '|---|---|---|---|---|');
    for (const r of plan.reported) lines.push(`| ${md(r.accountSid)} | ${md(r.phoneNumber)} | ${md(r.sid)} | ${r.refused ? '**REFUSED** ' : ''}${md(r.reason)} | ${md(r.detail)} |`);
  }
  lines.push('');

  lines.push('## To approve', '');
  lines.push('Check the warnings and the changes above, then run:', '');
  lines.push('```', `fax-sunset numbers apply plan.json --expect-sha256 ${fileSha256} --dry-run`, `fax-sunset numbers apply plan.json --expect-sha256 ${fileSha256}`, '```', '');
  lines.push('Apply writes rollback.json beside the plan as it goes; `fax-sunset numbers rollback rollback.json` undoes it.', '');
  return lines.join('\n');
}

const CSV_COLUMNS = [
  'account_sid', 'number_sid', 'phone_number', 'friendly_name', 'action', 'reason',
  'before_voice_receive_mode', 'before_voice_url', 'before_voice_method', 'before_voice_application_sid', 'before_voice_fallback_url', 'before_trunk_sid',
  'new_voice_receive_mode', 'new_voice_url', 'new_voice_method', 'new_voice_application_sid', 'warnings',
] as const;

export function renderPlanCsv(plan: ReversionPlan): string {
  const records: string[][] = [];
  for (const change of plan.changes) {
    records.push(row({ ...change, action: 'change', reason: change.destination, update: change.change, warnings: change.warnings.join(' | ') }));
  }
  for (const r of plan.reported) {
    records.push(row({ ...r, action: r.refused ? 'refused' : 'report', reason: r.reason, update: {}, warnings: r.detail }));
  }
  return stringify(records, { header: true, columns: [...CSV_COLUMNS] });
}

function row(input: {
  accountSid: string; sid: string; phoneNumber: string; friendlyName: string | null; action: string; reason: string;
  before: VoiceState; update: VoiceUpdate; warnings: string;
}): string[] {
  const { before, update } = input;
  return [
    cell(input.accountSid), cell(input.sid), cell(input.phoneNumber), cell(input.friendlyName), cell(input.action), cell(input.reason),
    cell(before.voiceReceiveMode), cell(before.voiceUrl), cell(before.voiceMethod), cell(before.voiceApplicationSid), cell(before.voiceFallbackUrl), cell(before.trunkSid),
    cell(update.voiceReceiveMode), cell(update.voiceUrl), cell(update.voiceMethod), cell(update.voiceApplicationSid), cell(input.warnings),
  ];
}

/** Every cell: credentials in URLs masked (plan.json keeps them), then the project's one formula rule. */
function cell(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return neutralizeSpreadsheetCell(maskCredentialsInText(value));
}

function describeState(state: VoiceState): string {
  const parts = [`mode ${state.voiceReceiveMode ?? 'unset'}`];
  if (state.voiceUrl) parts.push(`url ${state.voiceUrl}${state.voiceMethod ? ` (${state.voiceMethod})` : ''}`);
  if (state.voiceApplicationSid) parts.push(`app ${state.voiceApplicationSid}`);
  return parts.join(', ');
}

function describeUpdate(update: VoiceUpdate): string {
  const parts = [`mode ${update.voiceReceiveMode ?? '(unchanged)'}`];
  if (update.voiceUrl !== undefined) parts.push(`url ${update.voiceUrl || '(cleared)'}${update.voiceMethod ? ` (${update.voiceMethod})` : ''}`);
  if (update.voiceApplicationSid !== undefined) parts.push(`app ${update.voiceApplicationSid || '(cleared)'}`);
  if (update.voiceUrl === undefined && update.voiceApplicationSid === undefined) parts.push('voice URL unchanged (KEEPS FAX URL)');
  return parts.join(', ');
}

/** Data as Markdown text: credentials in URLs masked, markup and HTML escaped, one line. */
function md(text: string): string {
  return markdownText(maskCredentialsInText(text));
}
