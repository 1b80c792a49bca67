import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  AuthError, ConfigurationError, describeError, ExitCode, exitCodeFor, ExternalServiceError,
  LockError, redactSecrets, UsageError,
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
