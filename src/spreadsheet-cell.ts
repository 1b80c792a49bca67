/**
 * The one rule for every CSV the project writes (faxes.csv, plan.csv): a cell a spreadsheet would
 * run as a formula (OWASP "CSV injection") gets a leading single quote, so it is shown as text.
 * Issue 13 taught that plan.csv checked only `= @ TAB CR` and skipped some columns: cells began with
 * `+cmd|' /C calc'!A0`, `-2+3+cmd|...` and `=HYPERLINK(...)`. Pure.
 *
 * A cell is a formula risk when, after any leading whitespace, control or invisible characters
 * (spreadsheets and their import dialogs strip some of them), it starts with `= + - @`, a TAB, CR
 * or LF, or the full-width or small forms of `= + - @` (U+FF1D, U+FF0B, U+FF0D, U+FF20, U+FE62,
 * U+FE63, U+FE66, U+FE6B) or U+2212 MINUS SIGN, which some spreadsheets fold to ASCII.
 * A valid E.164 number (`+14155551234`) and a plain number (`-0.00700`: Twilio's prices are
 * negative) stay exactly as they are, with nothing before them: they are data an auditor compares,
 * and a spreadsheet reads them as numbers, not formulas.
 */

const E164 = /^\+[1-9]\d{1,14}$/;
const PLAIN_NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
/** Leading characters a spreadsheet may skip before it decides whether a cell is a formula. */
const LEADING_IGNORABLE = /^[\s\u0000-\u001f\u007f-\u009f\u00ad\u180e\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]*/u;
const FORMULA_START = /^[=+\-@\t\r\n\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\ufe6b\u2212]/u;

/** True when a spreadsheet could read `value` as a formula (pure). */
export function isFormulaRisk(value: string): boolean {
  if (E164.test(value) || PLAIN_NUMBER.test(value)) return false;
  if (FORMULA_START.test(value)) return true;
  const rest = value.replace(LEADING_IGNORABLE, '');
  return rest !== value && FORMULA_START.test(rest);
}

/** The cell as it is safe to write: unchanged, or with a leading single quote when it is a formula risk. */
export function neutralizeSpreadsheetCell(value: string): string {
  return isFormulaRisk(value) ? `'${value}` : value;
}
