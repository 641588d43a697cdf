// Text taken from a file (array names, dtype strings, header text, run and layer names) is shown to
// a person: in a terminal by the CLI, on the page by the app. A hostile or broken file must not be
// able to rewrite the user's terminal (ANSI escapes, C1 controls such as U+009B CSI), reorder what
// is shown (Unicode bidirectional overrides, "trojan source") or flood the screen. So every such
// string goes through `printable` before it is shown: controls become visible escapes (\x1b,
// \u202e) and long strings are cut with an ellipsis that says how much was left out.

/** C0 controls, DEL, C1 controls, and the bidirectional embedding/override/isolate marks. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** Same, but keeping newline and tab: for multi-line text the program itself lays out. */
const UNSAFE_KEEPING_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Default cap for one name or value taken from a file. */
export const MAX_SHOWN_LENGTH = 120;

/**
 * `text` made safe to show on one line: every control or bidi character escaped, and at most
 * `maxLength` characters of the (escaped) result, the rest replaced by "… (N more characters)".
 */
export function printable(text: string, maxLength = MAX_SHOWN_LENGTH): string {
  const escaped = String(text).replace(UNSAFE, escapeOne);
  if (escaped.length <= maxLength) return escaped;
  return `${escaped.slice(0, maxLength)}… (${escaped.length - maxLength} more characters)`;
}

/** Multi-line output of our own (tables, messages): controls escaped except newline and tab; no cap. */
export function printableLines(text: string): string {
  return String(text).replace(UNSAFE_KEEPING_LINES, escapeOne);
}

/**
 * JSON text safe for a terminal: JSON.stringify already escapes U+0000–U+001F, but leaves DEL,
 * the C1 controls and the bidi marks raw; they are written as \u escapes, so the JSON still parses
 * to exactly the same strings.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
