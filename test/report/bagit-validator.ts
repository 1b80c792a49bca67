/**
 * An independent BagIt (RFC 8493) validator for the tests, written from the RFC rather than from
 * the code under test (no Python bagit on Debian): returns every problem found, [] for a valid bag.
 *
 *  - bagit.txt: exactly `BagIt-Version: M.N` then `Tag-File-Character-Encoding: UTF-8` (§2.1.1)
 *  - a payload directory `data/` (§2.1.2) and at least one `manifest-<alg>.txt` (§2.1.3)
 *  - complete: every payload file is listed in every payload manifest (§3 "complete")
 *  - valid: every manifest entry exists and its checksum matches; fetch.txt entries are present
 *  - manifest paths start with data/, are relative, no `.`/`..` segments, percent-decoded (§2.1.3)
 *  - bag-info.txt lines are `Label: value` or continuations; Payload-Oxum matches the payload (§2.2.2)
 *  - tag manifests list only existing non-payload files with matching checksums, never themselves (§2.2.1)
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

function sha(alg: string, path: string): string {
  return createHash(alg).update(readFileSync(path)).digest('hex');
}

function walk(dir: string, root: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, root, out);
    else out.push(relative(root, full).split(sep).join('/'));
  }
  return out;
}

function decodePath(path: string): string {
  return path.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
}

function parseManifest(text: string, problems: string[], name: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const match = /^([0-9a-fA-F]+)[ \t]+(.+)$/.exec(line);
    if (!match) {
      problems.push(`${name}:${i + 1}: malformed line`);
      continue;
    }
    const path = decodePath(match[2]!.replace(/^\*/, ''));
    if (path.startsWith('/') || path.split('/').some((s) => s === '.' || s === '..' || s === '')) problems.push(`${name}:${i + 1}: unsafe path ${path}`);
    if (entries.has(path)) problems.push(`${name}: ${path} listed twice`);
    entries.set(path, match[1]!.toLowerCase());
  }
  return entries;
}

export function validateBag(bagDir: string, options: { requireComplete?: boolean } = {}): string[] {
  const requireComplete = options.requireComplete ?? true;
  const problems: string[] = [];
  const bagitTxt = join(bagDir, 'bagit.txt');
  if (!existsSync(bagitTxt)) return ['bagit.txt missing'];
  const declaration = readFileSync(bagitTxt, 'utf8').split(/\r?\n/);
  if (!/^BagIt-Version: \d+\.\d+$/.test(declaration[0] ?? '')) problems.push('bagit.txt: bad BagIt-Version line');
  if (declaration[1] !== 'Tag-File-Character-Encoding: UTF-8') problems.push('bagit.txt: bad encoding line');

  const dataDir = join(bagDir, 'data');
  const payloadFiles = existsSync(dataDir) && statSync(dataDir).isDirectory() ? walk(dataDir, bagDir) : [];
  if (requireComplete && !existsSync(dataDir)) problems.push('data/ missing');

  const top = readdirSync(bagDir);
  const manifests = top.filter((n) => /^manifest-[a-z0-9]+\.txt$/.test(n));
  if (manifests.length === 0) problems.push('no payload manifest');
  const fetched = new Set<string>();
  if (top.includes('fetch.txt')) {
    for (const line of readFileSync(join(bagDir, 'fetch.txt'), 'utf8').split('\n')) {
      if (!line) continue;
      const m = /^(\S+)[ \t]+(\d+|-)[ \t]+(.+)$/.exec(line);
      if (!m) problems.push(`fetch.txt: malformed line ${line}`);
      else fetched.add(decodePath(m[3]!));
    }
  }

  for (const name of manifests) {
    const alg = name.slice('manifest-'.length, -'.txt'.length);
    const entries = parseManifest(readFileSync(join(bagDir, name), 'utf8'), problems, name);
    for (const [path, digest] of entries) {
      if (!path.startsWith('data/')) problems.push(`${name}: ${path} is not under data/`);
      const full = join(bagDir, ...path.split('/'));
      if (!existsSync(full)) {
        if (requireComplete || !fetched.has(path)) problems.push(`${name}: ${path} missing`);
        continue;
      }
      if (sha(alg, full) !== digest) problems.push(`${name}: ${path} checksum mismatch`);
    }
    for (const file of payloadFiles) if (!entries.has(file)) problems.push(`${name}: payload file ${file} not listed`);
    if (!requireComplete) for (const path of entries.keys()) if (!fetched.has(path) && !payloadFiles.includes(path)) problems.push(`${path} neither present nor in fetch.txt`);
  }

  if (top.includes('bag-info.txt')) {
    const lines = readFileSync(join(bagDir, 'bag-info.txt'), 'utf8').split('\n').filter((l) => l !== '');
    for (const line of lines) if (!/^[^:\s][^:]*: ?.*$/.test(line) && !/^[ \t]/.test(line)) problems.push(`bag-info.txt: malformed line ${line}`);
    const oxum = lines.find((l) => l.startsWith('Payload-Oxum:'))?.split(':')[1]?.trim();
    if (oxum && payloadFiles.length > 0) {
      const bytes = payloadFiles.reduce((sum, f) => sum + statSync(join(bagDir, f)).size, 0);
      if (oxum !== `${bytes}.${payloadFiles.length}`) problems.push(`bag-info.txt: Payload-Oxum ${oxum} but payload is ${bytes}.${payloadFiles.length}`);
    }
  }

  for (const name of top.filter((n) => /^tagmanifest-[a-z0-9]+\.txt$/.test(n))) {
    const alg = name.slice('tagmanifest-'.length, -'.txt'.length);
    const entries = parseManifest(readFileSync(join(bagDir, name), 'utf8'), problems, name);
    for (const [path, digest] of entries) {
      if (path.startsWith('data/')) problems.push(`${name}: lists payload file ${path}`);
      if (/^tagmanifest-/.test(path)) problems.push(`${name}: lists a tag manifest`);
      const full = join(bagDir, ...path.split('/'));
      if (!existsSync(full)) problems.push(`${name}: ${path} missing`);
      else if (sha(alg, full) !== digest) problems.push(`${name}: ${path} checksum mismatch`);
    }
  }
  return problems;
}
