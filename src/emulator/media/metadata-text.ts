/**
 * The fax sid as it is written into file metadata (PDF /Title, TIFF ImageDescription): printable
 * ASCII without PDF string delimiters, so it needs no escaping and its byte length equals its
 * character length. Sids are [A-Za-z0-9] anyway; anything else (an emulator bug, a fuzz test)
 * becomes '_', and capped in length so metadata stays small.
 */
export function metadataSafeText(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
}
