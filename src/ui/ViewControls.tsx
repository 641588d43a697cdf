// Controls both grid views (learning dynamics, across runs) carry: a step picker with a "last"
// choice, the colour-domain toggle, and the CSV/JSON export of the matrix on screen.

import { useState } from 'react';
import { drawsOf } from '../analysis/chanceDefs';
import { setChance, setChanceCells, setDomain, setHeatMode, APP_BASELINE } from '../state/store';
import type { ChanceCells, HeatMode } from '../state/store';
import { useAppStore } from '../state/hooks';
import type { Baseline } from '../analysis/types';
import { download, matrixCsv } from './exportChart';
import { chanceCsv, gridChanceLines, HEAT_MODES } from './chanceHeat';

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

/**
 * The chance level of a grid view: on or off, which cells get one (the diagonal: layer i against
 * layer i; or every cell, P times the whole grid) and what the heatmap's colours show.
 */
export function ChanceControls({ diagonal }: { diagonal: string }) {
  const chance = useAppStore((s) => s.chance);
  const cells = useAppStore((s) => s.chanceCells);
  const mode = useAppStore((s) => s.heatMode);
  return (
    <div className="chance-controls" role="group" aria-label="Chance level">
      <label
        className="check"
        title={`Each similarity's chance level: its value between unrelated data, ${APP_BASELINE.permutations} ${drawsOf('auto')} (seed ${APP_BASELINE.seed}); bands = mean ± 2 sd`}
      >
        <input type="checkbox" checked={chance} onChange={(e) => setChance(e.currentTarget.checked)} />
        Chance level
      </label>
      {/* Shown with the chance level only: the first screen keeps one row of controls (the heatmap above the fold). */}
      {chance && (
        <label className="field">
          <span>Heatmap shows</span>
          <select value={mode} onChange={(e) => setHeatMode(e.currentTarget.value as HeatMode)}>
            {HEAT_MODES.map((m) => (
              <option key={m.mode} value={m.mode}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
      )}
      {chance && (
        <label className="field">
          <span>Chance of</span>
          <select value={cells} onChange={(e) => setChanceCells(e.currentTarget.value as ChanceCells)}>
            <option value="diagonal">{diagonal}</option>
            <option value="all">every cell (slower)</option>
          </select>
        </label>
      )}
    </div>
  );
}

/** CSV of the matrix on screen (`corner` names the row \ column axes) and the job's JSON result,
 *  offered once the job is done. */
export function MatrixExportButtons({
  matrix,
  json,
  fields = [],
}: {
  matrix: {
    corner: string;
    rows: string[];
    cols: string[];
    values: (number | null)[][];
    file: string;
    /** The matrix's chance level: the CSV is then long, one line per cell with the chance columns. */
    chance?: (Baseline | null)[][] | null;
    /** With `chance`: the long CSV's first two columns and the similarity's column. */
    keys?: [string, string];
    metric?: string;
  };
  /** `complete`: what to write when the result lacks part of it until asked (a dynamics job's k99: state/dynamicsExport.ts). */
  json: { result: unknown; ready: boolean; file: string; complete?: () => Promise<unknown> };
  /** What the CSV says about itself (written as leading "# key: value" lines). */
  fields?: [string, string][];
}) {
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const exportJson = async () => {
    if (!json.result) return;
    setExportError(null);
    setExporting(true);
    try {
      const value = json.complete ? await json.complete() : json.result;
      download(new Blob([JSON.stringify(value)], { type: 'application/json' }), json.file);
    } catch (e) {
      setExportError(`Export JSON failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setExporting(false);
    }
  };
  return (
    <>
      <button
        type="button"
        className="button small"
        aria-label="Export CSV of the current matrix"
        onClick={() => {
          const text = matrix.chance
            ? chanceCsv(
                matrix.keys ?? ['row', 'column'],
                matrix.metric ?? 'similarity',
                gridChanceLines(matrix.rows, matrix.cols, matrix.values, matrix.chance),
                fields,
              )
            : matrixCsv(matrix.corner, matrix.rows, matrix.cols, matrix.values, fields);
          download(new Blob([text], { type: 'text/csv' }), matrix.file);
        }}
      >
        CSV
      </button>
      <button
        type="button"
        className="button small"
        disabled={!json.ready || !json.result || exporting}
        aria-busy={exporting}
        title={exporting ? 'Computing k99 for the export…' : undefined}
        onClick={() => void exportJson()}
      >
        Export JSON
      </button>
      {exportError && (
        <span className="error" role="alert">
          {exportError}
        </span>
      )}
    </>
  );
}
