/**
 * Issue 12 §1: per-subaccount credentials from a file (`--credentials FILE` or
 * FAX_SUNSET_CREDENTIALS): one account per line or JSON, refused unless mode 0600, and no error
 * ever echoes a value from it.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { credentialsFromFile } from '../../src/commands/credentials.js';
import { ConfigurationError, redactSecrets } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'fax-sunset-credentials-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const A = 'AC' + 'a'.repeat(32);
const B = 'AC' + 'b'.repeat(32);
const KEY = 'SK' + 'c'.repeat(32);
const TOKEN = '0123456789abcdef0123456789abcdef';
const SECRET = 'fedcba9876543210fedcba9876543210';

function file(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

describe('the credentials file', () => {
  it('reads one account per line (token, or API key and secret), comments and blank lines allowed', () => {
    const path = file('lines', `# subaccounts\n${A} ${TOKEN}\n\n${B},${KEY}:${SECRET}\n`);
    const read = credentialsFromFile(path);
    expect(read.get(A)).toEqual({ accountSid: A, username: A, password: TOKEN, authToken: TOKEN });
    expect(read.get(B)).toEqual({ accountSid: B, username: KEY, password: SECRET, authToken: null });
  });

  it('reads JSON, a list or an object by sid, and is found through FAX_SUNSET_CREDENTIALS', () => {
    const list = file('list.json', JSON.stringify([{ accountSid: A, authToken: TOKEN }, { accountSid: B, apiKey: KEY, apiSecret: SECRET }]));
    expect([...credentialsFromFile(undefined, { FAX_SUNSET_CREDENTIALS: list }).keys()]).toEqual([A, B]);
    const bySid = file('object.json', JSON.stringify({ [A]: TOKEN, [B]: { apiKey: KEY, apiSecret: SECRET } }));
    expect(credentialsFromFile(bySid).get(B)?.username).toBe(KEY);
    expect(credentialsFromFile(undefined, {}).size).toBe(0);
  });

  it('is refused unless only its owner can read it, naming the fix', () => {
    const path = file('open', `${A} ${TOKEN}\n`, 0o640);
    expect(() => credentialsFromFile(path)).toThrow(ConfigurationError);
    expect(() => credentialsFromFile(path)).toThrow(/readable by others \(mode 0640\).*chmod 600/);
  });

  it('names a bad line by number, never by its content', () => {
    const path = file('bad', `${A} ${TOKEN}\nAC-not-a-sid ${SECRET}\n`);
    let message = '';
    try {
      credentialsFromFile(path);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/line 2: the account must be AC/);
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(TOKEN);
  });

  it('remembers every secret it read, so any later line is scrubbed of it', () => {
    const path = file('remember', `${A} ${'9'.repeat(8)}abcdefabcdefabcdefabcdef\n`);
    credentialsFromFile(path);
    expect(redactSecrets(`echo ${'9'.repeat(8)}ABCDEFabcdefabcdefabcdef`)).toBe('echo [redacted]');
  });
});
