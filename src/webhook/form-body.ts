/**
 * Reading a webhook's parameters. Twilio sends `application/x-www-form-urlencoded` (seed 001:
 * "just like a web browser form submission"); nothing else is accepted, and a body is read only up
 * to a small limit, because every byte arrives before the signature can be checked.
 */
import type { IncomingMessage } from 'node:http';

/** A request this server refuses, with the HTTP status to answer. The message never quotes the body. */
export class WebhookRequestError extends Error {
  constructor(readonly status: 400 | 403 | 404 | 405 | 413 | 415 | 503, message: string) {
    super(message);
    this.name = 'WebhookRequestError';
  }
}

/** Twilio's parameters; a repeated key keeps every value (the signature covers them all). */
export type WebhookParams = Record<string, string | string[]>;

/** A fax webhook's parameters are a few hundred bytes; 64 KiB leaves room and bounds the cost of abuse. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

export function parseForm(text: string): WebhookParams {
  const params: WebhookParams = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const existing = params[key];
    if (existing === undefined) params[key] = value;
    else params[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

/** One value of a parameter (the first when repeated), or undefined. */
export function param(params: WebhookParams, name: string): string | undefined {
  const value = params[name];
  return Array.isArray(value) ? value[0] : value;
}

export function isFormContentType(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/**
 * Reads a POST body as a form. Throws WebhookRequestError 415 for another content type and 413
 * beyond `limitBytes` (checked against Content-Length first, then while streaming).
 */
export async function readFormBody(request: IncomingMessage, limitBytes = DEFAULT_BODY_LIMIT_BYTES): Promise<WebhookParams> {
  if (!isFormContentType(request.headers['content-type'])) {
    request.resume();
    throw new WebhookRequestError(415, 'only application/x-www-form-urlencoded bodies are accepted');
  }
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    request.resume();
    throw new WebhookRequestError(413, `body larger than ${limitBytes} bytes`);
  }
  // Event-based rather than `for await`: leaving a for-await loop destroys the socket, and the
  // client must still get its 413. The rest of an oversized body is discarded, not buffered.
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        request.off('data', onData);
        request.off('end', onEnd);
        request.resume();
        reject(new WebhookRequestError(413, `body larger than ${limitBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('error', reject);
  });
  return parseForm(text);
}
