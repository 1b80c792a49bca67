/**
 * Reads MIGRATION.md into the steps the runbook test runs, in document order. Pure: text in, steps out.
 *
 * The rules (they are also stated at the top of MIGRATION.md's source, for whoever edits it):
 * - Only fenced blocks tagged `sh`, `bash` or `shell` are read. Other blocks (JSON, ini) are text.
 * - `<!-- runbook: skip -->` on the line(s) just before a block: not run at all (crontab lines,
 *   calls to the real Twilio API, anything that only makes sense on the operator's machine).
 * - `<!-- runbook: shell -->` before a block: the whole block is one step, run by
 *   `bash -euo pipefail` (store preparation with the aws CLI, the "years later" checks with sqlite3,
 *   sha256sum and aws s3 cp). Expected to exit 0.
 * - `<!-- runbook: iam-policy -->` before a `json` block: the IAM policy, checked against the S3
 *   calls the store makes.
 * - Any other block: each logical line (backslash continuations joined) that starts with
 *   `fax-sunset ` is a command step; `export NAME=...` lines are kept and replayed before every
 *   later step (except TWILIO_* and AWS_*: the test supplies credentials and endpoints). Other lines
 *   are prose for the operator and are not run.
 * - A command's trailing comment says what it exits with: `# exits 1 ...` (default 0), and
 *   `# runs until stopped` marks a server (started, probed, stopped with SIGTERM).
 */

export type RunbookStep =
  | { kind: 'command'; line: number; text: string; expectedExit: number; background: boolean }
  | { kind: 'export'; line: number; text: string; name: string }
  | { kind: 'shell'; line: number; text: string };

export interface RunbookDocument {
  steps: RunbookStep[];
  /** Bodies of `<!-- runbook: iam-policy -->` JSON blocks. */
  iamPolicies: string[];
  /** Blocks skipped by marker, by starting line (for the test's own accounting). */
  skippedBlocks: number[];
}

const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell']);
const MARKER = /^<!--\s*runbook:\s*([a-z-]+)\s*-->$/;
/** Exports the test never replays: the test's own credentials and endpoints win. */
const SUPPLIED_BY_TEST = /^(TWILIO_|AWS_)/;

export function parseRunbook(markdown: string): RunbookDocument {
  const lines = markdown.split('\n');
  const steps: RunbookStep[] = [];
  const iamPolicies: string[] = [];
  const skippedBlocks: number[] = [];
  let marker: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    const markerMatch = MARKER.exec(trimmed);
    if (markerMatch) {
      marker = markerMatch[1] ?? null;
      continue;
    }
    const fence = /^(`{3,})\s*([A-Za-z0-9_-]*)/.exec(trimmed);
    if (!fence) {
      if (trimmed !== '') marker = null; // a marker applies only to the block right after it
      continue;
    }
    const ticks = fence[1] ?? '```';
    const language = (fence[2] ?? '').toLowerCase();
    const start = i + 1;
    const body: string[] = [];
    for (i = i + 1; i < lines.length && !(lines[i] ?? '').trim().startsWith(ticks); i++) body.push(lines[i] ?? '');
    const blockMarker = marker;
    marker = null;
    if (blockMarker === 'iam-policy') {
      iamPolicies.push(body.join('\n'));
      continue;
    }
    if (!SHELL_LANGUAGES.has(language)) continue;
    if (blockMarker === 'skip') {
      skippedBlocks.push(start);
      continue;
    }
    if (blockMarker === 'shell') {
      steps.push({ kind: 'shell', line: start + 1, text: body.join('\n') });
      continue;
    }
    if (blockMarker !== null) throw new Error(`MIGRATION.md line ${start}: unknown runbook marker ${JSON.stringify(blockMarker)}`);
    steps.push(...stepsOfBlock(body, start + 1));
  }
  return { steps, iamPolicies, skippedBlocks };
}

function stepsOfBlock(body: string[], firstLine: number): RunbookStep[] {
  const steps: RunbookStep[] = [];
  for (let j = 0; j < body.length; j++) {
    const line = firstLine + j;
    let text = body[j] ?? '';
    while (/\\\s*$/.test(text) && j + 1 < body.length) text = text.replace(/\\\s*$/, ' ') + (body[++j] ?? '').trim();
    text = text.trim();
    if (text.startsWith('fax-sunset ')) {
      const comment = commentOf(text);
      const exits = /\bexits?\s+(\d)\b/.exec(comment);
      steps.push({
        kind: 'command',
        line,
        text,
        expectedExit: exits ? Number(exits[1]) : 0,
        background: /runs until stopped/.test(comment),
      });
    } else {
      const exported = /^export\s+([A-Za-z_][A-Za-z0-9_]*)=/.exec(text);
      if (exported && !SUPPLIED_BY_TEST.test(exported[1] ?? '')) steps.push({ kind: 'export', line, text, name: exported[1] ?? '' });
    }
  }
  return steps;
}

/** The trailing `# ...` comment of a shell line (a `#` after whitespace, outside quotes), or ''. */
export function commentOf(text: string): string {
  let quote: string | null = null;
  for (let k = 0; k < text.length; k++) {
    const c = text[k];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (k === 0 || /\s/.test(text[k - 1] ?? ''))) {
      return text.slice(k + 1).trim();
    }
  }
  return '';
}

/**
 * The translation used when no S3-compatible server with Object Lock is available: every
 * `s3://bucket/prefix` becomes the folder `./s3/bucket/prefix` (a filesystem store), and the flags
 * that only mean something to S3 are dropped (their FAX_SUNSET_* exports become `unset`). Applied to commands and replayed exports alike.
 */
export function toFilesystemStore(text: string): string {
  return text
    .replace(/s3:\/\/([a-z0-9.-]+)(\/[^\s"']*)?/g, (_m, bucket: string, prefix: string | undefined) => `./s3/${bucket}${prefix ?? ''}`)
    .replace(/(^|[\s"'])--(?:sse|kms-key-id|retain-until|lock-mode|storage-class|s3-endpoint)(?:=[^\s"']+|\s+[^\s"']+)/g, '$1')
    // The same flags as environment variables (every store flag has one): unset instead.
    .replace(/^export (FAX_SUNSET_(?:SSE|KMS_KEY_ID|RETAIN_UNTIL|LOCK_MODE|STORAGE_CLASS|S3_ENDPOINT))=.*$/, 'unset $1');
}

/** S3 bucket names the runbook's commands and exports use. */
export function bucketsOf(steps: readonly RunbookStep[]): string[] {
  const names = new Set<string>();
  for (const step of steps) {
    if (step.kind === 'shell') continue;
    for (const match of step.text.matchAll(/s3:\/\/([a-z0-9.-]+)/g)) if (match[1]) names.add(match[1]);
  }
  return [...names];
}
