// The comparison of the selected pair: the similarity, its summaries, the warnings, the
// conventions that produced it, and the spectra.

import { drawsOf, pText } from '../analysis/chanceDefs';
import type { ReactNode } from 'react';
import type { Conventions, PairResult } from '../analysis/types';
import { useAppStore } from '../state/hooks';
import { ChartFigure } from './ChartFigure';
import { taggedSlug } from './exportChart';
import { pairExportTag } from '../state/exportInfo';
import { ErrorBoundary } from './ErrorBoundary';
import { WarningList } from './WarningList';
import { SpectrumChart } from './charts/SpectrumChart';
import { mean } from './charts/spectrumLayout';
import { VarianceChart } from './charts/VarianceChart';
import { CONV_REDUCTION_LABELS, metricDef, metricLabel } from '../analysis/metricDefs';
import { count, epsilonLabel, fixed, keepLabel, pair, shownMessage, shownName } from './format';

export function ResultsPanel() {
  const status = useAppStore((s) => s.status);
  const result = useAppStore((s) => s.result);
  const resultPair = useAppStore((s) => s.resultPair);
  const error = useAppStore((s) => s.error);
  const selection = useAppStore((s) => s.selection);
  const hasArrays = useAppStore((s) => s.arrays.length > 0);

  if (!hasArrays) return null;
  return (
    <section className="card results" aria-label="Results" aria-busy={status === 'running'} data-status={status}>
      {error && (
        <p className="error-line" role="alert">
          {shownMessage(error)}
        </p>
      )}
      {!error && (selection.a === null || selection.b === null) && (
        <p className="hint">Pick two arrays to compare (or the same one twice: SVCCA of X with itself is 1).</p>
      )}
      {status === 'running' && !result && <p className="hint">Computing…</p>}
      {result && resultPair && (
        <ErrorBoundary name="results">
          <ResultView result={result} names={resultPair} stale={status === 'running'} />
        </ErrorBoundary>
      )}
    </section>
  );
}

export function ResultView({
  result,
  names,
  stale,
  backend,
  children,
}: {
  result: PairResult;
  names: { a: string; b: string };
  stale: boolean;
  /** Which backend computed it and why (resolveBackend's reason), when known. */
  backend?: string;
  /** More figures, shown after the spectra (the drill-down's direction pairs). */
  children?: ReactNode;
}) {
  const metric = metricLabel(result.metric);
  // Exports of the same pair computed otherwise (another metric, the GPU) get names of their own.
  const tag = pairExportTag(result.conventions);
  const hasRho = result.rho.length > 0;
  const meanRho = mean(result.rho);
  return (
    <div className={stale ? 'result stale' : 'result'}>
      <div className="headline">
        <div className="big">
          <div className="big-label">{`${metric} similarity`}</div>
          <output className="big-number" data-testid="similarity" data-value={result.similarity}>
            {fixed(result.similarity, 4)}
          </output>
          <div className="between">
            <span className="badge a">A</span> {shownName(names.a)} <span className="badge b">B</span> {shownName(names.b)}
            {stale && <span className="computing"> · updating…</span>}
          </div>
        </div>
        <dl className="stats">
          <Stat label="mean98" value={fixed(result.mean98, 4)} testId="mean98" />
          <Stat label="mean ρ²" value={fixed(result.meanSquared, 4)} testId="mean-squared" />
          <Stat label={metricDef(result.metric).family === 'cka' ? 'features' : 'kept dims'} value={pair(result.kept, count)} testId="kept" />
          <Stat label="datapoints" value={count(result.datapoints)} testId="datapoints" />
          <Stat label="neurons" value={pair(result.neurons, count)} testId="neurons" />
          <Stat label="dropped neurons" value={pair(result.dropped, count)} testId="dropped" />
          {result.baseline && (
            <Stat
              label={`chance (${result.baseline.permutations} ${drawsOf(result.baseline.null)})`}
              value={`${fixed(result.baseline.mean, 4)} ± ${fixed(result.baseline.sd, 4)} · z ${result.baseline.z === null ? '—' : result.baseline.z.toFixed(1)} · p ${pText(result.baseline, 3)}`}
              testId="chance"
            />
          )}
        </dl>
      </div>

      <WarningList warnings={result.warnings} limit={6} />

      {hasRho ? (
        <ChartFigure
          title="canonical correlation spectrum"
          caption={`Canonical correlations ρᵢ, descending, with mean ρ and mean98: ${names.a} × ${names.b}`}
          file={taggedSlug(`spectrum-${names.a}-${names.b}`, tag)}
          className="spectrum-figure"
        >
          <SpectrumChart rho={result.rho} mean={meanRho} mean98={result.mean98} />
        </ChartFigure>
      ) : (
        <p className="note">{`${metric} has no canonical correlations to plot.`}</p>
      )}

      {result.spectra && (
        <div className="variance-pair">
          {(['a', 'b'] as const).map((side, k) => (
            <ChartFigure
              key={side}
              title={`variance spectrum of ${side.toUpperCase()}`}
              caption={`${side.toUpperCase()} · ${names[side]}: share of variance λᵢ/Σλ per SVD direction; the cut keeps k = ${result.kept[k]}`}
              file={taggedSlug(`variance-${side}-${names[side]}`, tag)}
              className="variance"
            >
              <VarianceChart title={`${side.toUpperCase()} · ${names[side]}`} lambda={result.spectra![k]} kept={result.kept[k]} />
            </ChartFigure>
          ))}
        </div>
      )}

      {children}

      <ConventionsView conventions={result.conventions} backend={backend ?? result.conventions.backendReason} />
    </div>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}

function ConventionsView({ conventions: c, backend }: { conventions: Conventions; backend?: string }) {
  const items: [string, string][] = [
    ['metric', metricLabel(c.metric)],
    ['keep', keepLabel(c.keep)],
    ['ε', epsilonLabel(c.epsilon)],
    ['layout', pair(c.layout)],
  ];
  if (c.convReduction !== null) {
    items.push(['conv layout', pair(c.convLayout, (v) => v ?? '—')]);
    items.push(['conv layers', CONV_REDUCTION_LABELS[c.convReduction]]);
  }
  if (c.pwccaVariant !== null) items.push(['PWCCA weights', c.pwccaVariant]);
  items.push(['computed on', backend ?? `${c.backend === 'cpu' ? 'CPU' : 'WebGPU'}, ${c.precision}`]);
  return (
    <section className="conventions" aria-label="Conventions">
      <h3>Conventions</h3>
      <p className="summary">{c.summary}</p>
      <dl>
        {items.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
