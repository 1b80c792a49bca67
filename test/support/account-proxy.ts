/**
 * A Twilio stand-in in front of the emulator that can make ONE account misbehave, for the tests of
 * "one account's trouble stays its own" (issue 11 §4) and of redaction (issue 13 §2): each request
 * is shown to `decide` with the account its Basic credentials name (an account sid or an API key's
 * account, as the caller maps it), which may answer it itself, rewrite the emulator's answer, or
 * let it through. The emulator's origin in bodies is replaced by the proxy's, so paging stays on it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** The Basic-auth user (AC... or SK...), or null. */
  user: string | null;
  /** The Basic-auth password, or null. A secret: tests echo it on purpose. */
  password: string | null;
  /** The Authorization header as sent. */
  authorization: string | null;
}

export type ProxyDecision =
  | { answer: { status: number; body: unknown } }
  | { rewrite: (body: string) => string }
  | null;

export interface AccountProxy {
  url: string;
  close(): Promise<void>;
}

function basicOf(header: string | undefined): { user: string; password: string } | null {
  if (!header || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export async function startAccountProxy(targetUrl: string, decide: (request: ProxiedRequest) => ProxyDecision): Promise<AccountProxy> {
  const target = new URL(targetUrl);
  let origin = '';
  const server = http.createServer((req, res) => {
    const credentials = basicOf(req.headers.authorization);
    const decision = decide({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      user: credentials?.user ?? null,
      password: credentials?.password ?? null,
      authorization: req.headers.authorization ?? null,
    });
    if (decision && 'answer' in decision) {
      req.resume();
      const body = JSON.stringify(decision.answer.body);
      res.writeHead(decision.answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const upstream = http.request(
      { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('error', () => res.destroy());
        up.on('end', () => {
          let body = Buffer.concat(chunks).toString('utf8').split(target.origin).join(origin);
          if (decision && 'rewrite' in decision) body = decision.rewrite(body);
          const headers = { ...up.headers };
          delete headers['content-length'];
          delete headers['transfer-encoding'];
          res.writeHead(up.statusCode ?? 502, { ...headers, 'content-length': Buffer.byteLength(body) });
          res.end(body);
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
