/**
 * The torture figures as people read them, and as one JSON line for machines (the closing notes
 * quote these). Violations are listed first-N with a count: thousands of lines help nobody.
 */
import type { TortureReport } from './run-torture.js';

const SHOWN_VIOLATIONS = 40;

export function formatTortureReport(report: TortureReport): string[] {
  const a = report.audit.figures;
  const o = report.options;
  const sum = (values: Record<string, number>) => Object.values(values).reduce((s, n) => s + n, 0);
  const list = (values: Record<string, number>) => Object.entries(values).map(([k, n]) => `${k} ${n}`).join(', ');
  const lines = [
    '',
    'fax-sunset torture',
    `  faxes            ${a.faxes} (${a.withMedia} with media, ${(a.mediaBytes / 1048576).toFixed(1)} MiB) over ${o.subaccounts + 1} accounts, seed ${o.seed}`,
    `  kills            ${report.kills} SIGKILLs (by phase: ${list(report.killsByPhase) || 'none'}) in ${report.runs.length - report.finishRuns} runs`,
    `  finish           ${report.finishRuns} reruns without kills, last exit ${report.finalExitCode}`,
    `  Twilio faults    ${sum(report.emulatorFaults)} injected (${list(report.emulatorFaults)}) over ${report.emulatorRequests} requests; ${report.emulatorThrottled} throttled`,
    `  S3 faults        ${sum(report.s3Faults)} injected on PUT (${list(report.s3Faults)}) over ${report.s3Requests} requests, store ${report.s3Kind}`,
    `  archived         ${a.archived} faxes with a verified copy of the bytes Twilio served`,
    `  deleted          ${a.deleted} from Twilio, ${a.remainingInTwilio} still there`,
    `  lost             ${a.lost}`,
    `  catalog          ${list(a.catalogByState)}; ${a.catalogObjects} objects, ${a.events} events (chain rechecked)`,
    `  store            ${a.storedObjects} fax objects and ${a.anchorObjects} run anchors read back and hashed`,
    `  violations       ${report.violations.length}`,
    ...report.violations.slice(0, SHOWN_VIOLATIONS).map((v) => `    - ${v}`),
    ...(report.violations.length > SHOWN_VIOLATIONS ? [`    ... and ${report.violations.length - SHOWN_VIOLATIONS} more`] : []),
    `  duration         ${(report.durationMs / 1000).toFixed(1)} s${o.keep ? `; work folder kept: ${report.workDir}` : ''}`,
    `  result           ${report.violations.length === 0 ? 'PASS' : 'FAIL'}`,
  ];
  return lines;
}

/** One JSON line with the figures (no secrets: the report holds none). */
export function tortureSummaryJson(report: TortureReport): string {
  return JSON.stringify({
    torture: report.violations.length === 0 ? 'pass' : 'fail',
    faxes: report.audit.figures.faxes,
    kills: report.kills,
    killsByPhase: report.killsByPhase,
    finishRuns: report.finishRuns,
    finalExitCode: report.finalExitCode,
    emulatorFaults: report.emulatorFaults,
    s3Faults: report.s3Faults,
    archived: report.audit.figures.archived,
    deleted: report.audit.figures.deleted,
    remainingInTwilio: report.audit.figures.remainingInTwilio,
    lost: report.audit.figures.lost,
    violations: report.violations.length,
    durationMs: report.durationMs,
  });
}
