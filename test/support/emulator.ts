/**
 * Start the Twilio emulator in-process on free ports for a test file:
 *
 *   const emu = await startTestEmulator({ faxes: 50 });
 *   afterAll(() => emu.close());
 *   // emu.url, emu.mediaUrl, emu.accountSid, emu.authToken, emu.env, emu.emulator.stats() ...
 *
 * `env` holds what the CLI reads (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, FAX_SUNSET_TWILIO_URL), for
 * spawning `fax-sunset` against the emulator. Defaults are small (50 faxes, 4 numbers, 1 subaccount).
 */
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';

export interface TestEmulator {
  emulator: RunningEmulator;
  url: string;
  mediaUrl: string;
  /** The main account. */
  accountSid: string;
  authToken: string;
  /** The main account's API key. */
  apiKeySid: string;
  apiKeySecret: string;
  env: { TWILIO_ACCOUNT_SID: string; TWILIO_AUTH_TOKEN: string; FAX_SUNSET_TWILIO_URL: string };
  /** Basic auth header value for the main account (or another account's sid/token). */
  basicAuth(sid?: string, token?: string): string;
  close(): Promise<void>;
}

export async function startTestEmulator(options: EmulatorOptions = {}): Promise<TestEmulator> {
  const emulator = await startEmulator({ faxes: 50, numbers: 4, accounts: 1, ...options, port: 0, mediaPort: 0 });
  const { sid, authToken } = emulator.mainAccount;
  const key = emulator.apiKeys[0];
  if (!key) throw new Error('emulator started without an API key');
  return {
    emulator,
    url: emulator.url,
    mediaUrl: emulator.mediaUrl,
    accountSid: sid,
    authToken,
    apiKeySid: key.sid,
    apiKeySecret: key.secret,
    env: { TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: authToken, FAX_SUNSET_TWILIO_URL: emulator.url },
    basicAuth: (user = sid, password = authToken) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64'),
    close: () => emulator.close(),
  };
}
