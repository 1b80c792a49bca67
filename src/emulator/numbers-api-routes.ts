/**
 * The 2010-04-01 API slice fax-sunset needs: Accounts (list, fetch) and IncomingPhoneNumbers
 * (list, fetch, update), with the 2010 envelope whose `*_uri` paging links are RELATIVE.
 * A main account's credentials reach its subaccounts through `/Accounts/{sub}/...`; a
 * subaccount's reach only itself (anything else answers 20003, as Twilio does for a foreign sid).
 */
import { readPage, readPageSize, type ApiRequest, type ApiResponse, type ApiRoute } from './api-route.js';
import type { EmulatorContext } from './emulator-context.js';
import { ACCOUNT_STATUSES, NUMBER_UPDATE_FIELDS, type EmulatorAccount, type NumberUpdate } from './emulator-records.js';
import { decodeSidPageToken, encodeSidPageToken } from './page-token.js';
import { accountJson, phoneNumberJson } from './twilio-json.js';
import { TwilioApiError, authenticateError, badParameterError, notFoundError } from './twilio-error.js';

const SID = '([A-Za-z]{2}[0-9a-fA-F]{32})';

function targetAccount(ctx: EmulatorContext, request: ApiRequest, sid: string): EmulatorAccount {
  const account = ctx.state.account(sid);
  if (!account || !ctx.state.mayActOn(request.credential, account)) throw authenticateError();
  return account;
}

/** One page of a 2010 list; `items` is in a stable order and the token names the last sid seen. */
function page2010<T extends { sid: string }>(
  request: ApiRequest,
  key: string,
  items: readonly T[],
  filterParams: readonly string[],
  render: (item: T) => unknown,
): ApiResponse {
  const query = request.url.searchParams;
  const pageSize = readPageSize(query);
  if (typeof pageSize === 'string') throw badParameterError(pageSize);
  const pageNumber = readPage(query);
  if (typeof pageNumber === 'string') throw badParameterError(pageNumber);
  const rawToken = query.get('PageToken');
  let start = pageNumber * pageSize;
  if (rawToken !== null) {
    const lastSid = decodeSidPageToken(rawToken);
    const at = lastSid === null ? -1 : items.findIndex((i) => i.sid === lastSid);
    if (at < 0) throw badParameterError(`Invalid PageToken ${rawToken}`);
    start = at + 1;
  }
  const slice = items.slice(start, start + pageSize);
  const uri = (page: number, token?: string) => {
    const out = new URLSearchParams();
    for (const name of filterParams) {
      const value = query.get(name);
      if (value !== null) out.set(name, value);
    }
    out.set('PageSize', String(pageSize));
    out.set('Page', String(page));
    if (token !== undefined) out.set('PageToken', token);
    return `${request.url.pathname}?${out.toString()}`;
  };
  const last = slice[slice.length - 1];
  const hasNext = last !== undefined && start + slice.length < items.length;
  return {
    status: 200,
    body: {
      [key]: slice.map(render),
      end: start + Math.max(slice.length, 1) - 1,
      first_page_uri: uri(0),
      next_page_uri: hasNext ? uri(pageNumber + 1, encodeSidPageToken(last.sid)) : null,
      page: pageNumber,
      page_size: pageSize,
      // Accounts and numbers are never deleted here, so the previous page is found by offset.
      previous_page_uri: pageNumber > 0 ? uri(pageNumber - 1) : null,
      start,
      uri: uri(pageNumber, rawToken ?? undefined),
    },
  };
}

function parseUpdate(form: URLSearchParams): NumberUpdate {
  const update: Record<string, string> = {};
  for (const [param, field] of Object.entries(NUMBER_UPDATE_FIELDS)) {
    const value = form.get(param);
    if (value === null) continue;
    if (param === 'VoiceReceiveMode' && value !== 'voice' && value !== 'fax') {
      throw badParameterError(`VoiceReceiveMode must be 'voice' or 'fax', got ${value}`);
    }
    if ((param === 'VoiceMethod' || param === 'VoiceFallbackMethod') && !/^(GET|POST)$/i.test(value)) {
      throw badParameterError(`${param} must be GET or POST, got ${value}`);
    }
    if ((param === 'VoiceUrl' || param === 'VoiceFallbackUrl' || param === 'SmsUrl' || param === 'StatusCallback') && value !== '') {
      let ok = false;
      try {
        ok = ['http:', 'https:'].includes(new URL(value).protocol);
      } catch {
        ok = false;
      }
      if (!ok) throw new TwilioApiError(400, 21502, `${param} is not a valid URL: ${value}`);
    }
    if (param === 'VoiceApplicationSid' && value !== '' && !/^AP[0-9a-fA-F]{32}$/.test(value)) {
      throw badParameterError(`VoiceApplicationSid must be an AP sid, got ${value}`);
    }
    update[field] = param.endsWith('Method') ? value.toUpperCase() : value;
  }
  return update as NumberUpdate;
}

export const NUMBERS_API_ROUTES: readonly ApiRoute[] = [
  {
    method: 'GET',
    pattern: /^\/2010-04-01\/Accounts\.json$/,
    name: 'GET /2010-04-01/Accounts.json',
    handle: (ctx, request) => {
      // A Standard API key may not read the Accounts resource at all (Twilio: 401 / 20003).
      if (request.credential.credential === 'standard') throw authenticateError();
      const q = request.url.searchParams;
      const name = q.get('FriendlyName');
      const status = q.get('Status');
      if (status !== null && !(ACCOUNT_STATUSES as readonly string[]).includes(status)) {
        throw badParameterError(`Status must be one of ${ACCOUNT_STATUSES.join(', ')}, got ${status}`);
      }
      const items = ctx.state
        .visibleAccounts(request.credential)
        .filter((a) => (name === null || a.friendlyName === name) && (status === null || a.status === status));
      // A key lists accounts without their auth tokens: only the parent's own token reveals them.
      const withTokens = request.credential.credential === 'auth-token';
      return page2010(request, 'accounts', items, ['FriendlyName', 'Status'], (a) => accountJson(a, withTokens));
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/2010-04-01/Accounts/${SID}\\.json$`),
    name: 'GET /2010-04-01/Accounts/{Sid}.json',
    handle: (ctx, request) => {
      // Twilio: a Standard key reaches everything but the Accounts (and Keys) resources.
      if (request.credential.credential === 'standard') throw authenticateError();
      return {
        status: 200,
        body: accountJson(targetAccount(ctx, request, request.params[0] as string), request.credential.credential === 'auth-token'),
      };
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/2010-04-01/Accounts/${SID}/IncomingPhoneNumbers\\.json$`),
    name: 'GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json',
    handle: (ctx, request) => {
      const account = targetAccount(ctx, request, request.params[0] as string);
      const q = request.url.searchParams;
      const phone = q.get('PhoneNumber');
      const name = q.get('FriendlyName');
      const digits = phone?.replace(/\D/g, '');
      const items = ctx.state
        .numbersOf(account.sid)
        .filter((n) => (digits === undefined || n.phoneNumber.replace(/\D/g, '').includes(digits)) && (name === null || n.friendlyName === name));
      return page2010(request, 'incoming_phone_numbers', items, ['PhoneNumber', 'FriendlyName'], phoneNumberJson);
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/2010-04-01/Accounts/${SID}/IncomingPhoneNumbers/${SID}\\.json$`),
    name: 'GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json',
    handle: (ctx, request) => {
      const account = targetAccount(ctx, request, request.params[0] as string);
      const number = ctx.state.number(request.params[1] as string);
      if (!number || number.accountSid !== account.sid) throw notFoundError(request.url.pathname);
      return { status: 200, body: phoneNumberJson(number) };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/2010-04-01/Accounts/${SID}/IncomingPhoneNumbers/${SID}\\.json$`),
    name: 'POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json',
    handle: (ctx, request) => {
      const account = targetAccount(ctx, request, request.params[0] as string);
      const number = ctx.state.number(request.params[1] as string);
      if (!number || number.accountSid !== account.sid) throw notFoundError(request.url.pathname);
      const updated = ctx.state.updateNumber(number.sid, parseUpdate(request.form), ctx.clock.now());
      return { status: 200, body: phoneNumberJson(updated ?? number) };
    },
  },
];
