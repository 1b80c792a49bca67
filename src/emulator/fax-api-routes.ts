/**
 * Fax API v1: `/v1/Faxes` list (filters, `{faxes, meta}` envelope, position-based PageToken),
 * fetch, `POST Status=canceled`, DELETE, and the Media subresource. A fax is visible only to the
 * account that owns it (a parent's credentials do not see its subaccounts' faxes here).
 */
import { readPage, readPageSize, type ApiRequest, type ApiResponse, type ApiRoute } from './api-route.js';
import { mediaUrlFor, type EmulatorContext } from './emulator-context.js';
import { CANCELABLE_STATUSES, type FaxRecord } from './emulator-records.js';
import type { FaxFilter, FaxPage, FaxPageRequest } from './fax-table.js';
import { decodeFaxPageToken, encodeFaxPageToken } from './page-token.js';
import { faxJson, faxMediaJson } from './twilio-json.js';
import { badParameterError, notFoundError } from './twilio-error.js';

const FILTER_PARAMS = ['From', 'To', 'DateCreatedOnOrBefore', 'DateCreatedAfter'] as const;

function parseDate(raw: string, name: string): number {
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || !Number.isFinite(ms)) throw badParameterError(`${name} must be an ISO 8601 date-time, got ${raw}`);
  return ms;
}

function readFilter(query: URLSearchParams): FaxFilter {
  const filter: FaxFilter = {};
  const from = query.get('From');
  const to = query.get('To');
  const before = query.get('DateCreatedOnOrBefore');
  const after = query.get('DateCreatedAfter');
  if (from !== null) filter.from = from;
  if (to !== null) filter.to = to;
  if (before !== null) filter.createdOnOrBeforeMs = parseDate(before, 'DateCreatedOnOrBefore');
  if (after !== null) filter.createdAfterMs = parseDate(after, 'DateCreatedAfter');
  return filter;
}

/** An absolute list URL on the emulator's origin echoing the filters (Twilio's meta URLs do). */
function listUrl(ctx: EmulatorContext, query: URLSearchParams, pageSize: number, page: number, token?: string): string {
  const out = new URLSearchParams();
  for (const name of FILTER_PARAMS) {
    const value = query.get(name);
    if (value !== null) out.set(name, value);
  }
  out.set('PageSize', String(pageSize));
  out.set('Page', String(page));
  if (token !== undefined) out.set('PageToken', token);
  return `${ctx.apiOrigin}/v1/Faxes?${out.toString()}`;
}

function ownFax(ctx: EmulatorContext, request: ApiRequest, sid: string): FaxRecord {
  const fax = ctx.state.faxes.get(sid);
  if (!fax || fax.accountSid !== request.actor.sid) throw notFoundError(request.url.pathname);
  return fax;
}

function metaPage(items: string, page: number, pageSize: number, urls: { first: string; url: string; previous: string | null; next: string | null }) {
  return {
    page,
    page_size: pageSize,
    first_page_url: urls.first,
    previous_page_url: urls.previous,
    url: urls.url,
    next_page_url: urls.next,
    key: items,
  };
}

function listFaxes(ctx: EmulatorContext, request: ApiRequest): ApiResponse {
  const query = request.url.searchParams;
  const pageSize = readPageSize(query);
  if (typeof pageSize === 'string') throw badParameterError(pageSize);
  const pageNumber = readPage(query);
  if (typeof pageNumber === 'string') throw badParameterError(pageNumber);
  const filter = readFilter(query);
  const rawToken = query.get('PageToken');
  const pageRequest: FaxPageRequest = { filter, pageSize };
  let page: FaxPage;
  if (rawToken !== null) {
    const token = decodeFaxPageToken(rawToken);
    if (!token) throw badParameterError(`Invalid PageToken ${rawToken}`);
    const position = { createdMs: token.createdMs, sid: token.sid };
    if (token.direction === 'after') pageRequest.after = position;
    else pageRequest.before = position;
    page = ctx.state.faxes.page(request.actor.sid, pageRequest);
  } else if (pageNumber > 0) {
    // A Page without a token (a client computing URLs itself): served by offset, best effort.
    const upTo = ctx.state.faxes.page(request.actor.sid, { filter, pageSize: pageSize * (pageNumber + 1) });
    page = { faxes: upTo.faxes.slice(pageSize * pageNumber), hasMore: upTo.hasMore };
  } else {
    page = ctx.state.faxes.page(request.actor.sid, pageRequest);
  }
  const { faxes } = page;
  const first = faxes[0];
  const last = faxes[faxes.length - 1];
  // Going forward, "more" is what lies after the page; a page reached backwards always has a next.
  const hasNext = pageRequest.before ? faxes.length > 0 : page.hasMore;
  const hasPrevious = pageRequest.before ? page.hasMore : pageNumber > 0 && first !== undefined;
  const next = hasNext && last
    ? listUrl(ctx, query, pageSize, pageNumber + 1, encodeFaxPageToken({ direction: 'after', createdMs: last.createdMs, sid: last.sid }))
    : null;
  const previous = hasPrevious && first
    ? listUrl(ctx, query, pageSize, Math.max(pageNumber - 1, 0), encodeFaxPageToken({ direction: 'before', createdMs: first.createdMs, sid: first.sid }))
    : null;
  return {
    status: 200,
    body: {
      faxes: faxes.map((f) => faxJson(f, ctx.apiOrigin, mediaUrlFor(ctx, f, { inListing: true }))),
      meta: metaPage('faxes', pageNumber, pageSize, {
        first: listUrl(ctx, query, pageSize, 0),
        url: listUrl(ctx, query, pageSize, pageNumber, rawToken ?? undefined),
        previous,
        next,
      }),
    },
  };
}

function mediaListUrl(ctx: EmulatorContext, faxSid: string, pageSize: number, page: number): string {
  return `${ctx.apiOrigin}/v1/Faxes/${faxSid}/Media?PageSize=${pageSize}&Page=${page}`;
}

const SID = '([A-Za-z]{2}[0-9a-fA-F]{32})';

export const FAX_API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', pattern: /^\/v1\/Faxes$/, name: 'GET /v1/Faxes', handle: listFaxes },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/Faxes/${SID}$`),
    name: 'GET /v1/Faxes/{Sid}',
    handle: (ctx, request) => {
      const fax = ownFax(ctx, request, request.params[0] as string);
      return { status: 200, body: faxJson(fax, ctx.apiOrigin, mediaUrlFor(ctx, fax)) };
    },
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/v1/Faxes/${SID}$`),
    name: 'POST /v1/Faxes/{Sid}',
    handle: (ctx, request) => {
      const fax = ownFax(ctx, request, request.params[0] as string);
      const status = request.form.get('Status');
      if (status !== 'canceled') throw badParameterError(`Status must be 'canceled', got ${status === null ? 'nothing' : status}`);
      if (!CANCELABLE_STATUSES.has(fax.status)) {
        throw badParameterError(`Fax ${fax.sid} cannot be canceled: its status is ${fax.status}`);
      }
      const updated = ctx.state.putFax({ ...fax, status: 'canceled', updatedMs: Math.max(fax.updatedMs, ctx.clock.now()) });
      return { status: 200, body: faxJson(updated, ctx.apiOrigin, mediaUrlFor(ctx, updated)) };
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/v1/Faxes/${SID}$`),
    name: 'DELETE /v1/Faxes/{Sid}',
    handle: (ctx, request) => {
      const fax = ownFax(ctx, request, request.params[0] as string);
      ctx.state.deleteFax(fax.sid);
      ctx.stats.faxesDeleted++;
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/Faxes/${SID}/Media$`),
    name: 'GET /v1/Faxes/{FaxSid}/Media',
    handle: (ctx, request) => {
      const fax = ownFax(ctx, request, request.params[0] as string);
      const pageSize = readPageSize(request.url.searchParams);
      if (typeof pageSize === 'string') throw badParameterError(pageSize);
      const url = mediaListUrl(ctx, fax.sid, pageSize, 0);
      return {
        status: 200,
        body: {
          media: fax.mediaSid ? [faxMediaJson(fax, ctx.apiOrigin)] : [],
          meta: metaPage('media', 0, pageSize, { first: url, url, previous: null, next: null }),
        },
      };
    },
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/v1/Faxes/${SID}/Media/${SID}$`),
    name: 'GET /v1/Faxes/{FaxSid}/Media/{Sid}',
    handle: (ctx, request) => {
      const fax = ownFax(ctx, request, request.params[0] as string);
      if (fax.mediaSid === null || fax.mediaSid !== request.params[1]) throw notFoundError(request.url.pathname);
      return { status: 200, body: faxMediaJson(fax, ctx.apiOrigin) };
    },
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/v1/Faxes/${SID}/Media/${SID}$`),
    name: 'DELETE /v1/Faxes/{FaxSid}/Media/{Sid}',
    handle: (ctx, request) => {
      const fax = ownFax(ctx, request, request.params[0] as string);
      if (fax.mediaSid === null || fax.mediaSid !== request.params[1]) throw notFoundError(request.url.pathname);
      ctx.state.deleteMedia(fax.sid, ctx.clock.now());
      return { status: 204 };
    },
  },
];
