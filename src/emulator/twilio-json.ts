/**
 * Renders records as Twilio's JSON (snake_case, Twilio's date formats, absolute URLs on the
 * emulator's own origin for the Fax API, relative `uri`s for the 2010 API).
 */
import type { EmulatorAccount, FaxRecord, PhoneNumberRecord } from './emulator-records.js';

/** ISO 8601 without milliseconds, as the Fax API sends it: `2021-06-30T20:00:00Z`. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 2822, as the 2010 API sends it: `Thu, 30 Jul 2015 23:19:04 +0000`. */
export function rfc2822Date(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

export function faxJson(fax: FaxRecord, apiOrigin: string, mediaUrl: string | null): Record<string, unknown> {
  const url = `${apiOrigin}/v1/Faxes/${fax.sid}`;
  return {
    account_sid: fax.accountSid,
    api_version: 'v1',
    date_created: isoDate(fax.createdMs),
    date_updated: isoDate(fax.updatedMs),
    direction: fax.direction,
    duration: fax.duration,
    from: fax.from,
    links: { media: `${url}/Media` },
    // A self-contradicting record (a world flag): one of the two media fields left null.
    media_sid: fax.hiddenMediaField === 'media_sid' ? null : fax.mediaSid,
    media_url: fax.mediaSid && fax.hiddenMediaField !== 'media_url' ? mediaUrl : null,
    num_pages: fax.numPages,
    price: fax.price,
    // No price, no unit: twilio-node's fax fixtures and captured payloads carry "price_unit": null beside "price": null.
    price_unit: fax.price === null ? null : 'USD',
    quality: fax.quality,
    sid: fax.sid,
    status: fax.status,
    to: fax.to,
    url,
  };
}

export function faxMediaJson(fax: FaxRecord, apiOrigin: string): Record<string, unknown> {
  return {
    account_sid: fax.accountSid,
    content_type: fax.contentType,
    date_created: isoDate(fax.createdMs),
    date_updated: isoDate(fax.updatedMs),
    fax_sid: fax.sid,
    sid: fax.mediaSid,
    url: `${apiOrigin}/v1/Faxes/${fax.sid}/Media/${fax.mediaSid}`,
  };
}

/** `withToken` false: an API key asked, and Twilio lists accounts to a key with an empty auth_token. */
export function accountJson(account: EmulatorAccount, withToken = true): Record<string, unknown> {
  const base = `/2010-04-01/Accounts/${account.sid}`;
  return {
    auth_token: withToken ? account.authToken : '',
    date_created: rfc2822Date(account.createdMs),
    date_updated: rfc2822Date(account.createdMs),
    friendly_name: account.friendlyName,
    owner_account_sid: account.ownerAccountSid,
    sid: account.sid,
    status: account.status,
    subresource_uris: {
      incoming_phone_numbers: `${base}/IncomingPhoneNumbers.json`,
    },
    type: 'Full',
    uri: `${base}.json`,
  };
}

/**
 * Unset strings: Twilio sent "" or null (twilio-fax-api.md); the emulator sends null, the form
 * that also validates against the spec's sid patterns and uri formats.
 */
const orNull = (value: string) => (value === '' ? null : value);

export function phoneNumberJson(n: PhoneNumberRecord): Record<string, unknown> {
  return {
    account_sid: n.accountSid,
    address_requirements: 'none',
    address_sid: null,
    api_version: '2010-04-01',
    beta: false,
    bundle_sid: null,
    capabilities: { fax: true, mms: true, sms: true, voice: true },
    date_created: rfc2822Date(n.createdMs),
    date_updated: rfc2822Date(n.updatedMs),
    emergency_address_sid: null,
    emergency_address_status: 'unregistered',
    emergency_status: 'Inactive',
    friendly_name: n.friendlyName,
    identity_sid: null,
    origin: 'twilio',
    phone_number: n.phoneNumber,
    sid: n.sid,
    sms_application_sid: null,
    sms_fallback_method: 'POST',
    sms_fallback_url: null,
    sms_method: 'POST',
    sms_url: orNull(n.smsUrl),
    status: 'in-use',
    status_callback: orNull(n.statusCallback),
    status_callback_method: 'POST',
    trunk_sid: null,
    uri: `/2010-04-01/Accounts/${n.accountSid}/IncomingPhoneNumbers/${n.sid}.json`,
    voice_application_sid: orNull(n.voiceApplicationSid),
    voice_caller_id_lookup: false,
    voice_fallback_method: n.voiceFallbackMethod,
    voice_fallback_url: orNull(n.voiceFallbackUrl),
    voice_method: n.voiceMethod,
    voice_receive_mode: n.voiceReceiveMode,
    voice_url: orNull(n.voiceUrl),
  };
}
