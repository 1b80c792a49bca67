/**
 * Twilio's retention, the one rule (issue 14 §6): Twilio prunes fax records and media 180 days
 * after creation, and a fax not archived within the at-risk margin of that date is named at risk
 * (and archived first). The run, the dry-run listing, the report and the flags' defaults read it here.
 */

/** Twilio prunes fax records and media this many days after creation. */
export const TWILIO_RETENTION_DAYS = 180;
/** A fax this close to pruning and not archived is "at risk" (the default of --at-risk-days). */
export const AT_RISK_MARGIN_DAYS = 14;

const DAY_MS = 86_400_000;

/** The instant (ms) before which a fax created is within `marginDays` of Twilio's pruning at `now`. */
export function atRiskCutoffMs(now: Date, marginDays: number = AT_RISK_MARGIN_DAYS): number {
  return now.getTime() - (TWILIO_RETENTION_DAYS - marginDays) * DAY_MS;
}

/** Whole days from `now` until Twilio prunes a fax created at `createdMs` (floor; negative when past). */
export function daysUntilPrunedMs(createdMs: number, now: Date): number {
  return Math.floor((createdMs + TWILIO_RETENTION_DAYS * DAY_MS - now.getTime()) / DAY_MS);
}
