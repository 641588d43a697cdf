// A chart with its caption and export buttons (PNG and SVG of the chart with its legend and
// caption; extra buttons such as CSV and Export JSON come from the view).

import { useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { download, pngWithText, serializeChart, slug, svgToPng, type ExportStamp } from './exportChart';
import { shownMessage } from './format';

export function ChartFigure({
  title,
  caption,
  file,
  children,
  extra,
  className,
  stamp = null,
  exportable = true,
}: {
  /** What the chart is, for the export buttons' names ("heatmap"). */
  title: string;
  caption: string;
  /** File name without extension. */
  file: string;
  children: ReactNode;
  extra?: ReactNode;
  className?: string;
  /** What the export says about itself (bundle, run, options, input hash, version). */
  stamp?: ExportStamp | null;
  /** False while the chart shows nothing (no export buttons on an empty chart). */
  exportable?: boolean;
}) {
  const ref = useRef<HTMLElement>(null);
  const [error, setError] = useState<string | null>(null);
  const exportAs = async (kind: 'png' | 'svg') => {
    const svg = ref.current?.querySelector<SVGSVGElement>('svg[data-export]');
    if (!svg) return;
    try {
      const chart = serializeChart(svg, caption, stamp);
      const name = `${stamp ? file.replace(/[^A-Za-z0-9._-]+/g, '-') : slug(file)}.${kind}`;
      if (kind === 'svg') download(new Blob([chart.text], { type: 'image/svg+xml' }), name);
      else {
        const png = await svgToPng(chart);
        if (!stamp) download(png, name);
        else {
          const fields: [string, string][] = [['Title', caption], ['Software', stamp.fields.find(([k]) => k === 'app')?.[1] ?? 'svcca-lens'], ...stamp.fields];
          download(new Blob([pngWithText(new Uint8Array(await png.arrayBuffer()), fields)], { type: 'image/png' }), name);
        }
      }
      setError(null);
    } catch (e) {
      setError(`Export failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  // The chart first, its caption under it (the first screen shows the result), export buttons above.
  return (
    <figure ref={ref} className={`chart-figure ${className ?? ''}`}>
      {exportable && (
        <div className="figure-head">
          <div className="export-bar" role="group" aria-label={`Export ${title}`}>
            <button type="button" className="button small" aria-label={`Export ${title} as PNG`} onClick={() => void exportAs('png')}>
              PNG
            </button>
            <button type="button" className="button small" aria-label={`Export ${title} as SVG`} onClick={() => void exportAs('svg')}>
              SVG
            </button>
            {extra}
          </div>
        </div>
      )}
      {error && (
        <p className="error-line" role="alert">
          {shownMessage(error)}
        </p>
      )}
      <div className="figure-body">{children}</div>
      <figcaption className="wrap">{caption}</figcaption>
    </figure>
  );
}
