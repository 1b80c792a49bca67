/**
 * The audit of the listing ledger (issue 11 §3), over raw rows of `listing_sweeps` and the faxes
 * Twilio had, without the project's catalog code: after a clean finish every account's last sweep
 * completed, no sweep is left unfinished, and the contiguous coverage by completed sweeps (from the
 * beginning, each ending at its own start or upper bound) reaches every fax the account had.
 */

/** One row of `listing_sweeps`, as read with raw SQL. */
export interface ListingSweepFact {
  id: number;
  accountSid: string;
  startedAt: string;
  rangeAfter: string | null;
  rangeOnOrBefore: string | null;
  completedAt: string | null;
}

export interface LedgerAuditInput {
  sweeps: readonly ListingSweepFact[];
  /** The faxes Twilio had at the start: account and date_created (ISO 8601; null when unknown). */
  faxes: readonly { sid: string; accountSid: string; dateCreated?: string | null }[];
  finishedClean: boolean;
}

export function listingLedgerViolations(input: LedgerAuditInput): string[] {
  const violations: string[] = [];
  const byAccount = new Map<string, ListingSweepFact[]>();
  for (const sweep of input.sweeps) byAccount.set(sweep.accountSid, [...(byAccount.get(sweep.accountSid) ?? []), sweep]);
  const accounts = new Set(input.faxes.map((f) => f.accountSid));
  for (const account of accounts) {
    const sweeps = (byAccount.get(account) ?? []).sort((a, b) => a.id - b.id);
    if (sweeps.length === 0) {
      violations.push(`ledger: account ${account} has faxes but no listing sweep`);
      continue;
    }
    if (!input.finishedClean) continue;
    const last = sweeps[sweeps.length - 1]!;
    if (last.completedAt === null) violations.push(`ledger: the last listing sweep (#${last.id}) of ${account} did not complete`);
    const open = sweeps.filter((s) => s.completedAt === null).map((s) => `#${s.id}`);
    if (open.length > 0) violations.push(`ledger: ${account} has unfinished listing sweeps after a clean finish: ${open.join(', ')}`);
    const coverage = contiguousCoverage(sweeps);
    if (coverage === null) {
      violations.push(`ledger: ${account} was never listed completely from the beginning`);
      continue;
    }
    const outside = input.faxes.filter((f) => f.accountSid === account && f.dateCreated && Date.parse(f.dateCreated) > coverage);
    if (outside.length > 0) {
      violations.push(`ledger: ${outside.length} faxes of ${account} lie after its complete listing (${new Date(coverage).toISOString()}), e.g. ${outside[0]!.sid}`);
    }
  }
  return violations;
}

/** The end (ms) of the run of completed sweeps from the beginning; null when none starts there. */
function contiguousCoverage(sweeps: readonly ListingSweepFact[]): number | null {
  const completed = sweeps
    .filter((s) => s.completedAt !== null)
    .map((s) => {
      const started = Date.parse(s.startedAt);
      const upper = s.rangeOnOrBefore === null ? started : Math.min(started, Date.parse(s.rangeOnOrBefore));
      return { after: s.rangeAfter === null ? -Infinity : Date.parse(s.rangeAfter), upper };
    })
    .sort((a, b) => a.after - b.after);
  let reach: number | null = null;
  for (const s of completed) {
    if (s.after === -Infinity || (reach !== null && s.after <= reach)) reach = reach === null ? s.upper : Math.max(reach, s.upper);
  }
  return reach;
}
