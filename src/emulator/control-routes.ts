/**
 * The `/_emulator/` control surface (no auth, loopback only, JSON in and out), for tests,
 * benchmarks and the demo:
 *
 *   GET    /_emulator/stats               request counts per route, 429s sent, faults per kind,
 *                                         media requests and bytes served, faxes left per account
 *   POST   /_emulator/stats/reset         zero the counters
 *   GET    /_emulator/accounts            accounts with their tokens and API keys (secrets: local use only)
 *   GET    /_emulator/faxes?accountSid=   current faxes as Fax API JSON (fresh media URLs), list order
 *   POST   /_emulator/faxes               create a fax: NewFaxInput (emulator-hooks.ts) -> fax JSON, 201
 *   POST   /_emulator/faxes/{FaxSid}      change a fax: FaxChange (late status, newer date_updated,
 *                                         media "changed" or false) -> fax JSON
 *   DELETE /_emulator/faxes/{FaxSid}      prune: the fax vanishes as Twilio's 180-day pruning did -> 204
 *   GET    /_emulator/numbers?accountSid= numbers as 2010 JSON
 *   POST   /_emulator/inbound             deliver a fax: InboundFaxInput (inbound-fax.ts) -> InboundFaxResult
 *   POST   /_emulator/clock               {"advanceSeconds": n}: move the clock (expire media URLs) -> {"now"}
 *   POST   /_emulator/accounts/{AccountSid} {"status": "active"|"suspended"|"closed"}: suspend, reinstate
 *                                         or close a subaccount mid-run -> the account as in GET accounts
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mediaUrlFor, type EmulatorContext } from './emulator-context.js';
import { createFax, pruneFax, updateFax, type FaxChange, type NewFaxInput } from './emulator-hooks.js';
import { isLoopback, readBody, sendJson } from './http-io.js';
import { deliverInboundFax, type InboundFaxInput } from './inbound-fax.js';
import { faxJson, isoDate, phoneNumberJson } from './twilio-json.js';

export function accountsSummary(ctx: EmulatorContext) {
  return ctx.state.accounts.map((a) => ({
    sid: a.sid,
    authToken: a.authToken,
    friendlyName: a.friendlyName,
    apiKeySid: a.apiKeySid,
    apiKeySecret: a.apiKeySecret,
    apiKeyKind: a.apiKeyKind,
    status: a.status,
  }));
}

export function createControlHandler(ctx: EmulatorContext) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (!isLoopback(req.socket.remoteAddress)) {
      sendJson(res, 403, { error: 'the control surface answers loopback clients only' });
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    ctx.state.purgeClosedAccounts(ctx.clock.now());
    try {
      const text = method === 'POST' ? await readBody(req) : (req.resume(), '');
      const json = (text.trim() === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
      const accountSid = url.searchParams.get('accountSid') ?? undefined;
      const faxMatch = /^\/_emulator\/faxes\/(FX[0-9a-f]{32})$/.exec(path);
      const accountMatch = /^\/_emulator\/accounts\/(AC[0-9a-f]{32})$/.exec(path);
      if (method === 'GET' && path === '/_emulator/stats') {
        sendJson(res, 200, ctx.stats.snapshot(ctx.state.faxes.counts()));
      } else if (method === 'POST' && path === '/_emulator/stats/reset') {
        ctx.stats.reset();
        sendJson(res, 200, ctx.stats.snapshot(ctx.state.faxes.counts()));
      } else if (method === 'GET' && path === '/_emulator/accounts') {
        sendJson(res, 200, accountsSummary(ctx));
      } else if (method === 'POST' && accountMatch) {
        const status = json.status;
        if (status !== 'active' && status !== 'suspended' && status !== 'closed') throw new RangeError('status must be active, suspended or closed');
        const account = ctx.state.setAccountStatus(accountMatch[1] as string, status, ctx.clock.now());
        sendJson(res, 200, accountsSummary(ctx).find((a) => a.sid === account.sid));
      } else if (method === 'GET' && path === '/_emulator/faxes') {
        sendJson(res, 200, ctx.state.faxes.all(accountSid).map((f) => faxJson(f, ctx.apiOrigin, mediaUrlFor(ctx, f))));
      } else if (method === 'POST' && path === '/_emulator/faxes') {
        const fax = createFax(ctx, json as NewFaxInput);
        sendJson(res, 201, faxJson(fax, ctx.apiOrigin, mediaUrlFor(ctx, fax)));
      } else if (method === 'POST' && faxMatch) {
        const fax = updateFax(ctx, faxMatch[1] as string, json as FaxChange);
        if (fax) sendJson(res, 200, faxJson(fax, ctx.apiOrigin, mediaUrlFor(ctx, fax)));
        else sendJson(res, 404, { error: 'no such fax' });
      } else if (method === 'DELETE' && faxMatch) {
        if (pruneFax(ctx, faxMatch[1] as string)) sendJson(res, 204, undefined);
        else sendJson(res, 404, { error: 'no such fax' });
      } else if (method === 'GET' && path === '/_emulator/numbers') {
        const numbers = accountSid === undefined ? ctx.state.numbers : ctx.state.numbersOf(accountSid);
        sendJson(res, 200, numbers.map(phoneNumberJson));
      } else if (method === 'POST' && path === '/_emulator/inbound') {
        sendJson(res, 200, await deliverInboundFax(ctx, json as unknown as InboundFaxInput));
      } else if (method === 'POST' && path === '/_emulator/clock') {
        const seconds = Number(json.advanceSeconds ?? 0);
        if (!Number.isFinite(seconds)) throw new RangeError('advanceSeconds must be a number');
        ctx.clock.advance(seconds * 1000);
        sendJson(res, 200, { now: isoDate(ctx.clock.now()) });
      } else {
        sendJson(res, 404, { error: `no control route ${method} ${path}` });
      }
    } catch (error) {
      sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  };
}
