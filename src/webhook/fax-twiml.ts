/**
 * The two answers to a number's FaxUrl (seed 001, "TwiML fax verbs"), built with the `twilio`
 * library so attribute names and escaping are Twilio's own. Verb and attribute names are case
 * sensitive; TwiML with neither verb fails the fax (error 34106), so every answer has exactly one.
 */
import twilio from 'twilio';

export type WebhookMode = 'receive' | 'reject';
export type FaxMediaType = 'application/pdf' | 'image/tiff';
export type FaxPageSize = 'letter' | 'legal' | 'a4';

export const WEBHOOK_MODES: readonly WebhookMode[] = ['receive', 'reject'];
export const FAX_MEDIA_TYPES: readonly FaxMediaType[] = ['application/pdf', 'image/tiff'];
export const FAX_PAGE_SIZES: readonly FaxPageSize[] = ['letter', 'legal', 'a4'];

export interface ReceiveSettings {
  /** Absolute URL Twilio calls when the fax has been received (or failed). */
  actionUrl: string;
  mediaType: FaxMediaType;
  pageSize: FaxPageSize;
  /** false: Twilio keeps no media, so the archive of that fax is metadata only. */
  storeMedia: boolean;
}

/** `<Response><Receive action=... method="POST" mediaType=... pageSize=... storeMedia=.../></Response>` */
export function receiveTwiml(settings: ReceiveSettings): string {
  const response = new twilio.twiml.FaxResponse();
  response.receive({
    action: settings.actionUrl,
    method: 'POST',
    mediaType: settings.mediaType,
    pageSize: settings.pageSize,
    storeMedia: settings.storeMedia,
  });
  return response.toString();
}

/**
 * `<Response><Reject/></Response>`: the fax is refused and ends `canceled`. The library's
 * FaxResponse has no reject() method, so the verb is added as a plain child element.
 */
export function rejectTwiml(): string {
  const response = new twilio.twiml.FaxResponse();
  response.addChild('Reject', {});
  return response.toString();
}

/** The answer to an action callback: nothing more to do. */
export function emptyTwiml(): string {
  return new twilio.twiml.FaxResponse().toString();
}
