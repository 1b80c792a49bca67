/**
 * The User-Agent fax-sunset sends to the media host (Twilio's guide: media requests without one
 * are refused). Built from package.json's version so it never drifts from the release.
 */
import { readFileSync } from 'node:fs';

function packageVersion(): string {
  // src/twilio/ when run from source, dist/src/twilio/ when built: look up a few levels for our package.json.
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const parsed = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (parsed.name === 'fax-sunset' && typeof parsed.version === 'string') return parsed.version;
    } catch {
      // not there: try the next level
    }
  }
  return '0.0.0';
}

/** `fax-sunset/<version>`. */
export const FAX_SUNSET_USER_AGENT = `fax-sunset/${packageVersion()}`;
