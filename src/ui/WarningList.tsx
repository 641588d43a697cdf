// Warnings, the first few shown and the rest behind "Show all" (a grid job can raise many), and
// under them the informational lines of the same list (how conv layers were read and reduced:
// analysis/rules.ts isInformational) in a quieter style of their own: a note says what was
// done, a warning that something may be wrong.

import { useState } from 'react';
import { isInformational } from '../analysis/rules';
import { shownMessage } from './format';

export function WarningList({ warnings: lines, limit = 3, label = 'Warnings' }: { warnings: readonly string[]; limit?: number; label?: string }) {
  const [all, setAll] = useState(false);
  const notes = lines.filter(isInformational);
  const warnings = lines.filter((line) => !isInformational(line));
  if (lines.length === 0) return null;
  const shown = all ? warnings : warnings.slice(0, limit);
  return (
    <div className="warning-list">
      {warnings.length > 0 && (
        <ul className="warnings" aria-label={label}>
          {shown.map((w) => (
            <li key={w}>{shownMessage(w)}</li>
          ))}
        </ul>
      )}
      {warnings.length > limit && (
        <button type="button" className="link-button more" aria-expanded={all} onClick={() => setAll(!all)}>
          {all ? 'Show fewer warnings' : `Show all ${warnings.length} warnings`}
        </button>
      )}
      {notes.length > 0 && (
        <ul className="notes" aria-label="Notes">
          {notes.map((n) => (
            <li key={n}>{shownMessage(n)}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
