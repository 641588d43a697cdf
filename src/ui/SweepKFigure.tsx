// The drill-down's "how many directions matter" figure: the open pair's similarity as a function
// of the number of SVD directions kept on both sides (one SVD per side, in the worker), with the
// 99%-variance k of each side marked, exportable as PNG, SVG, CSV and JSON.

import { useEffect, useMemo } from 'react';
import type { PairJobRequest } from '../worker/protocol';
import { runSweep, useClassesStore } from '../state/classes';
import { ChartFigure } from './ChartFigure';
import { SweepChart } from './charts/SweepChart';
import { download, matrixCsv, slug } from './exportChart';
import { shownMessage } from './format';

/** The drill-down calls its sides A and B (badges beside the names). */
const SIDES: [string, string] = ['A', 'B'];

export function SweepKFigure({ request, names }: { request: PairJobRequest; names: [string, string] }) {
  const sweepRequest = useMemo(() => ({ a: request.a, b: request.b, scope: request.scope, dropped: request.dropped, options: request.options }), [request]);
  const key = JSON.stringify(sweepRequest);
  const sweep = useClassesStore((s) => s.sweep);
  useEffect(() => {
    void runSweep(sweepRequest);
  }, [key]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!sweep || sweep.key !== key) return null;
  if (sweep.status === 'running') return <p className="hint">Sweeping k…</p>;
  if (sweep.error) {
    return (
      <p className="error-line" role="alert">
        {shownMessage(`Sweep over k: ${sweep.error}`)}
      </p>
    );
  }
  const r = sweep.result;
  if (!r || r.points.length === 0) return null;
  const file = `sweep-k-${slug(names[0])}-${slug(names[1])}`;
  const fields: [string, string][] = [
    ['view', 'similarity against the number k of SVD directions kept on both sides (mean canonical correlation, ε = 0)'],
    ['A', names[0]],
    ['B', names[1]],
    ['k99', `${r.k99[0]} / ${r.k99[1]}`],
  ];
  return (
    <ChartFigure
      title="k sweep"
      caption={`How many directions matter: SVCCA similarity between the top-k SVD directions of ${names[0]} and of ${names[1]}, for k = 1…${r.maxK} (from one SVD per side); marked: the k holding 99% of each side's variance (${r.k99[0]} / ${r.k99[1]}).`}
      file={file}
      className="sweep-figure"
      stamp={{ footer: `${names[0]} × ${names[1]} · k99 ${r.k99[0]} / ${r.k99[1]}`, fields }}
      extra={
        <>
          <button
            type="button"
            className="button small"
            aria-label="Export CSV of the k sweep"
            onClick={() =>
              download(
                new Blob(
                  [
                    matrixCsv(
                      'k',
                      r.points.map((p) => String(p.k)),
                      ['similarity'],
                      r.points.map((p) => [p.similarity]),
                      fields,
                    ),
                  ],
                  { type: 'text/csv' },
                ),
                `${file}.csv`,
              )
            }
          >
            CSV
          </button>
          <button
            type="button"
            className="button small"
            aria-label="Export JSON of the k sweep"
            onClick={() =>
              download(
                new Blob([JSON.stringify({ sweepK: r.points, k99: r.k99, maxK: r.maxK, a: names[0], b: names[1], fields: Object.fromEntries(fields) })], {
                  type: 'application/json',
                }),
                `${file}.json`,
              )
            }
          >
            JSON
          </button>
        </>
      }
    >
      <SweepChart points={r.points} k99={r.k99} names={SIDES} />
    </ChartFigure>
  );
}
