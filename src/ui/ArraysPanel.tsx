// The arrays found in the dropped files (shape, dtype, assumed layout and why, with a flip)
// and the two selectors that pick what to compare.

import { useMemo } from 'react';
import type { Layout } from '../io/types';
import { useAppStore } from '../state/hooks';
import { effectiveLayout, flipLayout, removeArray, selectArray } from '../state/store';
import type { Side } from '../state/store';
import { datapointsOfShape, featuresOf, formatShape } from '../worker/shapes';
import type { ArrayInfo } from '../worker/protocol';
import { count, shownMessage, shownName } from './format';

interface Row {
  info: ArrayInfo;
  layout: Layout;
  overridden: boolean;
  datapoints: number;
  features: number;
}

function useRows(): Row[] {
  const arrays = useAppStore((s) => s.arrays);
  const overrides = useAppStore((s) => s.layoutOverrides);
  return useMemo(
    () =>
      arrays.map((info) => {
        const layout = effectiveLayout({ layoutOverrides: overrides }, info);
        return {
          info,
          layout,
          overridden: layout !== info.detected.layout,
          datapoints: datapointsOfShape(info.shape, layout),
          features: featuresOf(info.shape, layout),
        };
      }),
    [arrays, overrides],
  );
}

export function ArraysPanel() {
  const rows = useRows();
  const selection = useAppStore((s) => s.selection);
  return (
    <section className="card arrays" aria-labelledby="arrays-heading">
      <div className="card-head">
        <h2 id="arrays-heading">Arrays</h2>
        <PairPicker rows={rows} selection={selection} />
      </div>
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Shape</th>
              <th scope="col">dtype</th>
              <th scope="col">Layout</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <ArrayRow key={row.info.id} row={row} selection={selection} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function ArrayRow({ row, selection }: { row: Row; selection: Record<Side, string | null> }) {
  const { info, layout, overridden } = row;
  const canFlip = info.shape.length === 2;
  return (
    <tr data-array={info.name}>
      <th scope="row" className="name">
        {selection.a === info.id && <span className="badge a">A</span>}
        {selection.b === info.id && <span className="badge b">B</span>}
        <span title={shownMessage(info.name)}>{shownName(info.name)}</span>
      </th>
      <td className="mono">{formatShape(info.shape)}</td>
      <td className="mono">{shownName(info.dtype)}</td>
      <td className="layout">
        <div>
          <strong>{layout}</strong>
          <span className="dims">{` · ${count(row.datapoints)} datapoints × ${count(row.features)} features`}</span>
        </div>
        <div className="reason">{overridden ? `You flipped it (detected: ${info.detected.layout}).` : shownMessage(info.detected.reason)}</div>
      </td>
      <td className="actions">
        {canFlip && (
          <button
            type="button"
            className="button small"
            aria-label={`Flip layout of ${shownMessage(info.name)}`}
            title="Swap which axis holds the datapoints"
            onClick={() => flipLayout(info.id)}
          >
            Flip
          </button>
        )}
        <button type="button" className="icon-button" aria-label={`Remove ${shownMessage(info.name)}`} title="Remove" onClick={() => void removeArray(info.id)}>
          ×
        </button>
      </td>
    </tr>
  );
}

function PairPicker({ rows, selection }: { rows: Row[]; selection: Record<Side, string | null> }) {
  return (
    <div className="pair-picker">
      {(['a', 'b'] as const).map((side) => (
        <label key={side} className="field">
          <span>{`Representation ${side.toUpperCase()}`}</span>
          <select value={selection[side] ?? ''} onChange={(e) => selectArray(side, e.currentTarget.value || null)}>
            <option value="">—</option>
            {rows.map((r) => (
              <option key={r.info.id} value={r.info.id}>
                {`${shownName(r.info.name)}  ${formatShape(r.info.shape)}`}
              </option>
            ))}
          </select>
        </label>
      ))}
    </div>
  );
}
