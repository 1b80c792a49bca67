/**
 * The only door to Twilio's HTTP API for the use cases above it. Implemented by
 * `HelperLibraryTwilioGateway` (the `twilio` helper library's `client.request`, paging by following
 * `meta.next_page_url` verbatim); tested by a contract suite against the emulator over HTTP.
 * Every call goes through the shared rate limiter and retry policy (src/limits/).
 *
 * No Twilio SDK type appears here: callers see plain data.
 */
import type { Readable } from 'node:stream';
import type { FaxMediaOpening } from './fax-media-urls.js';
import type { TwilioClock } from './twilio-clock.js';

/** A fax as Twilio's Fax API v1 returns it (snake_case JSON; every field may be null). */
export interface TwilioFax {
  sid: string;
  account_sid: string;
  from: string | null;
  to: string | null;
  quality: string | null;
  media_sid: string | null;
  media_url: string | null;
  num_pages: number | null;
  duration: number | null;
  status: string | null;
  direction: string | null;
  api_version: string | null;
  /** The spec says number; real payloads carried a string such as "0.014". */
  price: string | number | null;
  price_unit: string | null;
  date_created: string | null;
  date_updated: string | null;
  links: Record<string, string> | null;
  url: string | null;
  /** Any field Twilio added that this type does not name is kept in the raw JSON. */
  [extra: string]: unknown;
}

export interface FaxListQuery {
  /** `DateCreatedAfter` (exclusive). */
  createdAfter?: Date;
  /** `DateCreatedOnOrBefore` (inclusive). */
  createdOnOrBefore?: Date;
  /** 1..1000; default 1000 (fewest requests). */
  pageSize?: number;
  /**
   * Told of each record in a page that cannot be trusted (a bad sid): it is left out of the page
   * and the listing goes on. Without it, such a page is malformed (retried, then an error).
   */
  onMalformedRecord?: (problem: string, record: unknown) => void;
}

/** Proof of a DELETE: kept in the catalog as evidence for auditors. */
export interface DeletionReceipt {
  /** 204 deleted now; 404 was already gone (deleted earlier, or pruned). */
  httpStatus: 204 | 404;
  /** `Twilio-Request-Id` response header, when present. */
  requestId: string | null;
  at: Date;
}

export interface SubaccountInfo {
  sid: string;
  friendlyName: string;
  status: string;
  /**
   * The subaccount's own auth token (from the parent's Accounts list; empty when an API key
   * listed it, as Twilio never shows a key the tokens). A secret: never log it.
   */
  authToken: string;
  /** Credentials to act for it when the token is not known: an API key of that subaccount (or its token). */
  credentials?: { username: string; password: string };
}

export interface MediaDownload {
  httpStatus: number;
  contentType: string | null;
  /** Content-Length header, or null when the host sent none (then size cannot be checked up front). */
  contentLength: number | null;
  /**
   * The media host's ETag without quotes, or null. Twilio's media URLs are pre-signed S3 URLs, whose
   * single-part ETag is the MD5 of the stored bytes: the one end-to-end check of a download.
   */
  etag: string | null;
  body: Readable;
}

/** One item of a fax's FaxMedia subresource (`GET /v1/Faxes/{sid}/Media`). */
export interface TwilioFaxMedia {
  sid: string;
  contentType: string | null;
  /** The FaxMedia resource's own API URL (not a download URL). */
  url: string | null;
}

export interface TwilioGateway {
  /** The account this gateway acts for (AC...). */
  readonly accountSid: string;

  /** Twilio's clock as its responses' Date headers tell it (shared by an account's subaccounts). Optional for stubs. */
  readonly clock?: TwilioClock;

  /**
   * Yields every fax matching the query, page by page, following `meta.next_page_url` verbatim until
   * it is null. May yield a fax twice (a fax can move between pages); callers dedupe by sid.
   * Throws AuthError on 401/403, ExternalServiceError when retries are exhausted or a page is malformed.
   */
  listFaxPages(query?: FaxListQuery): AsyncIterable<TwilioFax[]>;

  /** Fetches one fax (with a fresh `media_url`); null when Twilio answers 404 (deleted or pruned). */
  fetchFax(faxSid: string): Promise<TwilioFax | null>;

  /**
   * `DELETE /v1/Faxes/{sid}` (fax and media). Returns the receipt; 404 is a receipt too (already gone).
   * Throws ExternalServiceError on anything else once retries are exhausted: the outcome is then
   * unknown, and the caller reconciles it later with `fetchFax`.
   */
  deleteFax(faxSid: string): Promise<DeletionReceipt>;

  /**
   * The fax's FaxMedia subresource, first page (a fax has at most one media item); null when the fax
   * is gone (404). Asked when the fax's record contradicts itself about its media (issue 11 §2).
   */
  listFaxMedia(faxSid: string): Promise<TwilioFaxMedia[] | null>;

  /**
   * Opens the media at a pre-signed `media_url`: no Authorization header, a User-Agent always,
   * through the media download cap. Throws MediaUrlExpiredError on 403 AccessDenied or 400 ExpiredToken
   * (S3's answers to an expired pre-signed URL or its expired session token: re-fetch the fax for a new URL),
   * ExternalServiceError on other failures.
   */
  openMedia(mediaUrl: string): Promise<MediaDownload>;

  /**
   * Opens a fax's media (issue 14 §2: the gateway owns media URLs): from the pre-signed URL its
   * listings and fetches last saw for the fax, else from a fresh fetch; an expired URL is dropped
   * and the fax fetched again, a bounded number of times. `gone` when Twilio answers 404;
   * `no-media-url` when the fresh record gives none (with what FaxMedia lists). Throws like `openMedia`.
   */
  openFaxMedia(faxSid: string): Promise<FaxMediaOpening>;

  /** The account's subaccounts (not itself), with their own credentials. Empty for a subaccount. */
  listSubaccounts(): Promise<SubaccountInfo[]>;

  /** A gateway acting as a subaccount with its own credentials, sharing this one's limiter. */
  forSubaccount(account: SubaccountInfo): TwilioGateway;
}
