/**
 * What every bench scenario reports: its figures, the target it is judged against and whether it
 * met it. Pure functions only (tested in test/bench without timing anything).
 */

/** A figure is a number (rates, seconds, bytes, counts) or a short text (a version, an N). */
export type Figure = number | string | null;

export interface ScenarioResult {
  scenario: string;
  figures: Record<string, Figure>;
  /** The target in words, e.g. "ratio >= 0.9 and 0 failed". */
  target: string;
  /** null when the scenario has no target (a figure that is only reported) or could not run. */
  pass: boolean | null;
  notes: string[];
}

/** value / bound, rounded; null when either is missing or the bound is not positive. */
export function ratio(value: number | null, bound: number | null, digits = 3): number | null {
  if (value === null || bound === null || !Number.isFinite(value) || !Number.isFinite(bound) || bound <= 0) return null;
  return round(value / bound, digits);
}

/** Items per second over a duration in milliseconds; null for a duration that cannot be divided by. */
export function perSecond(items: number, durationMs: number, digits = 1): number | null {
  if (!(durationMs > 0) || !Number.isFinite(items)) return null;
  return round((items * 1000) / durationMs, digits);
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function mebibytes(bytes: number | null, digits = 1): number | null {
  return bytes === null ? null : round(bytes / (1024 * 1024), digits);
}

/**
 * The rate-limit bound: a server admitting `rps` requests per second with a bucket of `burst` tokens
 * (full at the start) admits at most burst + rps * T requests in T seconds; at q API requests per
 * fax no client can finish more than that / q faxes in T, i.e. (rps + burst / T) / q faxes per second.
 */
export function rateLimitBound(rps: number, apiRequests: number, faxes: number, burst = 0, windowMs = Number.POSITIVE_INFINITY): number | null {
  if (!(rps > 0) || !(faxes > 0) || !(apiRequests > 0) || !(windowMs > 0)) return null;
  const perSecondAdmitted = rps + (Number.isFinite(windowMs) ? (burst * 1000) / windowMs : 0);
  return perSecondAdmitted / (apiRequests / faxes);
}

/**
 * "Flat" memory: the larger run's peak may grow by at most `slack` (a fraction) over the smaller run's,
 * and stay under `ceilingBytes`. A run that did not report a peak cannot pass.
 */
export function memoryVerdict(
  smallPeakBytes: number | null,
  largePeakBytes: number | null,
  ceilingBytes: number,
  slack = 0.5,
): { flat: boolean; underCeiling: boolean; pass: boolean } {
  if (smallPeakBytes === null || largePeakBytes === null) return { flat: false, underCeiling: false, pass: false };
  const flat = largePeakBytes <= smallPeakBytes * (1 + slack);
  const underCeiling = largePeakBytes < ceilingBytes;
  return { flat, underCeiling, pass: flat && underCeiling };
}

/** A scenario that threw: reported as a failed line with the reason, so the other scenarios still run. */
export function crashedScenario(scenario: string, target: string, error: unknown): ScenarioResult {
  const message = error instanceof Error ? error.message : String(error);
  return { scenario, figures: {}, target, pass: false, notes: [`did not complete: ${message.split('\n')[0]}`] };
}
