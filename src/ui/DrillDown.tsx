// The drill-down of one pair (click a heatmap cell): its similarity and summaries, the canonical
// correlation spectrum with mean ρ and mean98, both SVD variance spectra with the 99% cut and k,
// the top direction pairs over the datapoints (coloured by label when the bundle has labels), and
// the conventions and warnings of this pair.

import { useEffect, useRef, useState } from 'react';
import { useAppStore } from '../state/hooks';
import { DEFAULT_DIRECTIONS, cancelJob, closePair, showDirections } from '../state/store';
import { ChartFigure } from './ChartFigure';
import { taggedSlug } from './exportChart';
import { pairExportTag } from '../state/exportInfo';
import { ResultView } from './ResultsPanel';
import { count } from './format';
import { DirectionsChart } from './charts/DirectionsChart';
import { SweepKFigure } from './SweepKFigure';
import { useClassesStore } from '../state/classes';
import { shownMessage } from './format';

export function DrillDown({ view }: { view: 'dynamics' | 'cross' }) {
  const job = useAppStore((s) => s.pair);
  const selected = useAppStore((s) => s.selected);
  const [byLabel, setByLabel] = useState(true);
  // The k sweep runs as its own job: the drill-down is done when both are.
  const sweeping = useClassesStore((s) => s.sweep?.status === 'running');
  const ref = useRef<HTMLElement>(null);
  const key = job?.key;
  useEffect(() => {
    if (key) ref.current?.scrollIntoView?.({ block: 'nearest' });
  }, [key]);
  if (!selected || selected.view !== view || !job) return null;
  const [ta, tb] = job.titles;
  const r = job.result;
  const directions = r?.result.directions ?? null;
  // Every canonical correlation has a direction pair; the drill-down draws the top 10 until asked for more.
  const available = r?.result.rho.length ?? 0;
  const drawn = directions?.x.length ?? 0;
  const running = job.status === 'running';
  const shown = directions
    ? directions.indices
      ? `${count(directions.indices.length)} of ${count(directions.datapoints)} datapoints shown (evenly spaced)`
      : `all ${count(directions.datapoints)} datapoints`
    : '';
  return (
    <section ref={ref} className="card drill" aria-label="Pair detail" data-status={job.status === 'done' && sweeping ? 'running' : job.status}>
      <div className="card-head">
        <h3>{`${ta} × ${tb}`}</h3>
        <button type="button" className="button small" aria-label="Close pair detail" onClick={closePair}>
          Close
        </button>
      </div>
      {job.status === 'running' && (
        <p className="job-status running" role="status">
          Computing this pair…{' '}
          <button type="button" className="button small" onClick={() => cancelJob('pair')}>
            Cancel
          </button>
        </p>
      )}
      {job.status === 'cancelled' && <p className="hint">Cancelled.</p>}
      {job.error && (
        <p className="error-line" role="alert">
          {shownMessage(job.error)}
        </p>
      )}
      {r && (
        <ResultView result={r.result} names={{ a: ta, b: tb }} stale={false} backend={r.backend}>
          <SweepKFigure request={job.request} names={[ta, tb]} />
          {directions && directions.x.length > 0 ? (
            <ChartFigure
              title="direction pairs"
              caption={`Top ${drawn} of ${available} canonical direction pairs over the datapoints (paper Figure 1d), each variate standardised; ${shown}; ${byLabel && r.labels ? 'datapoints ordered and shaded by label' : 'datapoints in stored order'}.`}
              file={taggedSlug(`directions-${ta}-${tb}`, pairExportTag(r.result.conventions))}
              className="directions-figure"
              extra={
                r.labels ? (
                  <label className="check small">
                    <input type="checkbox" checked={byLabel} onChange={(e) => setByLabel(e.currentTarget.checked)} />
                    Colour by label
                  </label>
                ) : undefined
              }
            >
              <DirectionsChart rho={directions.rho} x={directions.x} y={directions.y} labels={r.labels} byLabel={byLabel} names={[ta, tb]} />
              {drawn < available && (
                <p className="more-directions" data-testid="more-directions">
                  {`Top ${drawn} of ${available} direction pairs shown. `}
                  <button
                    type="button"
                    className="button small"
                    disabled={running}
                    onClick={() => showDirections(Math.min(available, drawn + DEFAULT_DIRECTIONS))}
                  >
                    {`Show ${Math.min(DEFAULT_DIRECTIONS, available - drawn)} more`}
                  </button>{' '}
                  <button type="button" className="button small" disabled={running} onClick={() => showDirections(available)}>
                    {`Show all ${available}`}
                  </button>
                </p>
              )}
            </ChartFigure>
          ) : (
            <p className="note">Direction pairs over datapoints are shown for SVCCA and CCA (without the DFT reduction).</p>
          )}
        </ResultView>
      )}
    </section>
  );
}
