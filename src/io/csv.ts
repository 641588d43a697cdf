// The cells of every CSV the app exports (matrices, chance levels, the seeds' long tables). Text
// cells carry names from the user's files (layers, runs, bundles), and a spreadsheet (Excel,
// LibreOffice, Google Sheets) runs a cell that begins with =, +, -, @, a tab or a carriage return
// as a formula; so text is guarded the OWASP way (a leading ' makes it text), then quoted as
// RFC 4180 asks. Numbers go through csvNumber and are never guarded: -0.12 stays a number.

/** The first characters that make a spreadsheet read a cell as a formula. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell: ' before a formula's first character, then quoted where it holds a quote, a line
 *  break or a separator (the comma, and the semicolon and tab that other locales split on). */
export function csvText(text: string): string {
  const guarded = FORMULA_START.test(text) ? `'${text}` : text;
  return /[",;\t\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/** A number cell: the shortest text that reads back as the same float64; empty for none, NaN or ±∞. */
export function csvNumber(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '' : String(value);
}

/**
 * A "# key: value" line saying what the table is (pandas: `read_csv(path, comment='#')` skips it).
 * A spreadsheet splits it at its commas like any line, so every piece after a separator that
 * would start a formula (after spaces or opening quotes) gets the text cell's ', and line breaks
 * become spaces.
 */
export function csvComment(key: string, value: string): string {
  return `# ${key}: ${value}`.replace(/\r\n|\r|\n/g, ' ').replace(/([,;\t])([\s"]*)(?=[=+\-@])/g, "$1$2'");
}
