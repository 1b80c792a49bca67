/**
 * Twilio credentials come only from the environment, never from flags (flags end up in shell
 * history and process listings).
 */
import { AuthError } from '../errors.js';
import { isSid } from '../sid.js';

export interface TwilioCredentials {
  accountSid: string;
  /** Basic-auth user: the account sid, or an API key sid (SK...). */
  username: string;
  /** Basic-auth password: the auth token or API key secret. A secret: never print it. */
  password: string;
}

export function twilioCredentialsFromEnv(env: NodeJS.ProcessEnv = process.env): TwilioCredentials {
  const accountSid = env.TWILIO_ACCOUNT_SID?.trim();
  if (!accountSid) throw new AuthError('TWILIO_ACCOUNT_SID is not set (and TWILIO_AUTH_TOKEN, or TWILIO_API_KEY + TWILIO_API_SECRET)');
  if (!isSid(accountSid, 'AC')) throw new AuthError('TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits');
  const apiKey = env.TWILIO_API_KEY?.trim();
  const apiSecret = env.TWILIO_API_SECRET?.trim();
  if (apiKey || apiSecret) {
    if (!apiKey || !apiSecret) throw new AuthError('TWILIO_API_KEY and TWILIO_API_SECRET must be set together');
    if (!isSid(apiKey, 'SK')) throw new AuthError('TWILIO_API_KEY must be SK followed by 32 hex digits');
    return { accountSid, username: apiKey, password: apiSecret };
  }
  const authToken = env.TWILIO_AUTH_TOKEN?.trim();
  if (!authToken) throw new AuthError('TWILIO_AUTH_TOKEN is not set (or use TWILIO_API_KEY + TWILIO_API_SECRET)');
  return { accountSid, username: accountSid, password: authToken };
}
