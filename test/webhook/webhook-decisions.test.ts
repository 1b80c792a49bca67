/**
 * The webhook's pure decisions, without I/O: which URL a signature covers (proxies, --public-url),
 * the TwiML answers, form parsing, the action callback's fields, the signature check itself,
 * `serve`'s flag parsing and the log's scrubbing.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { serveConfigFromFlags, type ServeFlags } from '../../src/commands/serve-command.js';
import { parseFaxTwiml } from '../../src/emulator/twiml-reply.js';
import { UsageError } from '../../src/errors.js';
import { defaultRetryDelayMs } from '../../src/archive/archive-engine.js';
import { parseFaxCallback } from '../../src/webhook/fax-intake.js';
import { emptyTwiml, receiveTwiml, rejectTwiml } from '../../src/webhook/fax-twiml.js';
import { isFormContentType, param, parseForm, WebhookRequestError } from '../../src/webhook/form-body.js';
import { parsePublicUrl, publicUrlOf, routeOf, signedUrlFor } from '../../src/webhook/public-url.js';
import { isValidTwilioSignature } from '../../src/webhook/signature-check.js';
import { createWebhookLog } from '../../src/webhook/webhook-log.js';

const FX = `FX${'0123456789abcdef'.repeat(2)}`;
const AC = `AC${'fedcba9876543210'.repeat(2)}`;

describe('public URL and the signed URL', () => {
  it('parses --public-url keeping the authority as written and dropping a trailing slash', () => {
    expect(parsePublicUrl('https://fax.example.org')).toEqual({ origin: 'https://fax.example.org', basePath: '' });
    expect(parsePublicUrl('https://fax.example.org:443/hooks/')).toEqual({ origin: 'https://fax.example.org:443', basePath: '/hooks' });
    expect(publicUrlOf(parsePublicUrl('http://h:8080/a/b'), '/fax/received')).toBe('http://h:8080/a/b/fax/received');
  });

  it('refuses a --public-url that is not an absolute http(s) URL without query, fragment or credentials', () => {
    for (const bad of ['fax.example.org', 'ftp://fax.example.org', 'https://fax.example.org/?x=1', 'https://fax.example.org/#f', 'https://u:p@fax.example.org']) {
      expect(() => parsePublicUrl(bad), bad).toThrow(UsageError);
    }
  });

  it('rebuilds the URL Twilio signed: public URL, route with or without the proxied prefix, raw query', () => {
    const base = parsePublicUrl('https://fax.example.org/hooks');
    expect(signedUrlFor('/fax/incoming?a=1&b=%20', { host: '127.0.0.1:8080' }, base)).toBe('https://fax.example.org/hooks/fax/incoming?a=1&b=%20');
    expect(signedUrlFor('/hooks/fax/incoming', { host: '127.0.0.1:8080' }, base)).toBe('https://fax.example.org/hooks/fax/incoming');
    expect(signedUrlFor('/fax/received', { host: 'svc:8080' }, null)).toBe('http://svc:8080/fax/received');
    // Forwarding headers count only from a trusted proxy, and then its own (last) entry.
    const forwarded = { host: 'svc:8080', 'x-forwarded-proto': 'http, https', 'x-forwarded-host': 'evil.example, a.example' };
    expect(signedUrlFor('/fax/received', forwarded, null)).toBe('http://svc:8080/fax/received');
    expect(signedUrlFor('/fax/received', forwarded, null, true)).toBe('https://a.example/fax/received');
    expect(signedUrlFor('/fax/received', forwarded, base, true)).toBe('https://fax.example.org/hooks/fax/received');
    expect(routeOf('/hooks', '/hooks')).toBe('/');
    expect(routeOf('/hooksx/fax/incoming', '/hooks')).toBe('/hooksx/fax/incoming');
  });
});

describe('TwiML answers', () => {
  it('builds <Receive> with every attribute, escaped, that Twilio (and the emulator) reads back', () => {
    const xml = receiveTwiml({ actionUrl: 'https://h.example/fax/received?a=1&b=2', mediaType: 'image/tiff', pageSize: 'a4', storeMedia: false });
    expect(xml).toContain('action="https://h.example/fax/received?a=1&amp;b=2"');
    expect(parseFaxTwiml(xml)).toEqual({
      verb: 'Receive', action: 'https://h.example/fax/received?a=1&b=2', method: 'POST', mediaType: 'image/tiff', pageSize: 'a4', storeMedia: false,
    });
  });

  it('builds <Reject/> as the only verb, and an empty answer for callbacks', () => {
    expect(rejectTwiml()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Reject/></Response>');
    expect(parseFaxTwiml(rejectTwiml())).toEqual({ verb: 'Reject' });
    expect(emptyTwiml()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });
});

describe('form bodies and the action callback', () => {
  it('keeps repeated keys and recognises only form content types', () => {
    const params = parseForm('A=1&B=x%20y&A=2&C=');
    expect(params).toEqual({ A: ['1', '2'], B: 'x y', C: '' });
    expect(param(params, 'A')).toBe('1');
    expect(isFormContentType('application/x-www-form-urlencoded; charset=utf-8')).toBe(true);
    expect(isFormContentType('Application/X-WWW-Form-Urlencoded')).toBe(true);
    expect(isFormContentType('application/json')).toBe(false);
    expect(isFormContentType(undefined)).toBe(false);
  });

  it('reads the callback fields and refuses malformed sids with 400', () => {
    expect(parseFaxCallback({ FaxSid: FX, AccountSid: AC, FaxStatus: 'failed', NumPages: '0', ErrorCode: '34107', ErrorMessage: 'broke off' })).toEqual({
      faxSid: FX, accountSid: AC, faxStatus: 'failed', numPages: 0, errorCode: '34107', errorMessage: 'broke off',
    });
    expect(parseFaxCallback({ FaxSid: FX, AccountSid: AC, NumPages: 'x' }).numPages).toBeNull();
    const bads: Record<string, string>[] = [{ AccountSid: AC }, { FaxSid: 'FX123', AccountSid: AC }, { FaxSid: FX, AccountSid: '../etc' }];
    for (const bad of bads) {
      let caught: unknown;
      try {
        parseFaxCallback(bad);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(WebhookRequestError);
      expect((caught as WebhookRequestError).status).toBe(400);
    }
  });
});

describe('signature check', () => {
  const url = 'https://fax.example.org/fax/incoming';
  const params = { FaxSid: FX, AccountSid: AC, To: '+15005550001', From: '+15005550006' };
  const token = '9'.repeat(32);
  const expected = createHmac('sha1', token)
    .update(url + Object.keys(params).sort().map((k) => k + params[k as keyof typeof params]).join(''))
    .digest('base64');

  it('accepts exactly Twilio\'s HMAC-SHA1 of URL and sorted parameters', () => {
    expect(isValidTwilioSignature(token, expected, url, params)).toBe(true);
    // validateRequest also accepts the URL with the scheme's default port, as Twilio signed both ways.
    expect(isValidTwilioSignature(token, expected, 'https://fax.example.org:443/fax/incoming', params)).toBe(true);
  });

  it('refuses another token, URL, parameter value or an extra parameter', () => {
    expect(isValidTwilioSignature('8'.repeat(32), expected, url, params)).toBe(false);
    expect(isValidTwilioSignature(token, expected, 'https://fax.example.org/fax/received', params)).toBe(false);
    expect(isValidTwilioSignature(token, expected, url, { ...params, To: '+15005550002' })).toBe(false);
    expect(isValidTwilioSignature(token, expected, url, { ...params, Extra: '' })).toBe(false);
    expect(isValidTwilioSignature(token, '', url, params)).toBe(false);
  });
});

describe('serve flags', () => {
  const flags: ServeFlags = {
    catalog: '/var/lib/fax/catalog.sqlite', port: '8080', host: '0.0.0.0', mode: 'receive', mediaType: 'application/pdf', pageSize: 'letter',
    storeMedia: 'true', workers: '4', maxAttempts: '10', verify: 'strongest', graceSeconds: '25',
  };

  it('turns flags into the server config', () => {
    expect(serveConfigFromFlags({ ...flags, publicUrl: 'https://fax.example.org/x', storeMedia: 'false', insecureSkipSignature: true, verify: 'full' })).toMatchObject({
      host: '0.0.0.0', port: 8080, publicBase: { origin: 'https://fax.example.org', basePath: '/x' }, mode: 'receive', storeMedia: false,
      verifySignatures: false, forceFullVerify: true, workers: 4, maxAttempts: 10, spoolDir: '/var/lib/fax/catalog.sqlite.spool', graceMs: 25_000,
    });
    expect(serveConfigFromFlags(flags).verifySignatures).toBe(true);
    expect(serveConfigFromFlags(flags).publicBase).toBeNull();
  });

  it('--trust-proxy: addresses and CIDRs, repeatable or comma lists; refused beside --public-url', () => {
    const config = serveConfigFromFlags({ ...flags, trustProxy: ['10.0.0.0/8, 192.168.1.7', 'fd00::/8'] });
    const trusted = config.trustedProxies!;
    expect(trusted.entries).toEqual(['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);
    for (const peer of ['10.1.2.3', '::ffff:10.1.2.3', '192.168.1.7', 'fd00::1']) expect(trusted.trusts(peer), peer).toBe(true);
    for (const peer of ['11.0.0.1', '192.168.1.8', '::1', 'fe80::1', undefined]) expect(trusted.trusts(peer), String(peer)).toBe(false);
    expect(serveConfigFromFlags(flags).trustedProxies!.trusts('127.0.0.1')).toBe(false); // none by default
    for (const bad of ['10.0.0.0/33', 'proxy.example', '10.0.0.1/8/1', '::1/129', '10.0.0.0/x']) {
      expect(() => serveConfigFromFlags({ ...flags, trustProxy: [bad] }), bad).toThrow(/--trust-proxy takes an IP address or CIDR/);
    }
    expect(() => serveConfigFromFlags({ ...flags, publicUrl: 'https://fax.example.org', trustProxy: ['10.0.0.1'] })).toThrow(/--trust-proxy has no effect with --public-url/);
  });

  it('refuses bad values with a UsageError naming the flag', () => {
    const cases: Array<[Partial<ServeFlags>, string]> = [
      [{ port: '-1' }, '--port'], [{ mode: 'accept' }, '--mode'], [{ mediaType: 'image/png' }, '--media-type'], [{ pageSize: 'a3' }, '--page-size'],
      [{ storeMedia: 'yes' }, '--store-media'], [{ workers: '0' }, '--workers'], [{ publicUrl: 'fax.example.org' }, '--public-url'],
    ];
    for (const [change, flag] of cases) expect(() => serveConfigFromFlags({ ...flags, ...change }), flag).toThrow(new RegExp(flag));
  });
});

describe('structured log', () => {
  it('writes one JSON object per line and scrubs known secrets and URL signatures', () => {
    const lines: string[] = [];
    const secret = 'ab'.repeat(16);
    const log = createWebhookLog({ sink: { write: (l: string) => lines.push(l) }, format: 'json', knownSecrets: () => [secret], now: () => new Date('2021-12-01T00:00:00Z') });
    log.write('warn', 'fax-archive-failed', { faxSid: FX, error: `refused token ${secret} at https://m.example/x?Expires=1&Signature=abcdef123456`, attempts: 2, skip: undefined });
    expect(lines).toHaveLength(1);
    const event = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(event).toMatchObject({ at: '2021-12-01T00:00:00.000Z', level: 'warn', event: 'fax-archive-failed', faxSid: FX, attempts: 2 });
    expect('skip' in event).toBe(false);
    expect(lines[0]).not.toContain(secret);
    expect(lines[0]).not.toContain('abcdef123456');
  });

  it('never throws, even when the sink does', () => {
    const log = createWebhookLog({ sink: { write: () => { throw new Error('EPIPE'); } }, format: 'text', knownSecrets: () => [] });
    expect(() => log.write('info', 'x', { a: 'b c' })).not.toThrow();
  });
});

describe('retry delay', () => {
  it('grows from 5 s and is capped at 5 minutes', () => {
    expect([1, 2, 3].map(defaultRetryDelayMs)).toEqual([5_000, 10_000, 20_000]);
    expect(defaultRetryDelayMs(30)).toBe(300_000);
  });
});
