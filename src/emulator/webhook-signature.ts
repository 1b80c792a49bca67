/**
 * `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the account's auth token, over the full URL
 * followed by each POST parameter's key and value, keys sorted (GET: the URL alone, query included).
 */
import { createHmac } from 'node:crypto';

export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, key) => acc + key + params[key], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}
