/**
 * summary.json: the report model as machine-readable JSON, versioned by `schema` so the tools an
 * auditor scripts against it can tell when its shape changes.
 */
import type { ReportModel } from './report-model.js';

export const SUMMARY_SCHEMA = 'fax-sunset/report-summary@1';

export interface BagSummary {
  /** Whether the payload is in the report folder (`--bag`) or named by fetch.txt. */
  complete: boolean;
  payloadBytes: number;
  payloadCount: number;
  payloadOxum: string;
  manifestAlgorithm: 'sha256';
}

export function renderSummaryJson(model: ReportModel, bag: BagSummary): string {
  return `${JSON.stringify({ schema: SUMMARY_SCHEMA, ...model, bag }, null, 2)}\n`;
}
