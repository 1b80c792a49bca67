/**
 * A small validator for the OpenAPI schema facts copied into test/fixtures/openapi/ (type,
 * nullable, enum, pattern, min/maxLength, properties, items, $ref, date formats). Hand-written
 * so the conformance tests need no new dependency. Returns the list of problems (empty = valid).
 */
import { readFileSync } from 'node:fs';

interface Schema {
  $ref?: string;
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  format?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/openapi/twilio-schemas.json', import.meta.url), 'utf8')) as {
  schemas: Record<string, Schema>;
  responses: Record<string, Schema>;
};

/**
 * Known, documented deviations: Twilio's spec says `price` is a number, but real fax payloads
 * carried strings such as "0.014" (twilio-fax-api.md), and the emulator sends strings.
 */
const PRICE_AS_STRING = true;
const PAGING_LINK = /\.(next|previous)_page_ur[il]$/;

const RFC2822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function check(value: unknown, schema: Schema, path: string, problems: string[]): void {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = fixture.schemas[name];
    if (!target) throw new Error(`unknown $ref ${schema.$ref}`);
    check(value, target, path, problems);
    return;
  }
  if (value === null) {
    // The spec omits `nullable` on paging links, yet Twilio sends null for "no such page".
    if (PAGING_LINK.test(path)) return;
    if (!schema.nullable) problems.push(`${path}: null but not nullable`);
    return;
  }
  const type = schema.type;
  const actual = Array.isArray(value) ? 'array' : typeof value;
  const priceString = PRICE_AS_STRING && path.endsWith('.price') && typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value);
  if (type === 'integer') {
    if (!Number.isInteger(value)) problems.push(`${path}: expected integer, got ${JSON.stringify(value)}`);
  } else if (type === 'number') {
    if (typeof value !== 'number' && !priceString) problems.push(`${path}: expected number, got ${JSON.stringify(value)}`);
  } else if (type && type !== actual) {
    problems.push(`${path}: expected ${type}, got ${actual}`);
    return;
  }
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (typeof value === 'string') {
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) problems.push(`${path}: ${value} does not match ${schema.pattern}`);
    if (schema.minLength !== undefined && value.length < schema.minLength) problems.push(`${path}: too short`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push(`${path}: too long`);
    if (schema.format === 'date-time' && !ISO.test(value)) problems.push(`${path}: not ISO 8601: ${value}`);
    if (schema.format === 'date-time-rfc-2822' && !RFC2822.test(value)) problems.push(`${path}: not RFC 2822: ${value}`);
    if (schema.format === 'uri' && !/^(https?:\/\/|\/)/.test(value)) problems.push(`${path}: not a URI: ${value}`);
  }
  if (schema.properties && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (!(key in record)) {
        problems.push(`${path}.${key}: missing`);
        continue;
      }
      check(record[key], sub, `${path}.${key}`, problems);
    }
  }
  if (schema.items && Array.isArray(value)) value.forEach((item, i) => check(item, schema.items as Schema, `${path}[${i}]`, problems));
}

/** Problems of `value` against a named response schema (e.g. ListFaxResponse) or component schema. */
export function schemaProblems(value: unknown, name: string): string[] {
  const schema = fixture.responses[name] ?? fixture.schemas[name];
  if (!schema) throw new Error(`no schema named ${name}`);
  const problems: string[] = [];
  check(value, schema, '$', problems);
  return problems;
}
