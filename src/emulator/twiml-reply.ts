/**
 * Reads the TwiML a fax webhook answered: `<Response><Receive .../></Response>`,
 * `<Response><Reject/></Response>`, or anything else (which fails the fax with 34106).
 * A deliberately small parser: fax TwiML has one verb with attributes; verb and attribute names are
 * case sensitive (the seeds' "TwiML for Programmable Fax").
 */

export interface ReceiveVerb {
  verb: 'Receive';
  action: string | null;
  method: 'GET' | 'POST';
  mediaType: 'application/pdf' | 'image/tiff';
  pageSize: 'letter' | 'legal' | 'a4';
  storeMedia: boolean;
}

export type TwimlReply = ReceiveVerb | { verb: 'Reject' } | { verb: 'invalid'; reason: string };

function unescapeXml(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&amp;/g, '&');
}

function parseAttributes(text: string): Map<string, string> | null {
  const attrs = new Map<string, string>();
  const re = /\s*([A-Za-z_][\w.-]*)\s*=\s*("([^"]*)"|'([^']*)')/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(text)) !== null) {
    attrs.set(m[1] as string, unescapeXml(m[3] ?? m[4] ?? ''));
    consumed = re.lastIndex;
  }
  return text.slice(consumed).trim() === '' ? attrs : null;
}

export function parseFaxTwiml(xml: string): TwimlReply {
  const body = xml
    .replace(/^\uFEFF/, '')
    .replace(/^\s*<\?xml[^?]*\?>/, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .trim();
  const root = /^<Response\s*>([\s\S]*)<\/Response>$|^<Response\s*\/>$/.exec(body);
  if (!root) return { verb: 'invalid', reason: 'no <Response> root' };
  const inner = (root[1] ?? '').trim();
  const verb = /^<([A-Za-z]+)((?:\s+[^>]*?)?)\s*(\/>|>\s*<\/\1>)$/.exec(inner);
  if (!verb) return { verb: 'invalid', reason: inner === '' ? 'empty <Response>' : 'not exactly one fax verb' };
  const name = verb[1] as string;
  const attrs = parseAttributes(verb[2] ?? '');
  if (!attrs) return { verb: 'invalid', reason: `malformed attributes on <${name}>` };
  if (name === 'Reject') return { verb: 'Reject' };
  if (name !== 'Receive') return { verb: 'invalid', reason: `<${name}> is not a fax verb` };
  const method = (attrs.get('method') ?? 'POST').toUpperCase();
  const mediaType = attrs.get('mediaType') ?? 'application/pdf';
  const pageSize = attrs.get('pageSize') ?? 'letter';
  const storeMedia = attrs.get('storeMedia') ?? 'true';
  if (method !== 'GET' && method !== 'POST') return { verb: 'invalid', reason: `method ${method}` };
  if (mediaType !== 'application/pdf' && mediaType !== 'image/tiff') return { verb: 'invalid', reason: `mediaType ${mediaType}` };
  if (pageSize !== 'letter' && pageSize !== 'legal' && pageSize !== 'a4') return { verb: 'invalid', reason: `pageSize ${pageSize}` };
  if (storeMedia !== 'true' && storeMedia !== 'false') return { verb: 'invalid', reason: `storeMedia ${storeMedia}` };
  return { verb: 'Receive', action: attrs.get('action') ?? null, method, mediaType, pageSize, storeMedia: storeMedia === 'true' };
}
