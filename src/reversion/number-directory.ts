/**
 * The reversion's view of Twilio's accounts and incoming phone numbers: four calls, plain data.
 * Implemented by `HelperLibraryNumberDirectory` (the `twilio` helper library's 2010 resources, every
 * call through the shared limiter); the use cases (plan, apply, rollback) see only this interface.
 */
import type { AccountSummary } from './reversion-plan.js';
import type { IncomingNumber, VoiceUpdate } from './voice-state.js';

export interface NumberDirectory {
  /** The account the credentials act for (AC...). */
  readonly accountSid: string;

  /**
   * The main account, first, plus (when `includeSubaccounts`) every subaccount it owns that is not
   * closed. Throws AuthError when the credentials are refused.
   */
  listAccounts(includeSubaccounts: boolean): Promise<AccountSummary[]>;

  /** Every incoming number of one account, all pages. Read-only; may be called again at any time. */
  listNumbers(accountSid: string): Promise<IncomingNumber[]>;

  /** The number as it is now. Throws ExternalServiceError (status 404, not retryable) when it is gone. */
  fetchNumber(accountSid: string, sid: string): Promise<IncomingNumber>;

  /**
   * Writes exactly the fields in `update` ("" clears one) and returns what Twilio answered. Idempotent:
   * writing the same values twice leaves the number as after the first. Callers re-fetch to confirm.
   */
  updateNumber(accountSid: string, sid: string, update: VoiceUpdate): Promise<IncomingNumber>;
}
