/**
 * The inbound fax flow from the seed documents. A control call delivers a fax to a number:
 * 1. a number in voice mode takes no fax (nothing is created);
 * 2. otherwise Twilio POSTs (or GETs, per voice_method) the signed webhook to the number's
 *    voice_url (its FaxUrl) with FaxSid, AccountSid, From, To, ApiVersion;
 * 3. the TwiML reply decides: <Receive> creates a `received` fax (media unless storeMedia="false")
 *    and then calls its action URL with the documented parameters; <Reject> leaves a `canceled`
 *    fax; anything else (or an unreachable webhook) leaves a `failed` one (34106 / 11200).
 * Cookies and GET caching (also in the seeds) are not emulated; redirects are followed (fetch does).
 */
import type { EmulatorContext } from './emulator-context.js';
import { mediaUrlFor } from './emulator-context.js';
import type { FaxQuality, FaxRecord, FaxStatus } from './emulator-records.js';
import { SeededRandom } from './seeded-random.js';
import { parseFaxTwiml, type ReceiveVerb } from './twiml-reply.js';
import { twilioSignature } from './webhook-signature.js';
import { priceFor, randomE164 } from './world-generator.js';

export interface InboundFaxInput {
  /** The number called (E.164); must be one of the emulator's numbers. */
  to: string;
  /** The caller; default a random E.164 number. */
  from?: string;
  numPages?: number;
  quality?: FaxQuality;
  remoteStationId?: string;
  /** Simulate a transmission that breaks off after <Receive>: the fax ends `failed` (34107). */
  transmissionFails?: boolean;
}

export interface WebhookCall {
  url: string;
  method: 'GET' | 'POST';
  /** HTTP status, or 0 when the request failed (refused, timeout). */
  status: number;
}

export interface InboundFaxResult {
  outcome: 'received' | 'rejected' | 'failed' | 'voice-mode' | 'unknown-number';
  faxSid: string | null;
  status: FaxStatus | null;
  errorCode: number | null;
  errorMessage: string | null;
  webhook: WebhookCall | null;
  action: WebhookCall | null;
}

const WEBHOOK_TIMEOUT_MS = 15_000;

async function callWebhook(
  url: string,
  method: 'GET' | 'POST',
  params: Record<string, string>,
  authToken: string,
): Promise<{ call: WebhookCall; body: string }> {
  let target = url;
  if (method === 'GET') {
    const u = new URL(url);
    for (const [k, v] of Object.entries(params)) u.searchParams.append(k, v);
    target = u.href;
  }
  const signature = twilioSignature(authToken, target, method === 'POST' ? params : {});
  try {
    const response = await fetch(target, {
      method,
      headers: {
        'X-Twilio-Signature': signature,
        'User-Agent': 'TwilioProxy/1.1',
        Accept: '*/*',
        ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' } : {}),
      },
      body: method === 'POST' ? new URLSearchParams(params).toString() : undefined,
      redirect: 'follow',
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    const body = await response.text();
    return { call: { url: target, method, status: response.status }, body };
  } catch {
    return { call: { url: target, method, status: 0 }, body: '' };
  }
}

export async function deliverInboundFax(ctx: EmulatorContext, input: InboundFaxInput): Promise<InboundFaxResult> {
  const none = { faxSid: null, status: null, errorCode: null, errorMessage: null, webhook: null, action: null };
  const number = ctx.state.numberByPhone(input.to);
  if (!number) return { outcome: 'unknown-number', ...none };
  if (number.voiceReceiveMode !== 'fax' || number.voiceUrl === '') return { outcome: 'voice-mode', ...none };
  const account = ctx.state.account(number.accountSid);
  if (!account) return { outcome: 'unknown-number', ...none };

  const faxSid = ctx.state.newSid('FX');
  const rng = new SeededRandom(ctx.options.seed, faxSid);
  const from = input.from ?? randomE164(rng);
  const createdMs = Math.floor(ctx.clock.now() / 1000) * 1000;
  const base = { FaxSid: faxSid, AccountSid: account.sid, From: from, To: number.phoneNumber, ApiVersion: 'v1' };
  const webhookMethod = number.voiceMethod === 'GET' ? 'GET' : 'POST';
  const { call: webhook, body } = await callWebhook(number.voiceUrl, webhookMethod, base, account.authToken);
  const reply = webhook.status >= 200 && webhook.status < 300 ? parseFaxTwiml(body) : null;

  const record = (status: FaxStatus, receive: ReceiveVerb | null, pages: number | null): FaxRecord => ({
    sid: faxSid,
    accountSid: account.sid,
    from,
    to: number.phoneNumber,
    quality: input.quality ?? 'fine',
    direction: 'inbound',
    status,
    numPages: pages,
    duration: pages === null ? 0 : pages * 30,
    price: status === 'received' && pages !== null ? priceFor('inbound', pages) : null,
    createdMs,
    updatedMs: createdMs + (pages === null ? 1 : pages * 30) * 1000,
    mediaSid: status === 'received' && receive?.storeMedia ? ctx.state.newSid('ME') : null,
    contentType: receive?.mediaType ?? 'application/pdf',
    mediaRevision: 0,
  });

  if (reply === null || reply.verb === 'invalid') {
    const [errorCode, errorMessage] = reply === null
      ? [11200, `HTTP retrieval failure: webhook answered ${webhook.status || 'nothing'}`]
      : [34106, `Invalid TwiML: ${reply.reason}`];
    ctx.state.putFax(record('failed', null, null));
    return { outcome: 'failed', faxSid, status: 'failed', errorCode, errorMessage, webhook, action: null };
  }
  if (reply.verb === 'Reject') {
    ctx.state.putFax(record('canceled', null, null));
    return { outcome: 'rejected', faxSid, status: 'canceled', errorCode: null, errorMessage: null, webhook, action: null };
  }

  const failed = input.transmissionFails === true;
  const pages = failed ? null : (input.numPages ?? rng.int(1, 4));
  const fax = ctx.state.putFax(record(failed ? 'failed' : 'received', reply, pages));
  const errorCode = failed ? 34107 : null;
  const errorMessage = failed ? 'Fax transmission failed (emulated)' : null;
  let action: WebhookCall | null = null;
  if (reply.action !== null) {
    const params: Record<string, string> = {
      ...base,
      RemoteStationId: input.remoteStationId ?? from,
      FaxStatus: failed ? 'failed' : 'received',
      NumPages: String(pages ?? 0),
    };
    const mediaUrl = mediaUrlFor(ctx, fax);
    if (mediaUrl !== null) params.MediaUrl = mediaUrl;
    if (failed) {
      params.ErrorCode = String(errorCode);
      params.ErrorMessage = errorMessage as string;
    }
    const actionUrl = new URL(reply.action, number.voiceUrl).href;
    action = (await callWebhook(actionUrl, reply.method, params, account.authToken)).call;
  }
  return { outcome: failed ? 'failed' : 'received', faxSid, status: fax.status, errorCode, errorMessage, webhook, action };
}
