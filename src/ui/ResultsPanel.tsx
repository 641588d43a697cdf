// The comparison of the selected pair: the similarity, its summaries, the warnings, the
// conventions that produced it, and the spectra.

import type { Conventions, PairResult } from '../analysis/types';
import { useAppStore } from '../state/hooks';
import { ErrorBoundary } from './ErrorBoundary';
import { SpectrumChart } from './charts/SpectrumChart';
import { mean } from './charts/spectrumLayout';
import { VarianceChart } from './charts/VarianceChart';
import { CONV_LABELS, METRIC_LABELS, count, epsilonLabel, fixed, keepLabel, pair } from './format';

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
          {error}
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

function ResultView({ result, names, stale }: { result: PairResult; names: { a: string; b: string }; stale: boolean }) {
  const metric = METRIC_LABELS[result.metric];
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
            <span className="badge a">A</span> {names.a} <span className="badge b">B</span> {names.b}
            {stale && <span className="computing"> · updating…</span>}
          </div>
        </div>
        <dl className="stats">
          <Stat label="mean98" value={fixed(result.mean98, 4)} testId="mean98" />
          <Stat label="mean ρ²" value={fixed(result.meanSquared, 4)} testId="mean-squared" />
          <Stat label={result.metric.startsWith('cka') ? 'features' : 'kept dims'} value={pair(result.kept, count)} testId="kept" />
          <Stat label="datapoints" value={count(result.datapoints)} testId="datapoints" />
          <Stat label="neurons" value={pair(result.neurons, count)} testId="neurons" />
          <Stat label="dropped neurons" value={pair(result.dropped, count)} testId="dropped" />
        </dl>
      </div>

      {result.warnings.length > 0 && (
        <ul className="warnings" aria-label="Warnings">
          {result.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}

      {hasRho ? (
        <figure className="spectrum-figure">
          <figcaption>Canonical correlations ρᵢ, descending</figcaption>
          <SpectrumChart rho={result.rho} mean={meanRho} mean98={result.mean98} />
        </figure>
      ) : (
        <p className="note">{`${metric} has no canonical correlations to plot.`}</p>
      )}

      {result.spectra && (
        <div className="variance-pair">
          <VarianceChart title={`A · ${names.a}`} lambda={result.spectra[0]} kept={result.kept[0]} />
          <VarianceChart title={`B · ${names.b}`} lambda={result.spectra[1]} kept={result.kept[1]} />
        </div>
      )}

      <ConventionsView conventions={result.conventions} />
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

function ConventionsView({ conventions: c }: { conventions: Conventions }) {
  const items: [string, string][] = [
    ['metric', METRIC_LABELS[c.metric]],
    ['keep', keepLabel(c.keep)],
    ['ε', epsilonLabel(c.epsilon)],
    ['layout', pair(c.layout)],
  ];
  if (c.convReduction !== null) {
    items.push(['conv layout', pair(c.convLayout, (v) => v ?? '—')]);
    items.push(['conv layers', CONV_LABELS[c.convReduction]]);
  }
  if (c.pwccaVariant !== null) items.push(['PWCCA weights', c.pwccaVariant]);
  items.push(['computed on', `${c.backend === 'cpu' ? 'CPU' : 'WebGPU'}, ${c.precision}`]);
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
