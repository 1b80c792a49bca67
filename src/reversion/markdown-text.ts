/**
 * Data (phone numbers, friendly names, URLs, Twilio's messages) placed into plan.md as text, never
 * as markup: issue 13 found `<script>` passing through raw. HTML's `& < >` become entities, the
 * characters Markdown gives meaning to inline (emphasis, code, links, images, table pipes,
 * headings, strikethrough, escapes; list markers at the start) are backslash-escaped, and line
 * breaks become spaces so a value stays in its table cell or list item. CommonMark renders the result as exactly the original characters. Pure.
 */
export function markdownText(text: string): string {
  return text
    .replace(/[\r\n\u2028\u2029]+/g, ' ')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/[\\`*_[\]#!|~]/g, '\\$&')
    // Only at the start, and followed by a space, can `-`, `+` or `1.` open a list inside a list
    // item (a phone number's leading `+` cannot, so it stays readable); `---` would be a rule.
    .replace(/^([-+])(?=\s|$|--)/, '\\$1')
    .replace(/^(\d{1,9})([.)])(?=\s|$)/, '$1\\$2')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}
