/** One authenticated API route: a method, a path pattern, a stable name for the stats, a handler. */
import type { EmulatorContext } from './emulator-context.js';
import type { EmulatorAccount } from './emulator-records.js';
import type { EmulatorActor } from './emulator-state.js';

export interface ApiRequest {
  method: string;
  url: URL;
  /** The pattern's capture groups (sids). */
  params: string[];
  /** The form-encoded body (POST) — empty for other methods. */
  form: URLSearchParams;
  /** The account the credentials belong to. */
  actor: EmulatorAccount;
  /** How it authenticated (auth token, or which kind of API key): scopes the 2010 API. */
  credential: EmulatorActor;
}

export interface ApiResponse {
  status: number;
  /** Omitted for 204. */
  body?: unknown;
}

export interface ApiRoute {
  method: 'GET' | 'POST' | 'DELETE';
  pattern: RegExp;
  /** e.g. `GET /v1/Faxes/{Sid}`: the key in the request counts. */
  name: string;
  handle(ctx: EmulatorContext, request: ApiRequest): ApiResponse;
}

/** Reads PageSize: default 50, an integer 1..1000, else Twilio's 400. */
export function readPageSize(query: URLSearchParams): number | string {
  const raw = query.get('PageSize');
  if (raw === null) return 50;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isInteger(n) || n < 1 || n > 1000) return `PageSize must be between 1 and 1000, got ${raw}`;
  return n;
}

export function readPage(query: URLSearchParams): number | string {
  const raw = query.get('Page');
  if (raw === null) return 0;
  if (!/^\d{1,9}$/.test(raw)) return `Page must be a non-negative integer, got ${raw}`;
  return Number(raw);
}
