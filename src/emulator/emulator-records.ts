/**
 * The emulator's in-memory records. Kept compact (dates as epoch milliseconds, enums as short
 * strings shared by every record) because 100k faxes must fit well under 300 MB; JSON is
 * rendered only when a response needs it (see twilio-json.ts).
 */

export type FaxStatus =
  | 'queued'
  | 'processing'
  | 'sending'
  | 'delivered'
  | 'receiving'
  | 'received'
  | 'no-answer'
  | 'busy'
  | 'failed'
  | 'canceled';

export const FAX_STATUSES: readonly FaxStatus[] = [
  'queued', 'processing', 'sending', 'delivered', 'receiving', 'received', 'no-answer', 'busy', 'failed', 'canceled',
];

/** Statuses in which Twilio still lets a fax be canceled (POST Status=canceled). */
export const CANCELABLE_STATUSES: ReadonlySet<FaxStatus> = new Set(['queued', 'processing', 'sending']);

export type FaxQuality = 'standard' | 'fine' | 'superfine';
export type FaxDirection = 'inbound' | 'outbound';
export type FaxContentType = 'application/pdf' | 'image/tiff';

export interface FaxRecord {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  quality: FaxQuality;
  direction: FaxDirection;
  status: FaxStatus;
  numPages: number | null;
  duration: number | null;
  price: string | null;
  createdMs: number;
  updatedMs: number;
  /** ME... while the fax has media; null for failed/canceled faxes and after the media is deleted. */
  mediaSid: string | null;
  contentType: FaxContentType;
  /** Bumped when a test hook changes the media, so the bytes (and their hash) change too. */
  mediaRevision: number;
  /**
   * Pages of the media document when they differ from `numPages` (an outbound fax that failed
   * carries the whole document to be sent; `num_pages` counts what was sent). Default numPages.
   */
  mediaPages?: number | null;
  /** The Content-Type the media host serves (S3 objects stored without one); default `contentType`. */
  servedContentType?: string;
  /** Media in a real-world writer's shape (media/real-world-files.ts) instead of the emulator's own. */
  realWorldFile?: 'object-streams' | 'incremental-update' | 'multi-strip';
  /** A record that contradicts itself (world-behaviours.ts): which media field Twilio left null. */
  hiddenMediaField?: 'media_url' | 'media_sid';
  /** An in-progress fax: what it becomes, and when, as the emulator's clock moves. */
  settles?: { atMs: number; status: FaxStatus; numPages: number | null; duration: number | null; price: string | null; mediaSid: string | null };
}

export interface EmulatorAccount {
  sid: string;
  /** A secret: only the Accounts API and the start-up line reveal it. */
  authToken: string;
  friendlyName: string;
  /** The parent's sid; the main account owns itself, as in Twilio. */
  ownerAccountSid: string;
  createdMs: number;
  apiKeySid: string;
  apiKeySecret: string;
  /**
   * What the account's API key may do, as Twilio scoped keys: a `standard` key cannot read
   * /2010-04-01/Accounts; a `main` key can, but the accounts it lists carry an empty auth_token.
   * Neither reaches another account's resources (401 / 20003), its subaccounts' included.
   */
  apiKeyKind: ApiKeyKind;
  /** Suspended: its own credentials answer 401 / 20003. Closed: the same, and its data goes 30 days after `closedMs`. */
  status: AccountStatus;
  closedMs: number | null;
}

export type ApiKeyKind = 'standard' | 'main';
export const API_KEY_KINDS: readonly ApiKeyKind[] = ['standard', 'main'];
export type AccountStatus = 'active' | 'suspended' | 'closed';
export const ACCOUNT_STATUSES: readonly AccountStatus[] = ['active', 'suspended', 'closed'];
/** Twilio removes a closed account's data this long after closure. */
export const CLOSED_ACCOUNT_RETENTION_MS = 30 * 86_400_000;

export interface PhoneNumberRecord {
  sid: string;
  accountSid: string;
  phoneNumber: string;
  friendlyName: string;
  voiceReceiveMode: 'voice' | 'fax';
  voiceUrl: string;
  voiceMethod: string;
  voiceFallbackUrl: string;
  voiceFallbackMethod: string;
  voiceApplicationSid: string;
  smsUrl: string;
  statusCallback: string;
  createdMs: number;
  updatedMs: number;
}

/** The 2010 API fields a number update may change, by their form parameter names. */
export const NUMBER_UPDATE_FIELDS = {
  VoiceReceiveMode: 'voiceReceiveMode',
  VoiceUrl: 'voiceUrl',
  VoiceMethod: 'voiceMethod',
  VoiceFallbackUrl: 'voiceFallbackUrl',
  VoiceFallbackMethod: 'voiceFallbackMethod',
  VoiceApplicationSid: 'voiceApplicationSid',
  FriendlyName: 'friendlyName',
  SmsUrl: 'smsUrl',
  StatusCallback: 'statusCallback',
} as const satisfies Record<string, keyof PhoneNumberRecord>;

export type NumberUpdate = Partial<Pick<PhoneNumberRecord, (typeof NUMBER_UPDATE_FIELDS)[keyof typeof NUMBER_UPDATE_FIELDS] | 'updatedMs'>>;
