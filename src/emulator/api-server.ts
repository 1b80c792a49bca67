/**
 * The API host (Fax v1 + 2010 + the `/_emulator/` control surface on the same port). Order of
 * play for an API request: count it, apply the limits (429 / 20429), draw a fault, wait the
 * configured latency, authenticate (401 / 20003), route (404 / 20404), answer. Every answer,
 * errors included, carries a `Twilio-Request-Id`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiRoute } from './api-route.js';
import type { EmulatorContext } from './emulator-context.js';
import { FAX_API_ROUTES } from './fax-api-routes.js';
import { delay, newRequestId, readBody, sendJson } from './http-io.js';
import { NUMBERS_API_ROUTES } from './numbers-api-routes.js';
import { TwilioApiError, authenticateError, methodNotAllowedError, notFoundError, tooManyRequestsError } from './twilio-error.js';

const ROUTES: readonly ApiRoute[] = [...FAX_API_ROUTES, ...NUMBERS_API_ROUTES];

function findRoute(method: string, pathname: string): { route: ApiRoute; params: string[] } | { methodMismatch: boolean } {
  let methodMismatch = false;
  for (const route of ROUTES) {
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    if (route.method === method) return { route, params: m.slice(1) };
    methodMismatch = true;
  }
  return { methodMismatch };
}

function basicCredentials(header: string | undefined): { user: string; password: string } | null {
  if (!header?.startsWith('Basic ')) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export type ControlHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export function createApiHandler(ctx: EmulatorContext, control: ControlHandler) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', ctx.apiOrigin);
    const requestId = newRequestId();
    res.setHeader('Twilio-Request-Id', requestId);
    ctx.clockEffects?.tick(ctx.clock.now());
    if (url.pathname.startsWith('/_emulator/')) {
      await control(req, res, url);
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const found = findRoute(method, url.pathname);
    ctx.stats.countRequest('route' in found ? found.route.name : `${method} (unmatched)`);

    const admission = ctx.limits.admit();
    if (!admission.admitted) {
      ctx.stats.throttled++;
      const error = tooManyRequestsError();
      req.resume();
      sendJson(res, error.status, error.toJson(), { 'Twilio-Concurrent-Requests': String(admission.inFlight) });
      return;
    }
    ctx.stats.peakInFlight = Math.max(ctx.stats.peakInFlight, ctx.limits.current());
    res.on('close', admission.release);

    try {
      const fault = ctx.faults.decide('api', method, url.pathname + url.search);
      if (fault) ctx.stats.faults[fault]++;
      if (fault === '500' || fault === '503') {
        const error = fault === '500'
          ? new TwilioApiError(500, 20500, 'Internal Server Error')
          : new TwilioApiError(503, 20503, 'Service Unavailable');
        req.resume();
        sendJson(res, error.status, error.toJson());
        return;
      }
      if (fault === 'reset' && method === 'GET') {
        req.socket.destroy();
        return;
      }
      if (fault === 'slow') await delay(ctx.options.slowMs);
      await delay(ctx.options.latencyMs);

      const body = method === 'POST' ? await readBody(req) : (req.resume(), '');
      const credentials = basicCredentials(req.headers.authorization);
      const credential = credentials ? ctx.state.authenticate(credentials.user, credentials.password) : null;
      if (!credential) throw authenticateError();
      if (!('route' in found)) throw found.methodMismatch ? methodNotAllowedError() : notFoundError(url.pathname);
      ctx.state.purgeClosedAccounts(ctx.clock.now());
      const response = found.route.handle(ctx, {
        method, url, params: found.params, form: new URLSearchParams(body), actor: credential.account, credential,
      });
      if (fault === 'reset') {
        // A write that happened but whose answer was lost: the client must reconcile (DESIGN.md, deletion).
        req.socket.destroy();
        return;
      }
      sendJson(res, response.status, response.body);
    } catch (error) {
      if (error instanceof TwilioApiError) {
        const headers: Record<string, string> = error.status === 401 ? { 'WWW-Authenticate': 'Basic realm="Twilio API"' } : {};
        sendJson(res, error.status, error.toJson(), headers);
      } else {
        const internal = new TwilioApiError(500, 20500, 'Internal Server Error');
        sendJson(res, 500, internal.toJson());
      }
    }
  };
}
