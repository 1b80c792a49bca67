/**
 * report.html: ONE self-contained page an auditor would rather look at than read. Inline CSS and
 * inline SVG only: no script, no font, no image, no link that fetches anything, so it renders the
 * same offline, printed, or opened from an archive years from now (a browser test asserts that no
 * request leaves the page). Pure: model in, markup out; every value is escaped.
 */
import { fileURLToPath } from 'node:url';
import type { FaxState } from '../catalog/fax-states.js';
import type { RunRecord } from '../catalog/catalog.js';
import { AT_RISK_MARGIN_DAYS, TWILIO_RETENTION_DAYS } from '../retention.js';
import type { ExceptionKind, ExceptionList, ReportModel } from './report-model.js';
import { barChartSvg, compactNumber, donutSvg, escapeXml as esc, horizontalBarsSvg } from './svg-charts.js';
import { humanBytes } from './bagit-manifests.js';

export interface HtmlReportContext {
  /** The payload is in the report folder under data/ (`--bag`). */
  bag: boolean;
  /** One archived object, to make the "check it yourself" commands concrete. */
  sample: { key: string; sha256Hex: string } | null;
  /** Files in the report folder, for the footer. */
  files: readonly string[];
  softwareAgent: string;
  /** Each account's per-fax CSV in the report folder (a relative path), for the per-fax lookup. */
  accountFiles?: ReadonlyMap<string, string>;
}

const STATE_COLORS: Record<FaxState, string> = {
  verified: '#16a34a',
  'metadata-only': '#65a30d',
  deleted: '#2563eb',
  stored: '#f59e0b',
  fetched: '#fbbf24',
  listed: '#cbd5e1',
  failed: '#dc2626',
  lost: '#7f1d1d',
  'needs-review': '#9333ea',
};

const STATUS_COLORS: Record<string, string> = {
  delivered: '#16a34a',
  received: '#0d9488',
  failed: '#dc2626',
  'no-answer': '#f97316',
  busy: '#f59e0b',
  canceled: '#9ca3af',
  queued: '#cbd5e1',
  processing: '#94a3b8',
  sending: '#64748b',
  receiving: '#475569',
};

const METHOD_LABELS = { full: 'full re-read', checksum: 'store SHA-256', 'etag-md5': 'ETag = MD5', unverified: 'not verified' } as const;
const METHOD_COLORS = { full: '#15803d', checksum: '#0d9488', 'etag-md5': '#6366f1', unverified: '#f59e0b' } as const;

const EXCEPTION_TITLES: Record<ExceptionKind, { title: string; why: string }> = {
  'at-risk': {
    title: 'At risk',
    why: `Not archived and within ${AT_RISK_MARGIN_DAYS} days of Twilio's ${TWILIO_RETENTION_DAYS}-day pruning (or past it): archive these first.`,
  },
  lost: { title: 'Lost', why: 'Gone from Twilio before they were archived. Nothing more can be fetched; each needs a person to account for it.' },
  failed: { title: 'Failed', why: 'The last attempt failed; the next run retries them.' },
  'needs-review': {
    title: 'Needs review',
    why: "Twilio's record says the fax has media, but none could be had. Never deleted; a person decides (fax-sunset resolve, MIGRATION.md).",
  },
  unverified: { title: 'Not yet proven', why: 'Listed, downloaded or stored, but not yet verified in the store. Never deleted from Twilio in this state.' },
};

export function renderReportHtml(model: ReportModel, context: HtmlReportContext): string {
  const t = model.totals;
  // Faxes, each once: a failed fax close to pruning is in two lists but is one fax (issue 17).
  const exceptionsTotal = t.faxesWithExceptions;
  const e = model.exceptions;
  const title = `Fax archive compliance report${model.organization ? ` — ${model.organization}` : ''}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="${esc(context.softwareAgent)}">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header class="top">
  <div>
    <h1>Fax archive compliance report</h1>
    <p class="sub">${model.organization ? `<strong>${esc(model.organization)}</strong> · ` : ''}Twilio Programmable Fax → ${esc(model.storeUrl ?? 'store not given')}</p>
  </div>
  <dl class="meta">
    <dt>Generated</dt><dd>${esc(formatTime(model.generatedAt))}</dd>
    <dt>Catalog</dt><dd>${esc(model.catalogPath ?? '—')}</dd>
    <dt>Accounts</dt><dd>${model.byAccount.length.toLocaleString('en-US')}</dd>
    <dt>Period</dt><dd id="period">${esc(periodText(model))}</dd>
    <dt>Chain head</dt><dd id="chain-head"><code>${esc(model.chain.headHash ?? '—')}</code></dd>
  </dl>
</header>
<main>
${chainBanner(model)}
<section class="cards" aria-label="Totals">
  ${card('Faxes in catalog', compactNumber(t.faxes), `${t.pages.toLocaleString('en-US')} pages`, 'neutral', 'total-faxes', t.faxes)}
  ${card('Archived', compactNumber(t.archived), `${percent(t.archived, t.faxes)} of all faxes`, t.archived === t.faxes - model.byState.lost ? 'good' : 'warn', 'total-archived', t.archived)}
  ${card('Verification coverage', percent(model.verification.faxesProven, model.verification.faxesNeedingProof, 1), `${model.verification.faxesProven.toLocaleString('en-US')} of ${model.verification.faxesNeedingProof.toLocaleString('en-US')} faxes proven`, model.verification.coverage >= 1 ? 'good' : 'warn', 'coverage', model.verification.faxesProven)}
  ${card('Archived bytes', humanBytes(t.archivedBytes), `${t.archivedObjects.toLocaleString('en-US')} objects: ${humanBytes(t.archivedMediaBytes)} media + ${humanBytes(t.archivedBytes - t.archivedMediaBytes)} metadata sidecars (1 MB = 1,000,000 bytes)`, 'neutral', 'archived-bytes', t.archivedBytes)}
  ${card('Deleted from Twilio', compactNumber(t.deletedFromTwilio), `${model.deletions.withRequestId.toLocaleString('en-US')} with Twilio request id`, 'neutral', 'deleted', t.deletedFromTwilio)}
  ${card('Faxes with exceptions', compactNumber(exceptionsTotal), `${e['at-risk'].total} at risk · ${e.lost.total} lost · ${e.failed.total} failed · ${e.unverified.total} not yet proven (one fax may be in two lists)`, exceptionsTotal === 0 ? 'good' : 'bad', 'exceptions', exceptionsTotal)}
</section>

<section class="panel wide">
  <h2>Faxes per month <span class="hint">by the month Twilio created them (the store's yyyy/mm folders)</span></h2>
  ${monthChart(model)}
</section>

<div class="grid">
<section class="panel">
  <h2>Archive state</h2>
  ${stateChart(model)}
</section>
<section class="panel">
  <h2>Twilio status</h2>
  ${statusChart(model)}
</section>
<section class="panel">
  <h2>Verification coverage</h2>
  ${verificationChart(model)}
</section>
<section class="panel">
  <h2>Deletions from Twilio over time</h2>
  ${deletionChart(model)}
  <p class="note">${model.deletions.withReceipt.toLocaleString('en-US')} receipts (${model.deletions.alreadyGone.toLocaleString('en-US')} already pruned by Twilio, HTTP 404); ${model.deletions.openIntents.toLocaleString('en-US')} open intents awaiting reconciliation. A fax is deleted only after its metadata and media are stored and verified.</p>
</section>
</div>

<section class="panel wide" id="exceptions">
  <h2>Exceptions</h2>
  ${exceptionsSection(model)}
</section>

<section class="panel wide" id="accounts">
  <h2>Accounts <span class="hint">each fax by sid: its account's CSV (open it, search for the sid), or faxes.csv for all</span></h2>
  ${accountsTable(model, context.accountFiles)}
  ${listingCoverageLines(model)}
</section>

<section class="panel wide">
  <h2>Run history <span class="hint">newest first; every kind of run (archive, sync, verify, report, numbers, serve), with who ran it where</span></h2>
  ${runsTable(model.runs)}
</section>

<section class="panel wide" id="disclosures">
  <h2>Disclosures <span class="hint">every restore and export, oldest first, from the catalog's event chain</span></h2>
  ${disclosuresTable(model.disclosures ?? [])}
</section>

<section class="panel wide" id="anchors">
  <h2>Chain anchors <span class="hint">the event chain's head as each archive/sync run left it in the store, where the catalog cannot reach</span></h2>
  ${anchorsLine(model.anchors)}
</section>

<section class="panel wide" id="check">
  <h2>How to check this archive independently</h2>
  ${checkSection(model, context)}
</section>
</main>
<footer>
  <p>Files in this report folder: ${context.files.map((f) => `<code>${esc(f)}</code>`).join(' ')}</p>
  <p>Produced by ${esc(context.softwareAgent)}. This page loads nothing from the network.</p>
</footer>
</body>
</html>
`;
}

function chainBanner(model: ReportModel): string {
  if (model.chain.intact) {
    return `<div class="banner good" id="chain-status" data-intact="true"><strong>Event log intact.</strong> All ${model.chain.events.toLocaleString('en-US')} catalog events hash-chain correctly (each carries the SHA-256 of the one before): nothing in the history was edited or removed.${
      model.chain.headHash ? ` The newest event's hash is <code class="hash">${esc(model.chain.headHash)}</code>: record it somewhere this catalog cannot change (a ticket, an email, a WORM bucket), and a later history that does not contain it was rewritten.` : ''
    }</div>`;
  }
  return `<div class="banner bad" id="chain-status" data-intact="false"><strong>Event log BROKEN${model.chain.brokenAtId !== null ? ` at event #${model.chain.brokenAtId}` : ''}.</strong> The catalog's hash chain does not verify: its history was edited after it was written. Treat this catalog as tampered and compare it with a backup.</div>`;
}

function card(label: string, value: string, sub: string, tone: 'good' | 'warn' | 'bad' | 'neutral', id: string, raw: number): string {
  return `<div class="card ${tone}" id="card-${id}" data-value="${raw}"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div><div class="subv">${esc(sub)}</div></div>`;
}

function monthChart(model: ReportModel): string {
  const months = model.byMonth;
  return barChartSvg({
    title: 'Faxes per month: archived and not yet archived',
    categories: months.map((m) => m.month),
    series: [
      { name: 'archived', color: STATE_COLORS.verified, values: months.map((m) => m.archived) },
      { name: 'not yet archived', color: '#f59e0b', values: months.map((m) => m.faxes - m.archived) },
    ],
    width: 960,
    height: 280,
  });
}

function stateChart(model: ReportModel): string {
  const order: FaxState[] = ['verified', 'metadata-only', 'deleted', 'stored', 'fetched', 'listed', 'failed', 'lost'];
  return horizontalBarsSvg({
    title: 'Faxes by archive state',
    rows: order.filter((s) => model.byState[s] > 0).map((s) => ({ label: s, value: model.byState[s], color: STATE_COLORS[s] })),
  });
}

function statusChart(model: ReportModel): string {
  const entries = Object.entries(model.byStatus);
  const shown = entries.slice(0, 8);
  const rest = entries.slice(8).reduce((sum, [, n]) => sum + n, 0);
  const rows = shown.map(([status, value]) => ({ label: status, value, color: STATUS_COLORS[status] ?? '#94a3b8' }));
  if (rest > 0) rows.push({ label: 'other', value: rest, color: '#94a3b8' });
  return horizontalBarsSvg({ title: 'Faxes by Twilio status', rows });
}

function verificationChart(model: ReportModel): string {
  const v = model.verification;
  const keys = ['full', 'checksum', 'etag-md5', 'unverified'] as const;
  const donut = donutSvg({
    title: 'Share of faxes proven archived',
    slices: [
      { label: 'proven archived', value: v.faxesProven, color: '#16a34a' },
      { label: 'not yet proven', value: v.faxesNeedingProof - v.faxesProven, color: '#f59e0b' },
    ],
    centerText: percent(v.faxesProven, v.faxesNeedingProof, 1),
    centerSub: 'faxes proven',
    size: 180,
  });
  const bars = horizontalBarsSvg({
    title: 'Stored objects by verification method',
    rows: keys.filter((k) => v.objectsByMethod[k] > 0).map((k) => ({ label: METHOD_LABELS[k], value: v.objectsByMethod[k], color: METHOD_COLORS[k] })),
    width: 330,
    labelWidth: 96,
  });
  return `<div class="split">${donut}<div><p class="note">Objects by how they were verified</p>${bars}</div></div>
  <p class="note"><b>full re-read</b>: downloaded again and re-hashed; <b>store SHA-256</b>: the store returned the SHA-256 it checked on arrival; <b>ETag = MD5</b>: the single-part ETag equals the local MD5. An object that could not be verified never counts as verified.</p>`;
}

function deletionChart(model: ReportModel): string {
  const months = model.deletions.byMonth;
  let running = 0;
  const cumulative = months.map((m) => (running += m.deleted));
  return barChartSvg({
    title: 'Faxes deleted from Twilio per month, with the running total',
    categories: months.map((m) => m.month),
    series: [{ name: 'deleted that month', color: STATE_COLORS.deleted, values: months.map((m) => m.deleted) }],
    line: { name: 'running total', color: '#0f172a', values: cumulative },
    width: 460,
    height: 240,
  });
}

function exceptionsSection(model: ReportModel): string {
  const order: ExceptionKind[] = ['at-risk', 'lost', 'needs-review', 'failed', 'unverified'];
  const summary = `<div class="pills">${order
    .map((k) => `<span class="pill ${model.exceptions[k].total === 0 ? 'ok' : k === 'unverified' ? 'warn' : 'bad'}">${esc(EXCEPTION_TITLES[k].title)}: <b>${model.exceptions[k].total.toLocaleString('en-US')}</b></span>`)
    .join('')}</div>`;
  const lists = order.filter((k) => model.exceptions[k].total > 0).map((k) => exceptionTable(k, model.exceptions[k])).join('');
  return summary + (lists || '<p class="allgood">No exceptions: every fax in the catalog is archived and proven.</p>');
}

function exceptionTable(kind: ExceptionKind, list: ExceptionList): string {
  const info = EXCEPTION_TITLES[kind];
  const rows = list.items
    .map(
      (item) =>
        `<tr><td><code>${esc(item.sid)}</code></td><td><code>${esc(item.accountSid)}</code></td><td class="date">${esc(formatDate(item.dateCreated))}</td><td><span class="state s-${esc(item.state)}">${esc(item.state)}</span></td>${
          kind === 'at-risk' ? `<td class="num">${item.daysUntilPruned === null ? '—' : item.daysUntilPruned < 0 ? `${-item.daysUntilPruned} days past` : `${item.daysUntilPruned}`}</td>` : ''
        }<td class="num">${item.attempts}</td><td class="reason">${esc(item.reason ?? '')}</td></tr>`,
    )
    .join('');
  const more = list.truncated ? `<p class="note">Showing the oldest ${list.items.length.toLocaleString('en-US')} of ${list.total.toLocaleString('en-US')}; faxes.csv lists them all.</p>` : '';
  return `<details class="exc" id="exceptions-${kind}" ${kind === 'unverified' ? '' : 'open'}><summary><b>${esc(info.title)}</b> · ${list.total.toLocaleString('en-US')}</summary>
  <p class="note">${esc(info.why)}</p>
  <div class="scroll"><table><thead><tr><th>Fax</th><th>Account</th><th>Created</th><th>State</th>${kind === 'at-risk' ? '<th class="num">Days to pruning</th>' : ''}<th class="num">Attempts</th><th>Reason</th></tr></thead><tbody>${rows}</tbody></table></div>${more}</details>`;
}

function accountsTable(model: ReportModel, files?: ReadonlyMap<string, string>): string {
  const shown = model.byAccount.slice(0, 200);
  const rows = shown
    .map((a) => {
      const file = files?.get(a.accountSid);
      const link = file ? `<a href="${esc(file)}" download>${esc(file)}</a>` : '<a href="faxes.csv">faxes.csv</a>';
      return `<tr><td><code>${esc(a.accountSid)}</code></td><td class="num">${a.faxes.toLocaleString('en-US')}</td><td class="num">${a.archived.toLocaleString('en-US')}</td><td class="num">${percent(a.archived, a.faxes)}</td><td class="num">${a.deleted.toLocaleString('en-US')}</td><td class="num">${esc(humanBytes(a.bytes))}</td><td>${link}</td></tr>`;
    })
    .join('');
  const more = model.byAccount.length > shown.length ? `<p class="note">Showing the ${shown.length} largest of ${model.byAccount.length} accounts; summary.json lists them all.</p>` : '';
  return `<div class="scroll"><table><thead><tr><th>Account</th><th class="num">Faxes</th><th class="num">Archived</th><th class="num">Share</th><th class="num">Deleted from Twilio</th><th class="num">Bytes</th><th>Every fax (CSV)</th></tr></thead><tbody>${rows}</tbody></table></div>${more}`;
}

/** One line per account from the listing ledger: how far its listing is proven complete. */
function listingCoverageLines(model: ReportModel): string {
  if (model.listing.length === 0) return '';
  const lines = model.listing.map((c) => {
    const tone = c.complete ? 'ok' : 'bad';
    const text = c.listedCompletelyUpTo === null ? 'never listed completely' : `listed completely up to ${formatTime(c.listedCompletelyUpTo)}`;
    const left = c.unfinishedSweeps > 0 ? `; ${c.unfinishedSweeps} listing(s) unfinished, resumed by the next run` : '';
    return `<li><code>${esc(c.account)}</code> <span class="pill ${tone}">${esc(text)}</span>${esc(left)}</li>`;
  });
  return `<ul class="note" id="listing-coverage">${lines.join('')}</ul>`;
}

function runsTable(runs: readonly RunRecord[]): string {
  if (runs.length === 0) return '<p class="note">No runs recorded.</p>';
  const rows = runs
    .map((run) => {
      const exit = run.exitCode;
      const tone = exit === null ? 'warn' : exit === 0 ? 'ok' : 'bad';
      const outcome = exit === null ? 'unfinished' : `exit ${exit}`;
      return `<tr><td class="num">${run.id}</td><td>${esc(run.kind)}</td><td>${esc(formatTime(run.startedAt))}</td><td>${esc(duration(run.startedAt, run.finishedAt))}</td><td class="who">${esc(ranBy(run))}</td><td><span class="pill ${tone}">${esc(outcome)}</span></td><td class="small">${esc(summarize(run.summary))}</td></tr>`;
    })
    .join('');
  return `<div class="scroll"><table><thead><tr><th class="num">#</th><th>Kind</th><th>Started (UTC)</th><th>Took</th><th>By (user@host)</th><th>Outcome</th><th>Summary</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function anchorsLine(anchors: ReportModel['anchors']): string {
  if (anchors?.error) return `<p><span class="pill warn">not checked</span> The store could not be read for its anchors: ${esc(anchors.error)}</p>`;
  if (!anchors || !anchors.latest) return '<p class="note">No chain anchor in the store yet (the next archive or sync run writes one).</p>';
  const l = anchors.latest;
  const tone = anchors.mismatched.length === 0 ? 'ok' : 'bad';
  const verdict = anchors.mismatched.length === 0 ? `the catalog matches all ${anchors.checked}` : `the catalog does NOT match ${anchors.mismatched.length} of ${anchors.checked}`;
  return `<p><span class="pill ${tone}">${esc(verdict)}</span> Latest: run ${l.runId}, ${l.events} events, head <code>${esc(l.headHash)}</code>, written ${esc(formatTime(l.writtenAt))} (${l.matched ? 'matched' : 'NOT matched'}).</p>` +
    anchors.mismatched.map((m) => `<p class="note">${esc(m.key)}: ${esc(m.problem)}</p>`).join('');
}

function disclosuresTable(list: NonNullable<ReportModel['disclosures']>): string {
  if (list.length === 0) return '<p class="note">No restores or exports recorded.</p>';
  const rows = list.map((d) => `<tr><td class="num">${d.eventId}</td><td>${esc(formatTime(d.at))}</td><td>${esc(d.action)}</td><td class="who">${esc(d.by)}</td>` +
    `<td class="num">${d.sids.length}</td><td class="small">${esc(d.sids.join(' '))}</td><td class="small">${esc(d.destination)}</td><td class="small"><code>${esc(d.manifestSha256)}</code></td></tr>`).join('');
  return `<div class="scroll"><table><thead><tr><th class="num">Event</th><th>At (UTC)</th><th>Action</th><th>By (user@host)</th><th class="num">Faxes</th><th>Sids</th><th>To</th><th>Manifest SHA-256</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** `user@host` from the run's options (recorded at its start), or — for runs older than that record. */
function ranBy(run: RunRecord): string {
  const who = run.options.ranBy as { user?: unknown; host?: unknown } | undefined;
  if (!who || typeof who !== 'object') return '—';
  return `${typeof who.user === 'string' ? who.user : '?'}@${typeof who.host === 'string' ? who.host : '?'}`;
}

/** "2021-06-03 – 2021-11-30 (created, UTC)". */
function periodText(model: ReportModel): string {
  if (!model.period.earliest || !model.period.latest) return '—';
  return `${formatDate(model.period.earliest)} – ${formatDate(model.period.latest)} (created, UTC)`;
}

function summarize(summary: Record<string, unknown> | null): string {
  if (!summary) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(summary)) {
    if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') parts.push(`${key}: ${value}`);
    if (parts.length >= 8) break;
  }
  return parts.join(' · ');
}

function checkSection(model: ReportModel, context: HtmlReportContext): string {
  const store = model.storeUrl ?? '';
  const sample = context.sample;
  const steps: string[] = [];
  steps.push(
    step(
      'The report files themselves',
      'Every file in this folder is hashed in <code>tagmanifest-sha256.txt</code>. In the report folder:',
      'sha256sum -c tagmanifest-sha256.txt',
    ),
  );
  if (context.bag) {
    steps.push(
      step(
        'Every archived object (the bag holds them under data/)',
        '<code>manifest-sha256.txt</code> lists the SHA-256 recorded when each fax was downloaded from Twilio. In the report folder:',
        'sha256sum -c --quiet manifest-sha256.txt && echo "all objects match"',
      ),
    );
  } else if (store.startsWith('s3://')) {
    const { bucket, prefix } = splitS3(store);
    const key = sample ? `${prefix}${sample.key}` : `${prefix}<AccountSid>/<yyyy>/<mm>/<FaxSid>.pdf`;
    steps.push(
      step(
        'One object, by the checksum S3 verified on arrival',
        'S3 returns the SHA-256 it computed when the object was written (base64). Compare it with the manifest line for the same object:',
        `aws s3api head-object --bucket ${shellQuote(bucket)} --key ${shellQuote(key)} --checksum-mode ENABLED --query ChecksumSHA256 --output text\n` +
          `echo ${sample ? sample.sha256Hex : '<sha256 from manifest-sha256.txt>'} | xxd -r -p | base64   # must print the same value`,
      ),
    );
    steps.push(
      step(
        'Every object, by re-reading the bytes',
        '<code>fetch.txt</code> names each object\'s S3 URL and its path in the bag. Download them all, then check every hash:',
        'while read -r url size path; do aws s3 cp --only-show-errors "$url" "$path"; done < fetch.txt\nsha256sum -c --quiet manifest-sha256.txt && echo "all objects match"',
      ),
    );
  } else {
    const dir = store.startsWith('file://') ? safeFilePath(store) : store;
    steps.push(
      step(
        'Every object, where it is stored',
        'Manifest paths are <code>data/&lt;key&gt;</code>; the store keeps the same keys under its folder. Run from the report folder:',
        `sed 's#  data/#  #' manifest-sha256.txt | (cd ${shellQuote(dir || '<store folder>')} && sha256sum -c --quiet -) && echo "all objects match"`,
      ),
    );
  }
  steps.push(
    step(
      'The whole bag, with a standard BagIt tool (RFC 8493)',
      context.bag
        ? 'The report folder is a complete bag: the Library of Congress <code>bagit</code> tool validates payload, Payload-Oxum and tag manifests.'
        : 'The report folder is a "holey" bag whose <code>fetch.txt</code> names the payload; after fetching it (step above) it is a complete bag.',
      'python3 -m pip install bagit\nbagit.py --validate .',
    ),
  );
  steps.push(
    step(
      'The catalog\'s event history',
      'Each catalog event carries the SHA-256 of the one before it. Regenerating the report re-walks the chain and says here whether it is intact:',
      `fax-sunset report --catalog ${shellQuote(model.catalogPath ?? './fax-archive/catalog.sqlite')} --out ./report-check --json`,
    ),
  );
  return `<ol class="steps">${steps.join('')}</ol>`;
}

function step(title: string, explanationHtml: string, command: string): string {
  return `<li><h3>${esc(title)}</h3><p>${explanationHtml}</p><pre><code>${esc(command)}</code></pre></li>`;
}

function splitS3(url: string): { bucket: string; prefix: string } {
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return { bucket: rest, prefix: '' };
  const prefix = rest.slice(slash + 1).replace(/\/+$/, '');
  return { bucket: rest.slice(0, slash), prefix: prefix ? `${prefix}/` : '' };
}

function safeFilePath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    return '';
  }
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:@<>=-]+$/.test(text) && !/[<>]/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function percent(part: number, whole: number, digits = 0): string {
  if (whole <= 0) return '100%';
  const p = (part / whole) * 100;
  // Never round an incomplete archive up to 100%.
  const shown = part < whole && Number(p.toFixed(digits)) >= 100 ? (100 - 10 ** -Math.max(digits, 1)).toFixed(Math.max(digits, 1)) : p.toFixed(digits);
  return `${shown}%`;
}

function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function formatDate(iso: string | null): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().slice(0, 10);
}

function duration(start: string, end: string | null): string {
  if (!end) return '—';
  const ms = Date.parse(end) - Date.parse(start);
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${(m / 60).toFixed(1)} h`;
}

const CSS = `
:root{--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7f9;--good:#16a34a;--warn:#d97706;--bad:#dc2626;--accent:#1e3a8a}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
header.top{display:flex;justify-content:space-between;align-items:flex-end;gap:24px;flex-wrap:wrap;padding:28px 40px 22px;background:linear-gradient(120deg,#0f172a,#1e3a8a);color:#fff}
header.top h1{margin:0;font-size:26px;letter-spacing:-.01em}
header.top .sub{margin:6px 0 0;color:#c7d2fe}
dl.meta{display:grid;grid-template-columns:auto auto;gap:2px 14px;margin:0;font-size:13px}
dl.meta dt{color:#a5b4fc}dl.meta dd{margin:0;color:#fff;word-break:break-all}
main{max-width:1120px;margin:0 auto;padding:20px 24px 8px}
.banner{border-radius:10px;padding:12px 16px;margin:0 0 18px;border:1px solid}
.banner.good{background:#f0fdf4;border-color:#bbf7d0;color:#14532d}
.banner.bad{background:#fef2f2;border-color:#fecaca;color:#7f1d1d;font-size:15px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-bottom:18px}
.card{background:#fff;border:1px solid var(--line);border-radius:12px;padding:14px 16px;border-top:4px solid #94a3b8}
.card.good{border-top-color:var(--good)}.card.warn{border-top-color:var(--warn)}.card.bad{border-top-color:var(--bad)}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
.card .value{font-size:28px;font-weight:700;line-height:1.2;margin:4px 0 2px}
.card .subv{color:var(--muted);font-size:12px}
.panel{background:#fff;border:1px solid var(--line);border-radius:12px;padding:16px 18px;margin-bottom:18px}
.panel h2{font-size:16px;margin:0 0 10px}
.hint{font-weight:400;color:var(--muted);font-size:12px;margin-left:6px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(460px,100%),1fr));gap:0 18px}
.grid>*{min-width:0}
svg.chart{width:100%;height:auto;display:block}
svg.donut{width:180px;flex:none}
.split{display:flex;gap:16px;align-items:center;flex-wrap:wrap}.split>div{flex:1;min-width:220px}
.note{color:var(--muted);font-size:12.5px;margin:6px 0}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;font-weight:600;color:#374151;background:#f9fafb;border-bottom:1px solid var(--line);padding:7px 10px;white-space:nowrap}
td{border-bottom:1px solid #f1f5f9;padding:6px 10px;vertical-align:top}
td.reason{min-width:240px;overflow-wrap:anywhere}
td code{font-size:11.5px}
td.date{white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.small{font-size:12px;color:#4b5563}
.scroll{max-height:420px;overflow:auto;border:1px solid var(--line);border-radius:8px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.pills{display:flex;gap:8px;flex-wrap:wrap;margin-bottom:10px}
.pill{display:inline-block;border-radius:999px;padding:2px 10px;font-size:12.5px;border:1px solid}
.pill.ok{background:#f0fdf4;border-color:#bbf7d0;color:#166534}.pill.warn{background:#fffbeb;border-color:#fde68a;color:#92400e}.pill.bad{background:#fef2f2;border-color:#fecaca;color:#991b1b}
.state{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;background:#f1f5f9}
.s-failed,.s-lost{background:#fee2e2;color:#991b1b}.s-stored,.s-fetched{background:#fef3c7;color:#92400e}
details.exc{margin:10px 0}details.exc summary{cursor:pointer;font-size:14px;padding:4px 0}
.allgood{color:var(--good);font-weight:600}
ol.steps{margin:0;padding-left:22px}ol.steps li{margin-bottom:14px}ol.steps h3{font-size:14px;margin:0 0 2px}ol.steps p{margin:0 0 6px;color:#374151}
pre{background:#0f172a;color:#e2e8f0;border-radius:8px;padding:10px 14px;overflow:auto;margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
pre code{font-size:12.5px}
footer{max-width:1120px;margin:0 auto;padding:4px 24px 30px;color:var(--muted);font-size:12px}
footer code{background:#eef2f7;border-radius:4px;padding:0 4px}
code.hash,#chain-head code{overflow-wrap:anywhere;word-break:break-all}
td.who{white-space:nowrap;font-size:12px}
@media (max-width:640px){header.top{padding:18px 16px 14px}header.top h1{font-size:21px}main{padding:12px 10px 4px}.panel{padding:12px 12px;border-radius:10px}.card .value{font-size:24px}.cards{grid-template-columns:repeat(2,minmax(0,1fr))}dl.meta{grid-template-columns:auto minmax(0,1fr)}footer{padding:4px 12px 24px;overflow-wrap:anywhere}}
@media print{body{background:#fff;font-size:11pt}main,footer{max-width:none;padding:0}.panel,.card,tr{break-inside:avoid}.scroll{max-height:none;overflow:visible;border:0}header.top{-webkit-print-color-adjust:exact;print-color-adjust:exact}a{color:inherit;text-decoration:none}pre{white-space:pre-wrap}.grid{display:block}}
`;
