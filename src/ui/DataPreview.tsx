// What a dropped bundle holds, before computing: runs × checkpoints × layers, shapes, dtype,
// datapoints, the layout (and conv layout) each layer is read with and why, size in MB; controls
// to fix the layout and to leave layers out; problems (refused, naming the arrays) and warnings;
// and every file that is not part of the bundle.

import { useMemo } from 'react';
import type { ConvLayout, Layout } from '../io/types';
import { useAppStore } from '../state/hooks';
import { activeBundle, confirmBundle, removeBundle, setActiveBundle, setLayerDropped, setOptions, setPreviewOpen } from '../state/store';
import { gridLabel, megabytes, stepsOfRun, summariseBundle, unmatchedOf } from '../state/preview';
import { formatShape } from '../worker/shapes';
import { printableLines } from '../io/printable';
import { count, shownMessage, shownName } from './format';

export function DataPreview() {
  const info = useAppStore(activeBundle);
  const bundles = useAppStore((s) => s.bundles);
  const options = useAppStore((s) => s.options);
  const dropped = useAppStore((s) => (s.activeBundle ? s.dropped[s.activeBundle] : undefined));
  const confirmed = useAppStore((s) => (s.activeBundle ? !!s.confirmed[s.activeBundle] : false));
  const open = useAppStore((s) => s.previewOpen);
  const summary = useMemo(() => (info ? summariseBundle(info, options, dropped ?? []) : null), [info, options, dropped]);
  if (!info || !summary) return null;
  const unmatched = unmatchedOf(info);

  const facts = [
    gridLabel(summary),
    `${count(summary.entries)} arrays`,
    megabytes(summary.bytes),
    summary.datapoints === null ? 'datapoints differ' : `${count(summary.datapoints)} datapoints`,
    info.labels ? `labels: ${info.labels.classes} classes` : null,
  ].filter(Boolean);

  const bundlePicker =
    bundles.length > 1 ? (
      <label className="field">
        <span>Bundle</span>
        <select value={info.id} onChange={(e) => setActiveBundle(e.currentTarget.value)}>
          {bundles.map((b) => (
            <option key={b.id} value={b.id}>
              {shownName(b.name)}
            </option>
          ))}
        </select>
      </label>
    ) : null;

  if (!open) {
    return (
      <section className="card preview collapsed" aria-label="Data">
        <div className="preview-line">
          <span>
            <strong>{shownName(info.name)}</strong> <span className="muted">{facts.join(' · ')}</span>
          </span>
          <span className="inline">
            {bundlePicker}
            <button type="button" className="button small" onClick={() => setPreviewOpen(true)}>
              Show details
            </button>
          </span>
        </div>
      </section>
    );
  }

  const hasConv = summary.perLayer.some((l) => l.conv);
  const blocked = summary.problems.length > 0;
  return (
    <section className="card preview" aria-labelledby="preview-heading">
      <div className="card-head">
        <div>
          <h2 id="preview-heading">{shownName(info.name)}</h2>
          <p className="sub" data-testid="preview-summary">
            {facts.join(' · ')}
          </p>
        </div>
        <div className="inline">
          {bundlePicker}
          {confirmed ? (
            <button type="button" className="button small" onClick={() => setPreviewOpen(false)}>
              Hide details
            </button>
          ) : (
            <button type="button" className="button primary" disabled={blocked} onClick={() => confirmBundle(info.id)}>
              Compute
            </button>
          )}
          <button type="button" className="button small" aria-label={`Close ${shownName(info.name)}`} onClick={() => void removeBundle(info.id)}>
            Close
          </button>
        </div>
      </div>

      <div className="preview-controls">
        <label className="field">
          <span>Layout</span>
          <select value={options.layout} onChange={(e) => setOptions({ layout: e.currentTarget.value as Layout | 'auto' })}>
            <option value="auto">detect</option>
            <option value="datapoints-first">datapoints first</option>
            <option value="neurons-first">neurons first</option>
          </select>
        </label>
        <label className="field">
          <span>Conv layout</span>
          <select disabled={!hasConv} value={options.convLayout} onChange={(e) => setOptions({ convLayout: e.currentTarget.value as ConvLayout | 'auto' })}>
            <option value="auto">detect</option>
            <option value="nchw">NCHW</option>
            <option value="nhwc">NHWC</option>
          </select>
        </label>
        <p className="note">
          {info.runs.length > 1
            ? `Runs: ${info.runs.map((r) => `${shownName(String(r))} (${stepsOfRun(info, r).length} checkpoints)`).join(', ')}.`
            : `Checkpoints: ${info.steps.join(', ')}.`}
        </p>
      </div>

      {summary.problems.length > 0 && (
        <ul className="problems" role="alert" aria-label="Problems">
          {summary.problems.map((p) => (
            <li key={p} className="error-line">
              {shownMessage(p)}
            </li>
          ))}
        </ul>
      )}
      {summary.warnings.length > 0 && (
        <ul className="warnings" aria-label="Data warnings">
          {summary.warnings.map((w) => (
            <li key={w}>{shownMessage(w)}</li>
          ))}
        </ul>
      )}

      <div className="table-scroll">
        <table className="layers">
          <thead>
            <tr>
              <th scope="col">Use</th>
              <th scope="col">Layer</th>
              <th scope="col">Shape</th>
              <th scope="col">dtype</th>
              <th scope="col">Datapoints</th>
              <th scope="col">Features fed to the metric</th>
              <th scope="col">Layout</th>
            </tr>
          </thead>
          <tbody>
            {summary.perLayer.map((l) => (
              <tr key={l.layer} data-layer={l.layer} className={l.dropped ? 'dropped' : undefined}>
                <td>
                  <input
                    type="checkbox"
                    checked={!l.dropped}
                    aria-label={`Use layer ${shownName(l.layer)}`}
                    onChange={(e) => setLayerDropped(info.id, l.layer, !e.currentTarget.checked)}
                  />
                </td>
                <th scope="row" className="name">
                  {shownName(l.layer)}
                </th>
                <td className="mono">{formatShape(l.shape)}</td>
                <td className="mono">{shownName(l.dtype)}</td>
                <td className="mono">{count(l.datapoints)}</td>
                <td className="features">
                  {l.features ? (
                    <ul aria-label={`Features of ${shownName(l.layer)} per conv reduction`}>
                      {l.features.map((f) => (
                        <li key={f.reduction} className={f.reduction === options.convReduction ? 'current' : undefined}>
                          {f.label}
                          {f.reduction === options.convReduction && <span className="visually-hidden"> (chosen)</span>}
                        </li>
                      ))}
                    </ul>
                  ) : (
                    <span className="mono">{count(l.neurons)}</span>
                  )}
                </td>
                <td className="layout">
                  <div>
                    <strong>{l.layout}</strong>
                    {l.convLayout && <span className="dims">{` · ${l.convLayout.toUpperCase()}`}</span>}
                  </div>
                  {l.reading && <div className="reading">{l.reading}</div>}
                  <div className="reason">{shownMessage(l.reason)}</div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {unmatched.length > 0 && (
        <div className="unmatched" data-testid="unmatched">
          <h3>{`Not part of the bundle (${unmatched.length}, not used)`}</h3>
          <ul>
            {unmatched.slice(0, 50).map((u) => (
              <li key={u} className="mono">
                {shownMessage(u)}
              </li>
            ))}
            {unmatched.length > 50 && <li>{`and ${unmatched.length - 50} more`}</li>}
          </ul>
        </div>
      )}
      {info.manifest && (
        <details className="manifest">
          <summary>manifest.json</summary>
          <pre>{printableLines(info.manifest)}</pre>
        </details>
      )}
    </section>
  );
}
