// Controls both grid views (learning dynamics, across runs) carry: a step picker with a "last"
// choice, the colour-domain toggle, and the CSV/JSON export of the matrix on screen.

import { setDomain } from '../state/store';
import { useAppStore } from '../state/hooks';
import { download, matrixCsv } from './exportChart';

/** A step picker: 'last' (labelled `lastLabel`) or one of `steps`. */
export function StepSelect({
  label,
  value,
  lastLabel,
  steps,
  onChange,
}: {
  label: string;
  value: number | 'last';
  lastLabel: string;
  steps: readonly number[];
  onChange: (step: number | 'last') => void;
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <select value={String(value)} onChange={(e) => onChange(e.currentTarget.value === 'last' ? 'last' : Number(e.currentTarget.value))}>
        <option value="last">{lastLabel}</option>
        {steps.map((s) => (
          <option key={s} value={s}>
            {String(s)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Colours on [0, 1] (comparable across views) or fitted to the values shown. */
export function FitColoursCheck() {
  const domainMode = useAppStore((s) => s.domain);
  return (
    <label className="check">
      <input type="checkbox" checked={domainMode === 'fit'} onChange={(e) => setDomain(e.currentTarget.checked ? 'fit' : 'fixed')} />
      Fit colours to data
    </label>
  );
}

/** CSV of the matrix on screen (`corner` names the row \ column axes) and the job's JSON result,
 *  offered once the job is done. */
export function MatrixExportButtons({
  matrix,
  json,
  fields = [],
}: {
  matrix: { corner: string; rows: string[]; cols: string[]; values: (number | null)[][]; file: string };
  json: { result: unknown; ready: boolean; file: string };
  /** What the CSV says about itself (written as leading "# key: value" lines). */
  fields?: [string, string][];
}) {
  return (
    <>
      <button
        type="button"
        className="button small"
        aria-label="Export CSV of the current matrix"
        onClick={() => download(new Blob([matrixCsv(matrix.corner, matrix.rows, matrix.cols, matrix.values, fields)], { type: 'text/csv' }), matrix.file)}
      >
        CSV
      </button>
      <button
        type="button"
        className="button small"
        disabled={!json.ready || !json.result}
        onClick={() => json.result && download(new Blob([JSON.stringify(json.result)], { type: 'application/json' }), json.file)}
      >
        Export JSON
      </button>
    </>
  );
}
