/**
 * What a reversion looks at and changes on an incoming phone number, as plain data (no SDK types).
 * `VoiceState` is the "full relevant state" a plan records as `before`: every field that decides where
 * a call or a fax to the number goes. The stale check and the "did it take" check compare exactly these.
 */

/** An incoming phone number as the reversion needs it (from the 2010 API, camelCased). */
export interface IncomingNumber {
  accountSid: string;
  sid: string;
  phoneNumber: string;
  friendlyName: string | null;
  /** `capabilities.voice`: a number that cannot take voice cannot be reverted. */
  voiceCapable: boolean;
  state: VoiceState;
}

/**
 * Where calls (and, in fax mode, faxes) to a number go. Unset strings are null: Twilio sends either
 * "" or null for them, and treating the two as different would make every plan look stale.
 */
export interface VoiceState {
  voiceReceiveMode: string | null;
  /** In fax mode this is the number's FaxUrl. */
  voiceUrl: string | null;
  voiceMethod: string | null;
  voiceFallbackUrl: string | null;
  voiceFallbackMethod: string | null;
  voiceApplicationSid: string | null;
  /** A number on a SIP trunk routes by the trunk: the reversion leaves it alone. */
  trunkSid: string | null;
}

/** The fields a reversion (or its rollback) writes. Absent = left as it is; "" = cleared. */
export interface VoiceUpdate {
  voiceReceiveMode?: 'voice' | 'fax';
  voiceUrl?: string;
  voiceMethod?: string;
  voiceApplicationSid?: string;
}

export const VOICE_STATE_FIELDS = [
  'voiceReceiveMode',
  'voiceUrl',
  'voiceMethod',
  'voiceFallbackUrl',
  'voiceFallbackMethod',
  'voiceApplicationSid',
  'trunkSid',
] as const satisfies readonly (keyof VoiceState)[];

const UPDATE_FIELDS = ['voiceReceiveMode', 'voiceUrl', 'voiceMethod', 'voiceApplicationSid'] as const satisfies readonly (keyof VoiceUpdate &
  keyof VoiceState)[];

/** "" and undefined become null, so "unset" has one spelling. */
export function normalizeUnset(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const text = String(value);
  return text === '' ? null : text;
}

/** Builds a VoiceState from loosely typed fields (SDK instance, JSON file), normalizing unset values. */
export function voiceStateFrom(fields: Partial<Record<keyof VoiceState, unknown>>): VoiceState {
  return {
    voiceReceiveMode: normalizeUnset(fields.voiceReceiveMode),
    voiceUrl: normalizeUnset(fields.voiceUrl),
    voiceMethod: normalizeUnset(fields.voiceMethod),
    voiceFallbackUrl: normalizeUnset(fields.voiceFallbackUrl),
    voiceFallbackMethod: normalizeUnset(fields.voiceFallbackMethod),
    voiceApplicationSid: normalizeUnset(fields.voiceApplicationSid),
    trunkSid: normalizeUnset(fields.trunkSid),
  };
}

export interface FieldDifference {
  field: keyof VoiceState;
  expected: string | null;
  actual: string | null;
}

/**
 * The stale check: every relevant field whose current value differs from the plan's `before`.
 * Empty means the number is exactly as it was when the plan was made. HTTP methods compare without
 * case, because Twilio echoes `POST` for `post`.
 */
export function diffAgainstBefore(current: VoiceState, before: VoiceState): FieldDifference[] {
  const differences: FieldDifference[] = [];
  for (const field of VOICE_STATE_FIELDS) {
    if (!sameValue(field, current[field], before[field])) {
      differences.push({ field, expected: before[field], actual: current[field] });
    }
  }
  return differences;
}

/** The state a number is in after `update` is applied to `before` (what a re-fetch should show). */
export function applyVoiceUpdate(before: VoiceState, update: VoiceUpdate): VoiceState {
  const after: VoiceState = { ...before };
  for (const field of UPDATE_FIELDS) {
    const value = update[field];
    if (value !== undefined) after[field] = normalizeUnset(value);
  }
  // Twilio: setting a voice application clears the trunk (and the reverse); mirror it so the
  // predicted state matches what a re-fetch shows.
  if (after.voiceApplicationSid !== null && update.voiceApplicationSid) after.trunkSid = null;
  return after;
}

/** Whether every field `update` writes already holds its value in `current` (the change took). */
export function updateTook(current: VoiceState, update: VoiceUpdate): boolean {
  return UPDATE_FIELDS.every((field) => {
    const value = update[field];
    return value === undefined || sameValue(field, current[field], normalizeUnset(value));
  });
}

/**
 * The update that puts back `prior` where `update` changed it: exactly the fields the change wrote,
 * with their old values ("" clears a field that was unset). Used to write rollback.json.
 */
export function restoreUpdateFor(prior: VoiceState, update: VoiceUpdate): VoiceUpdate {
  const restore: VoiceUpdate = {};
  if (update.voiceReceiveMode !== undefined) restore.voiceReceiveMode = prior.voiceReceiveMode === 'voice' ? 'voice' : 'fax';
  if (update.voiceUrl !== undefined) restore.voiceUrl = prior.voiceUrl ?? '';
  // An unset method cannot be sent back as "": Twilio defaults it to POST, which is what it meant.
  if (update.voiceMethod !== undefined) restore.voiceMethod = prior.voiceMethod ?? 'POST';
  if (update.voiceApplicationSid !== undefined) restore.voiceApplicationSid = prior.voiceApplicationSid ?? '';
  return restore;
}

function sameValue(field: keyof VoiceState, a: string | null, b: string | null): boolean {
  if (field === 'voiceMethod' || field === 'voiceFallbackMethod') return (a ?? 'POST').toUpperCase() === (b ?? 'POST').toUpperCase();
  return a === b;
}
