/**
 * What a person reviews must not hand them a credential: a voice URL may carry one in its userinfo
 * (`https://user:pass@host/...`) or in a query or fragment parameter (`?token=...`, `&sig=...`), and
 * issue 13 found plan.md and plan.csv copying them verbatim. Both show the URL with those parts
 * replaced by `***`; plan.json (mode 0600, what `numbers apply` reads and hashes) keeps them whole.
 * Pure string work: the URL is never re-serialised, so everything else reads exactly as Twilio has it.
 */

export const MASK = '***';

/** Parameter names that carry credentials: token, secret, password, key, signature, auth, session... */
const SECRET_PARAMETER = /token|secret|passw|pwd|^pass$|auth|key|sig|credential|session|jwt|bearer|otp/i;
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s<>"'`|]+/gi;

/** The URL with its userinfo and the values of credential-like parameters masked. */
export function maskUrlCredentials(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#\s]*)/i.exec(url);
  let out = url;
  if (scheme) {
    const authority = scheme[2]!;
    const at = authority.lastIndexOf('@');
    if (at !== -1) {
      const userinfo = authority.slice(0, at);
      const masked = userinfo.includes(':') ? `${MASK}:${MASK}` : MASK;
      out = `${scheme[1]}${masked}@${authority.slice(at + 1)}${url.slice(scheme[0].length)}`;
    }
  }
  return out.replace(/([?#&;])([^=&;#?]*)=([^&;#]*)/g, (whole, separator: string, name: string, value: string) => {
    if (!value || !SECRET_PARAMETER.test(safeDecode(name))) return whole;
    return `${separator}${name}=${MASK}`;
  });
}

/** Free text (a warning, a detail) with every URL in it masked as above. */
export function maskCredentialsInText(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => maskUrlCredentials(url));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
