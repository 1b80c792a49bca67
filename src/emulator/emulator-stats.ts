/** Counters the control surface reports (`GET /_emulator/stats`), for tests and benchmarks. */
import type { FaultKind } from './emulator-options.js';

export interface EmulatorStatsSnapshot {
  /** Requests per route, e.g. `"GET /v1/Faxes": 12` (429s and faults included). */
  requests: Record<string, number>;
  requestsTotal: number;
  /** 429 answers sent (concurrency or rate limit). */
  throttled: number;
  /** Highest number of API requests in flight at once. */
  peakInFlight: number;
  faults: Record<FaultKind, number>;
  mediaRequests: number;
  /** Body bytes written by the media host (a truncated body counts what was sent). */
  mediaBytesServed: number;
  /** Faxes left per account sid. */
  faxesLeft: Record<string, number>;
  /** Faxes deleted through the API since start-up or the last reset. */
  faxesDeleted: number;
}

export class EmulatorStats {
  requests: Record<string, number> = {};
  requestsTotal = 0;
  throttled = 0;
  peakInFlight = 0;
  faults: Record<FaultKind, number> = { '500': 0, '503': 0, reset: 0, truncate: 0, corrupt: 0, slow: 0 };
  mediaRequests = 0;
  mediaBytesServed = 0;
  faxesDeleted = 0;

  countRequest(route: string): void {
    this.requests[route] = (this.requests[route] ?? 0) + 1;
    this.requestsTotal++;
  }

  reset(): void {
    this.requests = {};
    this.requestsTotal = 0;
    this.throttled = 0;
    this.peakInFlight = 0;
    this.faults = { '500': 0, '503': 0, reset: 0, truncate: 0, corrupt: 0, slow: 0 };
    this.mediaRequests = 0;
    this.mediaBytesServed = 0;
    this.faxesDeleted = 0;
  }

  snapshot(faxesLeft: Record<string, number>): EmulatorStatsSnapshot {
    return {
      requests: { ...this.requests },
      requestsTotal: this.requestsTotal,
      throttled: this.throttled,
      peakInFlight: this.peakInFlight,
      faults: { ...this.faults },
      mediaRequests: this.mediaRequests,
      mediaBytesServed: this.mediaBytesServed,
      faxesLeft,
      faxesDeleted: this.faxesDeleted,
    };
  }
}
