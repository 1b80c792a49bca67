/**
 * Is this request from Twilio? `X-Twilio-Signature` is base64 HMAC-SHA1, keyed with the auth
 * token of the account the request is for, over the full URL Twilio called plus each POST
 * parameter (keys sorted). Checked with the library's `validateRequest`, which also tries the URL
 * with and without its default port, as Twilio's own servers have signed both ways.
 */
import twilio from 'twilio';
import { isSid } from '../sid.js';
import type { AccountDirectory } from '../twilio/account-directory.js';
import type { WebhookParams } from './form-body.js';

export type SignatureVerdict =
  | { ok: true; accountSid: string }
  | { ok: false; reason: 'missing-signature' | 'missing-account' | 'unknown-account' | 'invalid-signature'; accountSid: string | null };

export interface SignedRequest {
  /** The X-Twilio-Signature header, if any. */
  signature: string | undefined;
  /** The URL Twilio called (see public-url.ts), query string included. */
  url: string;
  /** POST parameters; empty for GET (its parameters are in the signed URL). */
  bodyParams: WebhookParams;
  /** The AccountSid parameter (from the body, or the query string of a GET). */
  accountSid: string | undefined;
}

/** Pure: whether `signature` is Twilio's signature of `url` + `params` under `authToken`. */
export function isValidTwilioSignature(authToken: string, signature: string, url: string, params: WebhookParams): boolean {
  return twilio.validateRequest(authToken, signature, url, params);
}

export async function checkSignature(directory: AccountDirectory, request: SignedRequest): Promise<SignatureVerdict> {
  const accountSid = isSid(request.accountSid, 'AC') ? request.accountSid : null;
  if (!request.signature) return { ok: false, reason: 'missing-signature', accountSid };
  if (!accountSid) return { ok: false, reason: 'missing-account', accountSid };
  const token = await directory.authTokenFor(accountSid);
  if (!token) return { ok: false, reason: 'unknown-account', accountSid };
  if (!isValidTwilioSignature(token, request.signature, request.url, request.bodyParams)) {
    return { ok: false, reason: 'invalid-signature', accountSid };
  }
  return { ok: true, accountSid };
}
