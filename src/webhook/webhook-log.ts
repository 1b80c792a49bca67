/**
 * Structured logs of a long-running server: one JSON object per line (`at`, `level`, `event`, then
 * fields), or the same as `key=value` text on a terminal. Callers pass sids, statuses and counts,
 * never request bodies, phone numbers or media: fax contents and the people in them stay out of logs.
 * Every string value is scrubbed of known secrets and URL signatures as a second line of defence.
 */
import { redactSecrets } from '../errors.js';

export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface WebhookLog {
  /** Writes one event line; never throws. */
  write(level: LogLevel, event: string, fields?: LogFields): void;
}

export interface LogSink {
  write(line: string): unknown;
}

export function createWebhookLog(options: {
  sink: LogSink;
  format: 'json' | 'text';
  /** Read at each write: the set grows as subaccount tokens are learnt. */
  knownSecrets: () => readonly string[];
  now?: () => Date;
}): WebhookLog {
  const now = options.now ?? (() => new Date());
  return {
    write(level, event, fields = {}) {
      try {
        const secrets = options.knownSecrets();
        const clean: Record<string, string | number | boolean | null> = {};
        for (const [key, value] of Object.entries(fields)) {
          if (value === undefined) continue;
          clean[key] = typeof value === 'string' ? redactSecrets(value, secrets) : value;
        }
        const at = now().toISOString();
        if (options.format === 'json') {
          options.sink.write(`${JSON.stringify({ at, level, event, ...clean })}\n`);
        } else {
          const pairs = Object.entries(clean).map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`);
          options.sink.write(`${at} ${level.toUpperCase().padEnd(5)} ${event}${pairs.length ? ` ${pairs.join(' ')}` : ''}\n`);
        }
      } catch {
        // A log line must never take the server down (e.g. a closed stdout pipe).
      }
    },
  };
}

/** A log that drops everything (tests that do not look at logs). */
export const silentWebhookLog: WebhookLog = { write() {} };
