/**
 * Which peers may tell `serve` what URL Twilio called (X-Forwarded-Proto / X-Forwarded-Host).
 * Issue 13 §4: trusting those headers from any client let a signature made for the same path on
 * another host pass here (a request Twilio signed for `https://other.example/fax/incoming`, replayed
 * with `X-Forwarded-Host: other.example`). Only a peer named by `--trust-proxy ADDR|CIDR` is
 * believed, and with `--public-url` no header is (the URL is then fixed). Pure, over node's BlockList.
 */
import { BlockList, isIP } from 'node:net';
import { UsageError } from '../errors.js';

export interface TrustedProxies {
  /** Whether a request from `address` (the socket's remote address) may set the forwarding headers. */
  trusts(address: string | undefined): boolean;
  /** The entries as given, for the start-up line. */
  readonly entries: readonly string[];
}

export const NO_TRUSTED_PROXIES: TrustedProxies = { trusts: () => false, entries: [] };

/** Parses `--trust-proxy` values (each an address or CIDR, or a comma list of them); UsageError names a bad one. */
export function parseTrustedProxies(values: readonly string[]): TrustedProxies {
  const list = new BlockList();
  const entries: string[] = [];
  for (const entry of values.flatMap((value) => value.split(',')).map((v) => v.trim()).filter(Boolean)) {
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const bits = family === 4 ? 32 : 128;
    const prefixLength = prefix === undefined ? bits : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (!family || extra !== undefined || !(prefixLength >= 0 && prefixLength <= bits)) {
      throw new UsageError(`--trust-proxy takes an IP address or CIDR (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8), got ${JSON.stringify(entry)}`);
    }
    list.addSubnet(address!, prefixLength, family === 4 ? 'ipv4' : 'ipv6');
    entries.push(entry);
  }
  if (entries.length === 0) return NO_TRUSTED_PROXIES;
  return {
    entries,
    trusts(remote) {
      if (!remote) return false;
      // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d.
      const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(remote);
      const address = mapped ? mapped[1]! : remote;
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
