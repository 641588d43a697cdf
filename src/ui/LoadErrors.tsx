// Bad files and members, one line each, oldest first; each can be dismissed.

import { useAppStore } from '../state/hooks';
import { clearLoadErrors, dismissLoadError } from '../state/store';
import { shownMessage } from './format';

export function LoadErrors() {
  const errors = useAppStore((s) => s.loadErrors);
  if (errors.length === 0) return null;
  return (
    <section className="load-errors" role="alert" aria-label="Errors">
      <ul>
        {errors.map((message, i) => (
          <li key={`${i}:${message}`} className="error-line">
            <span className="message">{shownMessage(message)}</span>
            <button type="button" className="icon-button" aria-label={`Dismiss: ${shownMessage(message)}`} onClick={() => dismissLoadError(i)}>
              ×
            </button>
          </li>
        ))}
      </ul>
      {errors.length > 1 && (
        <button type="button" className="link-button" onClick={clearLoadErrors}>
          Dismiss all
        </button>
      )}
    </section>
  );
}
