// Warnings, the first few shown and the rest behind "Show all" (a grid job can raise many).

import { useState } from 'react';
import { shownMessage } from './format';

export function WarningList({ warnings, limit = 3, label = 'Warnings' }: { warnings: readonly string[]; limit?: number; label?: string }) {
  const [all, setAll] = useState(false);
  if (warnings.length === 0) return null;
  const shown = all ? warnings : warnings.slice(0, limit);
  return (
    <div className="warning-list">
      <ul className="warnings" aria-label={label}>
        {shown.map((w) => (
          <li key={w}>{shownMessage(w)}</li>
        ))}
      </ul>
      {warnings.length > limit && (
        <button type="button" className="link-button more" aria-expanded={all} onClick={() => setAll(!all)}>
          {all ? 'Show fewer warnings' : `Show all ${warnings.length} warnings`}
        </button>
      )}
    </div>
  );
}
