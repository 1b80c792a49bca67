/**
 * fax-sunset's public API, for scripts that drive it from code instead of the command line. The
 * CLI (src/cli.ts) is built from exactly these pieces; anything not exported here is internal and
 * may change without notice.
 */

// Use cases: each returns a result per item plus a summary; the exit code follows from the summary.
export { runArchive, exitCodeForSummary } from './pipeline/archive-run.js';
export type { ArchiveOptions, ArchiveDependencies, ArchiveSummary, ArchiveResult } from './pipeline/archive-run.js';
export { runVerify } from './verify/verify-archive.js';
export type { VerifyOptions, VerifySummary, VerifyFindingResult } from './verify/verify-archive.js';
export { writeReport } from './report/write-report.js';
export type { WriteReportOptions, ReportResult } from './report/write-report.js';
export { buildReversionPlan, planSha256, checkPlanIntegrity, parsePlan } from './reversion/reversion-plan.js';
export type { ReversionPlan, PlannedChange, PlanOptions } from './reversion/reversion-plan.js';
export { applyPlan } from './reversion/apply-plan.js';
export { rollbackChanges } from './reversion/rollback-changes.js';

// The edges: catalog, media stores, Twilio, limits.
export { openCatalog } from './catalog/sqlite-catalog.js';
export type { Catalog, FaxRow, ObjectRecord, VerificationMethod } from './catalog/catalog.js';
export { acquireCatalogLock } from './catalog/catalog-lock.js';
export { writeCatalogCsv } from './catalog/csv-export.js';
export { openMediaStore, parseStoreUrl } from './store/open-media-store.js';
export type { MediaStore, StoreCapabilities } from './store/media-store.js';
export { createTwilioGateway } from './twilio/helper-library-twilio-gateway.js';
export type { TwilioGateway, TwilioFax } from './twilio/twilio-gateway.js';
export { createAccountDirectory } from './twilio/account-directory.js';
export type { AccountDirectory, AccountDirectoryOptions, OwnCredentials, RunAccounts } from './twilio/account-directory.js';
export { createRequestLimiter } from './limits/request-limiter.js';
export type { RequestLimiter, RequestLimiterOptions } from './limits/request-limiter.js';

// The Twilio emulator, for demos and tests of code built on fax-sunset.
export { startEmulator } from './emulator/index.js';
export type { RunningEmulator } from './emulator/index.js';

// Errors and the one exit-code table.
export * from './errors.js';
