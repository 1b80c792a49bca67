/**
 * A reverse proxy for tests that sits in front of an S3-compatible server (or any HTTP server)
 * and injects the failures object stores really produce, so the pipeline's retry and
 * verification paths run against real sockets:
 *   '500' / '503'  an S3-style XML error (InternalError / SlowDown), request not forwarded
 *   'reset'        the client's connection is reset (TCP RST), nothing forwarded
 *   'flip'         a PUT is forwarded with one byte of its body flipped, so the server stores
 *                  corrupt bytes unless it validates a checksum the client sent (moto rejects
 *                  the upload then); either way a later verification must catch it
 *
 * Bodies are streamed both ways. The Host header is forwarded exactly as the client sent it:
 * SigV4 signs Host, so rewriting it would make every signed request fail.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform, pipeline, type TransformCallback } from 'node:stream';

export type FaultKind = '500' | '503' | 'reset' | 'flip';

export interface FaultSettings {
  /** Probability (0..1) that an eligible request gets a fault. */
  rate: number;
  /** Faults to pick from, uniformly; 'flip' is only picked for a PUT with a body. */
  kinds: FaultKind[];
  /** Only requests with these methods (case-insensitive) are eligible; all when absent. */
  methods?: string[];
}

export interface FaultProxyStats {
  /** Every request the proxy received, faulted or not. */
  requests: number;
  /** Faults injected, by kind (every kind present, 0 when none). */
  injected: Record<string, number>;
}

export interface FaultProxy {
  /** Base URL to give the client instead of the target's (http://127.0.0.1:port). */
  url: string;
  /** Replaces the fault settings; applies to requests that arrive afterwards. */
  setFaults(faults: FaultSettings): void;
  stats(): FaultProxyStats;
  /** Stops listening, drops open connections (both sides). */
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** The server to forward to: http://127.0.0.1:port. */
  target: string;
  /** Seed of the fault dice, so a failing test can be rerun with the same faults. */
  seed?: number;
}

/** Headers that belong to one connection, not to the message (RFC 9110 7.6.1), plus Expect, already answered. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'expect'];

const S3_ERRORS: Record<'500' | '503', { code: string; message: string }> = {
  '500': { code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  '503': { code: 'SlowDown', message: 'Please reduce your request rate.' },
};

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:') throw new Error(`fault proxy target must be http://, got ${target.protocol}`);
  const random = mulberry32(options.seed ?? 1);
  const agent = new http.Agent({ keepAlive: true });
  let faults: FaultSettings = { rate: 0, kinds: [] };
  let requests = 0;
  let requestNumber = 0;
  const injected: Record<string, number> = { '500': 0, '503': 0, reset: 0, flip: 0 };

  function chooseFault(req: http.IncomingMessage): FaultKind | null {
    const method = (req.method ?? 'GET').toUpperCase();
    if (faults.rate <= 0 || faults.kinds.length === 0) return null;
    if (faults.methods && !faults.methods.some((m) => m.toUpperCase() === method)) return null;
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    const eligible = faults.kinds.filter((kind) => kind !== 'flip' || (method === 'PUT' && hasBody));
    if (eligible.length === 0) return null;
    if (random() >= faults.rate) return null;
    return eligible[Math.floor(random() * eligible.length)] ?? null;
  }

  const server = http.createServer((req, res) => {
    requests++;
    requestNumber++;
    const fault = chooseFault(req);
    if (fault !== null) injected[fault] = (injected[fault] ?? 0) + 1;

    if (fault === '500' || fault === '503') {
      const { code, message } = S3_ERRORS[fault];
      const requestId = `FAULTPROXY${String(requestNumber).padStart(6, '0')}`;
      const body =
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
        `<RequestId>${requestId}</RequestId><HostId>fault-proxy</HostId></Error>`;
      // Read the body to its end first: answering mid-upload makes many clients see a reset instead.
      req.resume();
      req.on('end', () => {
        res.writeHead(Number(fault), {
          'content-type': 'application/xml',
          'content-length': Buffer.byteLength(body),
          'x-amz-request-id': requestId,
        });
        res.end(body);
      });
      return;
    }
    if (fault === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    forward(req, res, fault === 'flip');
  });

  function forward(req: http.IncomingMessage, res: http.ServerResponse, flip: boolean): void {
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    for (const name of HOP_BY_HOP) delete headers[name];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (chunked) headers['transfer-encoding'] = 'chunked';
    const upstream = http.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers, // includes the client's original Host
      agent,
    });
    upstream.on('response', (upstreamRes) => {
      const responseHeaders: http.OutgoingHttpHeaders = { ...upstreamRes.headers };
      for (const name of HOP_BY_HOP) delete responseHeaders[name];
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, responseHeaders);
      pipeline(upstreamRes, res, () => undefined);
    });
    upstream.on('error', () => {
      if (!res.headersSent) {
        const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>BadGateway</Code><Message>fault proxy: target unreachable</Message></Error>';
        res.writeHead(502, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      } else {
        res.destroy();
      }
    });
    // The client went away before the answer was complete: stop the upstream exchange too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });

    if (flip) {
      const length = Number(req.headers['content-length'] ?? 0);
      // Without a Content-Length (chunked upload) the first byte is the one we can be sure exists.
      const flipAt = length > 0 ? Math.floor(random() * length) : 0;
      pipeline(req, new ByteFlip(flipAt), upstream, () => undefined);
    } else {
      pipeline(req, upstream, () => undefined);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    setFaults(next: FaultSettings): void {
      if (!(next.rate >= 0 && next.rate <= 1)) throw new RangeError(`fault rate must be within 0..1, got ${next.rate}`);
      faults = { rate: next.rate, kinds: [...next.kinds], ...(next.methods ? { methods: [...next.methods] } : {}) };
    },
    stats(): FaultProxyStats {
      return { requests, injected: { ...injected } };
    },
    close(): Promise<void> {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
    },
  };
}

/** Passes bytes through, inverting the one at absolute position `at`. */
class ByteFlip extends Transform {
  private position = 0;
  constructor(private readonly at: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const start = this.position;
    this.position += chunk.length;
    if (this.at >= start && this.at < this.position) {
      // Copy: the chunk may be a view of a buffer someone else still reads.
      const copy = Buffer.from(chunk);
      copy[this.at - start] = (copy[this.at - start] as number) ^ 0xff;
      callback(null, copy);
    } else {
      callback(null, chunk);
    }
  }
}

/** Small seeded PRNG (mulberry32): the fault dice, reproducible from the seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
