/**
 * The catalog's schema as numbered migrations, applied in order and recorded in SQLite's
 * `user_version`. A migration is never edited once released: a change is a new migration.
 *
 * The triggers are the database's own guard of the one invariant (DESIGN.md): even a bug above the
 * catalog, or a person with the sqlite3 shell, cannot record a deletion of a fax that is not proven
 * archived, mark a fax verified while an object is unproven, or rewrite the event log.
 */
import { ConfigurationError } from '../errors.js';

/** The subset of better-sqlite3 the migrations need. */
export interface MigrationDatabase {
  exec(sql: string): unknown;
  pragma(source: string, options: { simple: true }): unknown;
  transaction(fn: () => void): () => void;
}

export interface Migration {
  version: number;
  description: string;
  sql: string;
  /**
   * The migration rebuilds a table others reference (SQLite's 12-step ALTER procedure): foreign keys
   * are switched off around its transaction (the pragma is a no-op inside one) and checked before it commits.
   */
  rebuildsTables?: boolean;
}

const DELETABLE = `('verified', 'metadata-only')`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'faxes, history, objects, deletions, runs, hash-chained events, findings; invariant triggers',
    sql: `
CREATE TABLE faxes (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('listed','fetched','stored','verified','metadata-only','deleted','failed','lost')),
  status TEXT,
  direction TEXT,
  from_number TEXT,
  to_number TEXT,
  quality TEXT,
  media_sid TEXT,
  media_url TEXT,            -- without its query string: never a pre-signed signature
  num_pages INTEGER,
  duration INTEGER,
  price TEXT,                -- the spec says number, real payloads carried strings: kept as text
  price_unit TEXT,
  api_version TEXT,
  url TEXT,
  links TEXT,                -- JSON
  date_created TEXT,         -- as Twilio gave it
  date_updated TEXT,
  created_key TEXT NOT NULL, -- date_created normalized to ISO 8601 ms ('' when unknown): the sort key
  raw TEXT NOT NULL,         -- Twilio's JSON, sanitized
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  first_seen_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  state_changed_at TEXT NOT NULL,
  last_run_id INTEGER,
  media_size INTEGER,
  media_sha256 TEXT,
  media_md5 TEXT,
  media_content_type TEXT,
  media_pages INTEGER
);
CREATE INDEX faxes_state_created ON faxes (state, created_key, sid);
CREATE INDEX faxes_account_created ON faxes (account_sid, created_key, sid);
CREATE INDEX faxes_created ON faxes (created_key, sid);
CREATE INDEX faxes_unfinished ON faxes (created_key, sid) WHERE state IN ('listed','fetched','stored','failed');
CREATE INDEX faxes_deletable ON faxes (created_key, sid) WHERE state IN ${DELETABLE};

CREATE TABLE fax_history (
  id INTEGER PRIMARY KEY,
  fax_sid TEXT NOT NULL REFERENCES faxes (sid),
  date_updated TEXT,
  raw TEXT NOT NULL,
  superseded_at TEXT NOT NULL,
  run_id INTEGER
);
CREATE INDEX fax_history_sid ON fax_history (fax_sid, id);

CREATE TABLE objects (
  id INTEGER PRIMARY KEY,
  fax_sid TEXT NOT NULL REFERENCES faxes (sid),
  kind TEXT NOT NULL CHECK (kind IN ('media','sidecar')),
  key TEXT NOT NULL,
  size INTEGER NOT NULL CHECK (size >= 0),
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  md5 TEXT NOT NULL CHECK (length(md5) = 32),
  content_type TEXT NOT NULL,
  etag TEXT,
  version_id TEXT,
  stored_at TEXT NOT NULL,
  verified_at TEXT,
  verification_method TEXT CHECK (verification_method IN ('checksum','etag-md5','full')),
  CHECK ((verified_at IS NULL) = (verification_method IS NULL)),
  UNIQUE (fax_sid, kind)
);

CREATE TABLE deletions (
  id INTEGER PRIMARY KEY,
  fax_sid TEXT NOT NULL REFERENCES faxes (sid),
  intent_at TEXT NOT NULL,
  run_id INTEGER,
  receipt_at TEXT,
  http_status INTEGER,
  request_id TEXT,
  cancelled_at TEXT,         -- the DELETE certainly did not happen; the row stays as evidence
  CHECK (receipt_at IS NULL OR cancelled_at IS NULL),
  CHECK ((receipt_at IS NULL) = (http_status IS NULL))
);
CREATE INDEX deletions_sid ON deletions (fax_sid, id);
CREATE UNIQUE INDEX deletions_one_open ON deletions (fax_sid) WHERE receipt_at IS NULL AND cancelled_at IS NULL;

CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  exit_code INTEGER,
  options TEXT NOT NULL,
  summary TEXT
);

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  type TEXT NOT NULL,
  fax_sid TEXT,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX events_fax ON events (fax_sid) WHERE fax_sid IS NOT NULL;

CREATE TABLE findings (
  id INTEGER PRIMARY KEY,
  fax_sid TEXT NOT NULL,
  key TEXT NOT NULL,
  at TEXT NOT NULL,
  method TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('match','mismatch','missing','unverifiable')),
  detail TEXT,
  run_id INTEGER
);
CREATE INDEX findings_fax ON findings (fax_sid, id);
CREATE INDEX findings_run ON findings (run_id, id);

-- The one invariant, in the database itself: no deletion intent unless the fax is verified or
-- metadata-only and every one of its objects is verified (COALESCE: a missing fax is refused too).
CREATE TRIGGER deletions_require_verified_fax BEFORE INSERT ON deletions
WHEN COALESCE((SELECT state FROM faxes WHERE sid = NEW.fax_sid), '') NOT IN ${DELETABLE}
  OR NOT EXISTS (SELECT 1 FROM objects WHERE fax_sid = NEW.fax_sid)
  OR EXISTS (SELECT 1 FROM objects WHERE fax_sid = NEW.fax_sid AND verified_at IS NULL)
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a deletion intent needs a verified or metadata-only fax whose every object is verified');
END;
-- A receipt is evidence: once written it never changes, and no deletion row is ever removed.
CREATE TRIGGER deletions_receipt_immutable BEFORE UPDATE ON deletions
WHEN OLD.receipt_at IS NOT NULL OR OLD.cancelled_at IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a deletion receipt or cancellation is never changed');
END;
CREATE TRIGGER deletions_never_removed BEFORE DELETE ON deletions
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: deletion records are never removed');
END;

-- 'deleted' only from a deletable state, and only with a receipt (2xx, or 404 = already gone).
CREATE TRIGGER faxes_deleted_requires_receipt BEFORE UPDATE OF state ON faxes
WHEN NEW.state = 'deleted' AND OLD.state <> 'deleted' AND (
  OLD.state NOT IN ${DELETABLE}
  OR NOT EXISTS (SELECT 1 FROM deletions WHERE fax_sid = NEW.sid AND receipt_at IS NOT NULL AND cancelled_at IS NULL
                 AND (http_status = 404 OR http_status BETWEEN 200 AND 299)))
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a fax becomes deleted only from verified/metadata-only with a deletion receipt');
END;
-- verified / metadata-only only while every object is verified (and verified has its media).
CREATE TRIGGER faxes_verified_requires_verified_objects BEFORE UPDATE OF state ON faxes
WHEN NEW.state IN ${DELETABLE} AND (
  NOT EXISTS (SELECT 1 FROM objects WHERE fax_sid = NEW.sid)
  OR EXISTS (SELECT 1 FROM objects WHERE fax_sid = NEW.sid AND verified_at IS NULL)
  OR (NEW.state = 'verified' AND NOT EXISTS (SELECT 1 FROM objects WHERE fax_sid = NEW.sid AND kind = 'media')))
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a fax is verified only when every stored object is verified');
END;
-- Objects rows have no sid before the fax exists, so a new row can only start unproven.
CREATE TRIGGER faxes_insert_starts_unproven BEFORE INSERT ON faxes
WHEN NEW.state IN ('verified','metadata-only','deleted')
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a new fax row cannot start verified, metadata-only or deleted');
END;
-- The proof under a verified / deleted fax cannot be taken away.
CREATE TRIGGER objects_keep_proof_on_update BEFORE UPDATE ON objects
WHEN (SELECT state FROM faxes WHERE sid = OLD.fax_sid) IN ('verified','metadata-only','deleted')
  AND (NEW.verified_at IS NULL OR NEW.sha256 <> OLD.sha256 OR NEW.key <> OLD.key OR NEW.size <> OLD.size OR NEW.fax_sid <> OLD.fax_sid)
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: the objects of a verified or deleted fax are not changed');
END;
CREATE TRIGGER objects_keep_proof_on_delete BEFORE DELETE ON objects
WHEN (SELECT state FROM faxes WHERE sid = OLD.fax_sid) IN ('verified','metadata-only','deleted')
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: the objects of a verified or deleted fax are not removed');
END;
CREATE TRIGGER objects_insert_under_proven_fax BEFORE INSERT ON objects
WHEN NEW.verified_at IS NULL AND (SELECT state FROM faxes WHERE sid = NEW.fax_sid) IN ('verified','metadata-only','deleted')
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: an unverified object cannot join a verified or deleted fax');
END;

-- The event log and the audit findings are append-only.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: the event log is append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: the event log is append-only');
END;
CREATE TRIGGER findings_no_update BEFORE UPDATE ON findings
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: verification findings are append-only');
END;
CREATE TRIGGER findings_no_delete BEFORE DELETE ON findings
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: verification findings are append-only');
END;
`,
  },
  {
    version: 2,
    description: "faxes: state 'needs-review' with its reason, and an operator's acceptance of missing media (issue 11 §2)",
    rebuildsTables: true,
    // SQLite cannot change a CHECK constraint in place: the table is rebuilt (sqlite.org/lang_altertable.html,
    // "other kinds of table schema changes"), and every index and trigger migration 1 put on faxes is
    // made again, word for word. Triggers on other tables that read faxes are untouched (they name it
    // by name). test/catalog/sqlite-catalog-triggers.test.ts runs every invariant on a migrated v1 file too.
    sql: `
CREATE TABLE faxes_v2 (
  sid TEXT PRIMARY KEY,
  account_sid TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('listed','fetched','stored','verified','metadata-only','deleted','failed','lost','needs-review')),
  status TEXT,
  direction TEXT,
  from_number TEXT,
  to_number TEXT,
  quality TEXT,
  media_sid TEXT,
  media_url TEXT,
  num_pages INTEGER,
  duration INTEGER,
  price TEXT,
  price_unit TEXT,
  api_version TEXT,
  url TEXT,
  links TEXT,
  date_created TEXT,
  date_updated TEXT,
  created_key TEXT NOT NULL,
  raw TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  first_seen_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  state_changed_at TEXT NOT NULL,
  last_run_id INTEGER,
  media_size INTEGER,
  media_sha256 TEXT,
  media_md5 TEXT,
  media_content_type TEXT,
  media_pages INTEGER,
  review_reason TEXT,            -- why a person must decide (needs-review); kept after as history
  missing_media_accepted_at TEXT, -- set by 'resolve --accept-missing-media': archived without its media
  media_served_content_type TEXT, -- the Content-Type the media host sent (the kind is decided from the bytes)
  CHECK (state <> 'needs-review' OR review_reason IS NOT NULL)
);
INSERT INTO faxes_v2 (sid, account_sid, state, status, direction, from_number, to_number, quality, media_sid, media_url,
  num_pages, duration, price, price_unit, api_version, url, links, date_created, date_updated, created_key, raw, attempts,
  last_error, first_seen_at, updated_at, state_changed_at, last_run_id, media_size, media_sha256, media_md5,
  media_content_type, media_pages)
SELECT sid, account_sid, state, status, direction, from_number, to_number, quality, media_sid, media_url,
  num_pages, duration, price, price_unit, api_version, url, links, date_created, date_updated, created_key, raw, attempts,
  last_error, first_seen_at, updated_at, state_changed_at, last_run_id, media_size, media_sha256, media_md5,
  media_content_type, media_pages FROM faxes;
DROP TABLE faxes;
-- Legacy rename: the triggers of deletions and objects name 'faxes', which does not exist for this
-- one statement; the modern rename would refuse to re-check them (and has nothing to rewrite).
PRAGMA legacy_alter_table = ON;
ALTER TABLE faxes_v2 RENAME TO faxes;
PRAGMA legacy_alter_table = OFF;

CREATE INDEX faxes_state_created ON faxes (state, created_key, sid);
CREATE INDEX faxes_account_created ON faxes (account_sid, created_key, sid);
CREATE INDEX faxes_created ON faxes (created_key, sid);
CREATE INDEX faxes_unfinished ON faxes (created_key, sid) WHERE state IN ('listed','fetched','stored','failed');
CREATE INDEX faxes_deletable ON faxes (created_key, sid) WHERE state IN ${DELETABLE};
CREATE INDEX faxes_needs_review ON faxes (created_key, sid) WHERE state = 'needs-review';

-- New in 2 (created first, so SQLite runs it after migration 1's guards): a fax whose record says media ends metadata-only only when a person accepted it without
-- (the decision is in the event log); otherwise its media must be archived or it waits in needs-review.
CREATE TRIGGER faxes_metadata_only_needs_no_media_or_acceptance BEFORE UPDATE OF state ON faxes
WHEN NEW.state = 'metadata-only' AND OLD.state <> 'metadata-only' AND NEW.missing_media_accepted_at IS NULL
  AND (COALESCE(NEW.media_sid, '') <> '' OR COALESCE(NEW.media_url, '') <> ''
       OR (COALESCE(NEW.num_pages, 0) > 0 AND NEW.status IN ('received','delivered')))
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a fax whose record says media is metadata-only only when a person accepted it without');
END;
CREATE TRIGGER faxes_deleted_requires_receipt BEFORE UPDATE OF state ON faxes
WHEN NEW.state = 'deleted' AND OLD.state <> 'deleted' AND (
  OLD.state NOT IN ${DELETABLE}
  OR NOT EXISTS (SELECT 1 FROM deletions WHERE fax_sid = NEW.sid AND receipt_at IS NOT NULL AND cancelled_at IS NULL
                 AND (http_status = 404 OR http_status BETWEEN 200 AND 299)))
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a fax becomes deleted only from verified/metadata-only with a deletion receipt');
END;
CREATE TRIGGER faxes_verified_requires_verified_objects BEFORE UPDATE OF state ON faxes
WHEN NEW.state IN ${DELETABLE} AND (
  NOT EXISTS (SELECT 1 FROM objects WHERE fax_sid = NEW.sid)
  OR EXISTS (SELECT 1 FROM objects WHERE fax_sid = NEW.sid AND verified_at IS NULL)
  OR (NEW.state = 'verified' AND NOT EXISTS (SELECT 1 FROM objects WHERE fax_sid = NEW.sid AND kind = 'media')))
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a fax is verified only when every stored object is verified');
END;
CREATE TRIGGER faxes_insert_starts_unproven BEFORE INSERT ON faxes
WHEN NEW.state IN ('verified','metadata-only','deleted')
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a new fax row cannot start verified, metadata-only or deleted');
END;
`,
  },
  {
    version: 3,
    description: 'deletion proof taken at the moment of deletion (same run); superseded object versions kept',
    sql: `
-- Issue 11 §1: a fax verified weeks ago is not deleted on the strength of that old row. Each
-- deletion intent carries the proof taken immediately before its DELETE: when, how (the weakest
-- method over the fax's objects) and in which run, with each object's answer as JSON.
ALTER TABLE deletions ADD COLUMN proof_at TEXT;
ALTER TABLE deletions ADD COLUMN proof_method TEXT CHECK (proof_method IS NULL OR proof_method IN ('checksum','etag-md5','full'));
ALTER TABLE deletions ADD COLUMN proof_run_id INTEGER;
ALTER TABLE deletions ADD COLUMN proof TEXT;
-- No intent without a proof of this very run: the run is recorded, still open, and started before
-- the proof was taken. Intents written before this migration keep NULL proofs (their runs are over).
CREATE TRIGGER deletions_require_proof_of_this_run BEFORE INSERT ON deletions
WHEN NEW.proof_at IS NULL OR NEW.proof_method IS NULL OR NEW.proof IS NULL
  OR NEW.run_id IS NULL OR NEW.proof_run_id IS NOT NEW.run_id
  OR NOT EXISTS (SELECT 1 FROM runs WHERE id = NEW.run_id AND finished_at IS NULL AND started_at <= NEW.proof_at)
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a deletion intent needs a store proof taken in the same, unfinished run');
END;

-- Issue 11 §6: archived bytes are evidence. When Twilio reports new media for an archived fax, the
-- new media goes under a new key and the verified object it supersedes, with its proof, moves here.
CREATE TABLE object_versions (
  id INTEGER PRIMARY KEY,
  fax_sid TEXT NOT NULL REFERENCES faxes (sid),
  kind TEXT NOT NULL CHECK (kind IN ('media','sidecar')),
  key TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  md5 TEXT NOT NULL,
  content_type TEXT NOT NULL,
  etag TEXT,
  version_id TEXT,
  stored_at TEXT NOT NULL,
  verified_at TEXT NOT NULL,
  verification_method TEXT NOT NULL,
  superseded_at TEXT NOT NULL
);
CREATE INDEX object_versions_sid ON object_versions (fax_sid, id);
CREATE TRIGGER object_versions_no_update BEFORE UPDATE ON object_versions
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a superseded object version is never changed');
END;
CREATE TRIGGER object_versions_no_delete BEFORE DELETE ON object_versions
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a superseded object version is never removed');
END;
`,
  },
  {
    version: 4,
    description: 'listing ledger: every listing sweep of an account, its range, how far it got, whether it completed',
    // A listing is complete only when a sweep of the account finished, never because the newest fax
    // was seen (issue 11 §3): the sync's watermark is computed from completed sweeps alone.
    sql: `
CREATE TABLE listing_sweeps (
  id INTEGER PRIMARY KEY,
  account_sid TEXT NOT NULL,
  run_id INTEGER,
  started_at TEXT NOT NULL,       -- Twilio's clock (its Date header) when the sweep began
  range_after TEXT,               -- DateCreatedAfter sent (exclusive); NULL: from the beginning
  range_on_or_before TEXT,        -- DateCreatedOnOrBefore sent (inclusive); NULL: no upper bound
  covered_down_to TEXT,           -- newest first: every fax created after range_after and at or
                                  -- before this instant is still to be listed; NULL: nothing listed yet
  pages INTEGER NOT NULL DEFAULT 0,
  faxes INTEGER NOT NULL DEFAULT 0,
  completed_at TEXT,              -- NULL while unfinished (a killed or failed listing): resumed next run
  absorbed_by INTEGER REFERENCES listing_sweeps (id)  -- completed by a later sweep whose range held it
);
CREATE INDEX listing_sweeps_account ON listing_sweeps (account_sid, id);
CREATE INDEX listing_sweeps_unfinished ON listing_sweeps (account_sid, id) WHERE completed_at IS NULL;
CREATE TRIGGER listing_sweeps_completed_stay_completed BEFORE UPDATE ON listing_sweeps
WHEN OLD.completed_at IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: a completed listing sweep is not changed');
END;
CREATE TRIGGER listing_sweeps_no_delete BEFORE DELETE ON listing_sweeps
BEGIN
  SELECT RAISE(ABORT, 'refused by the catalog: the listing ledger is append-only');
END;
`,
  },
  {
    // Issue 17 §1: a verify pointed at the default folder found every object "missing" and sent 400
    // verified faxes back to listed. A catalog now knows the store and the main account it belongs to.
    version: 5,
    description: 'catalog identity: the store and main account a catalog belongs to',
    sql: `
CREATE TABLE catalog_identity (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  store TEXT NOT NULL,          -- the store's display URL (s3://bucket/prefix or file:///dir)
  store_endpoint TEXT,          -- an S3-compatible endpoint, when one was used (never credentials)
  account_sid TEXT NOT NULL,    -- the main account (AC...)
  recorded_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
`,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** Applies every migration newer than the file's `user_version`, each in its own transaction. */
export function migrate(db: MigrationDatabase, path: string): number {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > LATEST_SCHEMA_VERSION) {
    throw new ConfigurationError(
      `the catalog ${path} has schema version ${current}, newer than this fax-sunset understands (${LATEST_SCHEMA_VERSION}); upgrade fax-sunset`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    const foreignKeys = Number(db.pragma('foreign_keys', { simple: true }));
    if (migration.rebuildsTables) db.exec('PRAGMA foreign_keys = OFF');
    try {
      db.transaction(() => {
        db.exec(migration.sql);
        if (migration.rebuildsTables && db.pragma('foreign_key_check', { simple: true }) !== undefined) {
          throw new ConfigurationError(`the catalog ${path}: migration ${migration.version} would break a foreign key; nothing was changed`);
        }
        db.exec(`PRAGMA user_version = ${migration.version}`);
      })();
    } finally {
      if (migration.rebuildsTables && foreignKeys === 1) db.exec('PRAGMA foreign_keys = ON');
    }
  }
  return LATEST_SCHEMA_VERSION;
}

/** For a read-only open: the file must already be at the version this code reads. */
export function assertSchemaCurrent(db: MigrationDatabase, path: string): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current !== LATEST_SCHEMA_VERSION) {
    throw new ConfigurationError(
      `the catalog ${path} has schema version ${current}, this fax-sunset reads version ${LATEST_SCHEMA_VERSION}; ` +
        (current < LATEST_SCHEMA_VERSION ? 'run archive or sync once to upgrade it' : 'upgrade fax-sunset'),
    );
  }
}
