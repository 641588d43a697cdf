// The Classes view (paper §4.3, Figure 6: "when are classes learned"): for the run shown in the
// learning-dynamics view, a classes × steps heatmap of one layer's CCA correlation with each
// class's target (logit or indicator), the per-class curves with the threshold, which classes reach
// it first, and each layer's k99 (directions holding 99% of the variance) over training.
// Numbers: analysis/classes.ts (CPU float64), run in the worker.

import { useCallback, useEffect, useMemo } from 'react';
import { useAppStore } from '../state/hooks';
import {
  cancelClasses,
  classesExportInfo,
  firstSteps,
  noLabelsReason,
  runClasses,
  setClassLayer,
  setClassTarget,
  setClassThreshold,
  useClassesStore,
} from '../state/classes';
import { footerLine } from '../state/exportInfo';
import { ChartFigure } from './ChartFigure';
import { WarningList } from './WarningList';
import { MatrixExportButtons } from './ViewControls';
import { Heatmap } from './charts/Heatmap';
import { ConvergenceChart } from './charts/ConvergenceChart';
import { shownMessage, shownName } from './format';

const NONE = () => {};

export function ClassesView() {
  const unavailable = useAppStore(noLabelsReason);
  const bundles = useAppStore((s) => s.bundles);
  const activeBundle = useAppStore((s) => s.activeBundle);
  const runIndex = useAppStore((s) => s.runIndex);
  const dropped = useAppStore((s) => s.dropped);
  const options = useAppStore((s) => s.options);
  const job = useClassesStore((s) => s.job);
  const target = useClassesStore((s) => s.target);
  const chosenThreshold = useClassesStore((s) => s.threshold);
  const layerIndex = useClassesStore((s) => s.layerIndex);

  useEffect(() => {
    if (!unavailable) void runClasses();
  }, [unavailable, activeBundle, runIndex, dropped, options, target]);

  const r = job?.status === 'done' ? job.result : null;
  const threshold = chosenThreshold ?? r?.threshold ?? 0;
  const l = r ? Math.min(layerIndex, r.layers.length - 1) : 0;
  const first = useMemo(() => (r ? firstSteps(r.values, r.steps, threshold) : []), [r, threshold]);
  const classLabels = useMemo(() => (r ? r.classes.map((c) => `class ${c}`) : []), [r]);
  const stepLabels = useMemo(() => (r ? r.steps.map(String) : []), [r]);
  const series = useMemo(() => (r ? r.classes.map((c, ci) => ({ layer: `class ${c}`, values: r.values[l][ci] })) : []), [r, l]);
  const k99Rows = useMemo(() => (r ? r.layers.map((_, li) => r.steps.map((__, t) => r.k99[t][li])) : []), [r]);
  const k99Max = useMemo(() => Math.max(1, ...k99Rows.flat()), [k99Rows]);
  const bundleName = bundles.find((b) => b.id === activeBundle)?.name ?? '';
  const info = useMemo(() => (job ? classesExportInfo(r, job.request, bundleName, r?.layers[l] ?? null, threshold) : null), [job, r, bundleName, l, threshold]);
  const stamp = useMemo(() => (info ? { footer: footerLine(info), fields: info.fields } : null), [info]);
  const exported = useMemo(() => (r ? { ...r, threshold, firstStep: first } : null), [r, threshold, first]);

  const describeClass = useCallback(
    (ci: number, t: number) => {
      if (!r) return [];
      const f = first[l]?.[ci];
      return [
        `class ${r.classes[ci]} at step ${r.steps[t]}, layer ${r.layers[l]}`,
        `ρ = ${r.values[l][ci][t].toFixed(4)}`,
        f === null || f === undefined ? `never reaches ${threshold}` : `first ≥ ${threshold} at step ${f}`,
      ];
    },
    [r, l, first, threshold],
  );
  const describeK99 = useCallback(
    (li: number, t: number) =>
      r
        ? [
            `layer ${r.layers[li]} at step ${r.steps[t]}`,
            `k99 = ${r.k99[t][li]} directions hold 99% of the variance`,
            `kept by the keep rule: ${r.kept[t][li]}`,
          ]
        : [],
    [r],
  );

  if (unavailable) {
    return (
      <section className="card view" aria-label="Class sensitivity">
        <p className="hint" data-testid="classes-unavailable">
          {shownMessage(unavailable)}
        </p>
      </section>
    );
  }
  const base = info?.base ?? 'classes';
  const layer = r?.layers[l] ?? '';
  const order = r
    ? r.classes
        .map((c, ci) => ({ c, step: first[l]?.[ci] ?? null }))
        .filter((e) => e.step !== null)
        .sort((a, b) => a.step! - b.step! || a.c - b.c)
    : [];
  const never = r ? r.classes.filter((_, ci) => first[l]?.[ci] === null) : [];
  const targetText = r ? (r.target === 'logits' ? `its logit (column c of layer ${r.logitsLayer}, same step)` : 'the indicator 1[label = c]') : '';
  const caption = r
    ? `Class sensitivity of layer ${layer} (${shownName(bundleName)}${r.run === null ? '' : `, run ${r.run}`}): CCA correlation between the layer after SVCCA's SVD step and each class c's target, ${targetText}, at every checkpoint (paper §4.3, Figure 6). ${r.datapoints} datapoints; colour: viridis on [0, 1].`
    : '';

  return (
    <section className="card view" aria-labelledby="classes-heading" data-status={job?.status ?? 'idle'}>
      <div className="card-head">
        <h2 id="classes-heading">Class sensitivity</h2>
        <p className="sub">When are classes learned: each layer against each class, over training.</p>
      </div>
      <div className="view-controls">
        <label className="field">
          <span>Target</span>
          <select value={target} aria-label="Class target" onChange={(e) => setClassTarget(e.currentTarget.value as typeof target)}>
            <option value="auto">auto (logits if present)</option>
            <option value="logits">class logit</option>
            <option value="indicator">class indicator</option>
          </select>
        </label>
        {r && (
          <label className="field">
            <span>Layer</span>
            <select value={l} aria-label="Class layer" onChange={(e) => setClassLayer(Number(e.currentTarget.value))}>
              {r.layers.map((name, k) => (
                <option key={name} value={k}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        )}
        {r && (
          <label className="field inline-field">
            <span>Threshold</span>
            <input
              type="number"
              min={0}
              max={1}
              step={0.05}
              value={threshold}
              aria-label="Class threshold"
              onChange={(e) => setClassThreshold(Number(e.currentTarget.value))}
            />
          </label>
        )}
      </div>
      {job?.status === 'running' && (
        <p className="job-status running" role="status">
          {`Computing class sensitivity… ${job.progress ? `${job.progress.done}/${job.progress.total}` : ''}`}{' '}
          <button type="button" className="button small" onClick={cancelClasses}>
            Cancel
          </button>
        </p>
      )}
      {job?.status === 'cancelled' && (
        <p className="hint">
          Cancelled.{' '}
          <button type="button" className="button small" onClick={() => void runClasses(true)}>
            Recompute
          </button>
        </p>
      )}
      {job?.error && (
        <p className="error-line" role="alert">
          {shownMessage(job.error)}
        </p>
      )}
      {r && (
        <>
          <ChartFigure
            title="class heatmap"
            caption={caption}
            file={`${base}-${layer}`}
            stamp={stamp}
            extra={
              <MatrixExportButtons
                matrix={{ corner: `class \\ step (layer ${layer})`, rows: classLabels, cols: stepLabels, values: r.values[l], file: `${base}-${layer}.csv` }}
                json={{ result: exported, ready: true, file: `${base}.json` }}
                fields={info?.fields ?? []}
              />
            }
          >
            <Heatmap
              values={r.values[l]}
              rows={classLabels}
              cols={stepLabels}
              domain={[0, 1]}
              label={`Class sensitivity heatmap of layer ${layer}: classes × steps`}
              xTitle="step"
              yTitle="class"
              legendTitle="ρ"
              describe={describeClass}
              selected={null}
              onSelect={NONE}
            />
          </ChartFigure>
          <ChartFigure
            title="class curves"
            caption={`Per-class curves of layer ${layer}: ρ against the step, one line per class, with the threshold ${threshold}.`}
            file={`${base}-${layer}-curves`}
            stamp={stamp}
          >
            <ConvergenceChart
              series={series}
              steps={r.steps}
              threshold={threshold}
              label={`Class sensitivity curves of layer ${layer}`}
              yLabel="ρ with the class target"
            />
          </ChartFigure>
          <p className="note" data-testid="learned-first">
            {order.length === 0
              ? `No class reaches ρ ≥ ${threshold} in layer ${layer}.`
              : `Learned first (layer ${layer}, first step with ρ ≥ ${threshold}): ${order.map((e) => `class ${e.c} (step ${e.step})`).join(', ')}${never.length > 0 ? `; never: ${never.map((c) => `class ${c}`).join(', ')}` : ''}.`}
          </p>
          <ChartFigure
            title="k99 heatmap"
            caption={`How many directions matter: the number of SVD directions holding 99% of each layer's variance, at every checkpoint (layers × steps; colour on [0, ${k99Max}]).`}
            file={`${base}-k99`}
            stamp={stamp}
            extra={
              <MatrixExportButtons
                matrix={{ corner: 'layer \\ step (k99)', rows: r.layers, cols: stepLabels, values: k99Rows, file: `${base}-k99.csv` }}
                json={{ result: exported, ready: true, file: `${base}.json` }}
                fields={info?.fields ?? []}
              />
            }
          >
            <Heatmap
              values={k99Rows}
              rows={r.layers}
              cols={stepLabels}
              domain={[0, k99Max]}
              label="k99 heatmap: layers × steps"
              xTitle="step"
              yTitle="layer"
              legendTitle="k99"
              describe={describeK99}
              selected={null}
              onSelect={NONE}
            />
          </ChartFigure>
          {/* Under the charts, as in the other views, the shown layer's first and the rest behind "Show all" (a run can raise one per layer). */}
          <WarningList
            warnings={[...r.warnings.filter((w) => w.startsWith(`layer ${layer}:`)), ...r.warnings.filter((w) => !w.startsWith(`layer ${layer}:`))]}
          />
        </>
      )}
    </section>
  );
}
