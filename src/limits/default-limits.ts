/**
 * How hard fax-sunset presses on Twilio unless told otherwise: the one place these numbers live (the
 * flag table's defaults and a gateway built without flags both read them).
 *
 * Media downloads at once: 16, not 8 (issue 14 §4 found both). 16 is the archive's default
 * `--workers`, so every fax in flight can have its download running instead of half of them waiting
 * on the cap; media comes from Twilio's media host, which the request limiter (--rps, --concurrency)
 * does not pace, so this cap is the only thing bounding those connections, and 16 sockets is still
 * a modest load for it.
 */
export const DEFAULT_LIMITS = {
  /** Twilio API requests per second (token bucket), `--rps`. */
  ratePerSecond: 50,
  /** Twilio API requests in flight at once, `--concurrency`. */
  concurrency: 8,
  /** Media downloads in flight at once, `--media-concurrency`. */
  mediaConcurrency: 16,
} as const;
