import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  AuthError, ConfigurationError, describeError, ExitCode, exitCodeFor, ExternalServiceError,
  LockError, redactSecrets, rememberSecret, UsageError,
} from '../../src/errors.js';

describe('exit codes', () => {
  it('maps each error class to its documented exit code', () => {
    expect(exitCodeFor(new UsageError('x'))).toBe(ExitCode.usage);
    expect(exitCodeFor(new ConfigurationError('x'))).toBe(2);
    expect(exitCodeFor(new AuthError('x'))).toBe(2);
    expect(exitCodeFor(new LockError('x'))).toBe(3);
    expect(exitCodeFor(new ExternalServiceError('x'))).toBe(1);
    expect(exitCodeFor(new Error('bug'))).toBe(ExitCode.internal);
  });
});

describe('redactSecrets', () => {
  it('removes known tokens, URL userinfo, Basic auth values and pre-signed signatures', () => {
    const token = 'f00dfacecafebeef0123456789abcdef';
    const text = `token ${token} at https://AC1:${token}@api.twilio.com Basic QUMxOnNlY3JldHNlY3JldA== ` +
      `https://media.example/x?X-Amz-Signature=abcdef123456&X-Amz-Expires=7200`;
    const out = redactSecrets(text, [token]);
    expect(out).not.toContain(token);
    expect(out).not.toContain('QUMxOnNlY3JldHNlY3JldA==');
    expect(out).not.toContain('abcdef123456');
    expect(out).toContain('X-Amz-Expires=7200');
  });

  it('issue 13: a known or remembered secret goes in any case and in its base64 forms, with or without Basic', () => {
    const sid = 'AC' + '1'.repeat(32);
    const token = 'a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5';
    const pair = Buffer.from(`${sid}:${token}`).toString('base64');
    const echoed = `a ${pair} b basic ${pair} c BASIC ${pair} d ${token.toUpperCase()} e ${pair.replace(/=+$/, '')} f ${Buffer.from(token).toString('base64url')}`;
    const unknown = redactSecrets(echoed);
    expect(unknown).toContain(token.toUpperCase()); // not known yet: only the Basic-prefixed values go
    expect(unknown).not.toMatch(/basic QUM/i);
    rememberSecret(token, sid);
    const out = redactSecrets(echoed);
    expect(out).toBe('a [redacted] b basic [redacted] c BASIC [redacted] d [redacted] e [redacted] f [redacted]');
    // Short values are never redacted by value (they would blank out ordinary words).
    expect(redactSecrets('the cat sat', ['cat'])).toBe('the cat sat');
  });

  it('describeError keeps one line', () => {
    expect(describeError(new Error('first line\nsecond line'))).toBe('first line');
  });

  it('a body cut off mid-download is described as that, not as Node\'s bare "aborted" (issue 17)', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(100), () => res.socket?.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const error = await new Promise<Error>((resolve) => {
        http.get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (res) => {
          res.on('error', resolve);
          res.resume();
        }).on('error', resolve);
      });
      expect(error.message).toBe('aborted');
      expect(describeError(error)).toBe('the connection closed before the whole response arrived (ECONNRESET, aborted)');
    } finally {
      server.close();
    }
  });
});
