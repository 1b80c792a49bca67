/**
 * What the emulated Twilio account holds before the torture starts: every fax's sid, account and
 * media hash. The hashes come from a fault-free twin emulator built from the same seed (the
 * emulator is deterministic: same sids, same media bytes), because fetching through the tortured
 * emulator would meet its injected faults (a corrupt body would poison the very reference the audit
 * checks against) and would shift its fault sequence.
 */
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { startEmulator, type EmulatorOptions } from '../../src/emulator/index.js';

export interface SnapshotFax {
  sid: string;
  accountSid: string;
  /** Twilio lists a media URL for it (otherwise it is archived metadata-only). */
  hasMedia: boolean;
  /** SHA-256 (hex) of the media bytes; null without media. */
  sha256Hex: string | null;
  size: number | null;
  contentType: string | null;
  /** Twilio's date_created (the listing ledger must cover it). */
  dateCreated?: string | null;
}

export interface FaxSnapshot {
  faxes: SnapshotFax[];
  /** Sum of media sizes. */
  mediaBytes: number;
}

/** Options that change the generated world; everything else (faults, limits, ports) is the twin's own. */
export type WorldOptions = Pick<EmulatorOptions, 'faxes' | 'numbers' | 'accounts' | 'seed' | 'now'>;

export async function takeFaxSnapshot(world: WorldOptions, options: { concurrency?: number } = {}): Promise<FaxSnapshot> {
  const twin = await startEmulator({ ...world, port: 0, mediaPort: 0, faultRate: 0 });
  try {
    const limit = pLimit(options.concurrency ?? 8);
    const faxes = await Promise.all(
      twin.faxes().map((fax) =>
        limit(async (): Promise<SnapshotFax> => {
          const sid = String(fax.sid);
          const accountSid = String(fax.account_sid);
          const dateCreated = typeof fax.date_created === 'string' ? fax.date_created : null;
          const mediaUrl = typeof fax.media_url === 'string' && fax.media_url !== '' ? fax.media_url : null;
          if (!mediaUrl) return { sid, accountSid, dateCreated, hasMedia: false, sha256Hex: null, size: null, contentType: null };
          const media = await hashMedia(mediaUrl);
          return { sid, accountSid, dateCreated, hasMedia: true, ...media };
        }),
      ),
    );
    return { faxes, mediaBytes: faxes.reduce((sum, f) => sum + (f.size ?? 0), 0) };
  } finally {
    await twin.close();
  }
}

async function hashMedia(url: string): Promise<{ sha256Hex: string; size: number; contentType: string | null }> {
  // The media host refuses a request without a User-Agent, like Twilio's.
  const response = await fetch(url, { headers: { 'user-agent': 'fax-sunset-torture-snapshot' } });
  if (response.status !== 200 || !response.body) throw new Error(`snapshot: media host answered ${response.status} for a fault-free twin`);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of response.body) {
    hash.update(chunk);
    size += chunk.length;
  }
  const expected = Number(response.headers.get('content-length'));
  if (Number.isFinite(expected) && expected !== size) throw new Error(`snapshot: media body ${size} bytes, Content-Length ${expected}`);
  return { sha256Hex: hash.digest('hex'), size, contentType: response.headers.get('content-type') };
}
