/**
 * The emulator as the bench uses it: in the bench's own process (so the archiver child is measured
 * alone), every fax in the main account, stopped at cleanup. `cliEnv` is what the CLI reads.
 */
import { startEmulator, DEFAULT_EMULATOR_NOW, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import type { BenchCleanup } from './bench-cleanup.js';

export interface BenchEmulator {
  emulator: RunningEmulator;
  cliEnv: Record<string, string>;
  /** `--now` for archive/sync, so Twilio's 180-day retention is measured on the emulator's clock. */
  nowFlag: string;
}

export async function startBenchEmulator(options: EmulatorOptions, cleanup: BenchCleanup): Promise<BenchEmulator> {
  const emulator = await startEmulator({ numbers: 3, accounts: 0, ...options, port: 0, mediaPort: 0 });
  cleanup.add('close emulator', () => emulator.close());
  const { sid, authToken } = emulator.mainAccount;
  return {
    emulator,
    cliEnv: { TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: authToken, FAX_SUNSET_TWILIO_URL: emulator.url },
    nowFlag: (options.now ?? DEFAULT_EMULATOR_NOW).toISOString(),
  };
}

/** Faxes that carry media (delivered/received), i.e. media files an archive must move. */
export function faxesWithMedia(emulator: RunningEmulator): number {
  return emulator.faxes().filter((f) => typeof f.media_url === 'string' && f.media_url !== '').length;
}
