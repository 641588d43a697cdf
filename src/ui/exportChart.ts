// Export of what is on screen: any chart as SVG or PNG (with its legend, which lives inside the
// chart's SVG, and its caption added underneath), the current matrix as CSV, and the whole result
// as JSON in the CLI's schema. Styles come from CSS variables on screen, so the exported SVG gets
// them inlined; a canvas under the SVG (big heatmaps) becomes an embedded image.

import { crc32 } from '../io/crc32';
import { csvComment, csvNumber, csvText } from '../io/csv';

/** Presentation properties copied from the computed style into the exported SVG. */
const STYLE_PROPS = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-dasharray',
  'stroke-linejoin',
  'stroke-linecap',
  'stroke-opacity',
  'opacity',
  'font-family',
  'font-size',
  'font-weight',
  'paint-order',
  'text-anchor',
  'dominant-baseline',
] as const;

const SVG_NS = 'http://www.w3.org/2000/svg';

function inlineStyles(source: Element, target: Element, remove: Element[]): void {
  const style = getComputedStyle(source);
  if (style.display === 'none' || style.visibility === 'hidden') {
    remove.push(target);
    return;
  }
  if (source instanceof SVGElement && !(source instanceof SVGSVGElement && source === target)) {
    const parts = STYLE_PROPS.map((p) => `${p}:${style.getPropertyValue(p)}`);
    target.setAttribute('style', parts.join(';'));
  }
  const s = source.children;
  const t = target.children;
  for (let k = 0; k < s.length; k++) inlineStyles(s[k], t[k], remove);
}

/** Splits a caption into lines of at most `chars` characters at spaces. */
export function wrapText(text: string, chars: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (current && current.length + 1 + word.length > chars) {
      lines.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) lines.push(current);
  return lines;
}

export interface SerializedChart {
  text: string;
  width: number;
  height: number;
}

/** What an export says about itself (see state/exportInfo): a footer line and key → value fields. */
export interface ExportStamp {
  footer: string;
  fields: [string, string][];
}

/** The chart as a standalone SVG document: styles inlined, background, canvas image, caption, and
 *  (with a stamp) a footer line naming bundle, run, metric, options, input hash and app version,
 *  plus every field in <metadata> as JSON. */
export function serializeChart(svg: SVGSVGElement, caption: string | null, stamp: ExportStamp | null = null): SerializedChart {
  const width = Number(svg.getAttribute('width')) || svg.getBoundingClientRect().width;
  const chartHeight = Number(svg.getAttribute('height')) || svg.getBoundingClientRect().height;
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const remove: Element[] = [];
  inlineStyles(svg, clone, remove);
  for (const el of remove) el.remove();
  for (const el of clone.querySelectorAll('[class~="no-export"]')) el.remove();

  const box = svg.closest('.card') ?? document.body;
  const background = getComputedStyle(box).backgroundColor || '#ffffff';
  const text = getComputedStyle(box).color || '#000000';
  const pad = 12;
  const chars = Math.max(30, Math.floor((width - 2 * pad) / 6.6));
  const lines = caption ? wrapText(caption, chars) : [];
  const footer = stamp ? wrapText(stamp.footer, Math.floor(chars * 1.2)) : [];
  const height = chartHeight + (lines.length > 0 ? lines.length * 16 + 14 : 0) + (footer.length > 0 ? footer.length * 14 + 8 : 0);

  const bg = document.createElementNS(SVG_NS, 'rect');
  bg.setAttribute('width', String(width));
  bg.setAttribute('height', String(height));
  bg.setAttribute('fill', background);
  const canvas = svg.parentElement?.querySelector('canvas.cells-canvas') as HTMLCanvasElement | null;
  const first = clone.firstChild;
  clone.insertBefore(bg, first);
  if (canvas) {
    const image = document.createElementNS(SVG_NS, 'image');
    image.setAttribute('x', '0');
    image.setAttribute('y', '0');
    image.setAttribute('width', String(width));
    image.setAttribute('height', String(chartHeight));
    image.setAttribute('href', canvas.toDataURL('image/png'));
    clone.insertBefore(image, first);
  }
  lines.forEach((line, k) => {
    const t = document.createElementNS(SVG_NS, 'text');
    t.setAttribute('x', String(pad));
    t.setAttribute('y', String(chartHeight + 18 + k * 16));
    t.setAttribute('style', `fill:${text};font-family:system-ui, sans-serif;font-size:12px`);
    t.textContent = line;
    clone.appendChild(t);
  });
  const footerTop = chartHeight + (lines.length > 0 ? lines.length * 16 + 14 : 0);
  footer.forEach((line, k) => {
    const t = document.createElementNS(SVG_NS, 'text');
    t.setAttribute('x', String(pad));
    t.setAttribute('y', String(footerTop + 12 + k * 14));
    t.setAttribute('class', 'export-footer');
    t.setAttribute('style', `fill:${text};opacity:0.75;font-family:system-ui, sans-serif;font-size:10px`);
    t.textContent = line;
    clone.appendChild(t);
  });
  if (stamp) {
    const metadata = document.createElementNS(SVG_NS, 'metadata');
    metadata.setAttribute('id', 'svcca-lens-export');
    metadata.textContent = JSON.stringify(Object.fromEntries(stamp.fields));
    clone.insertBefore(metadata, clone.firstChild);
  }
  clone.setAttribute('xmlns', SVG_NS);
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  clone.setAttribute('viewBox', `0 0 ${width} ${height}`);
  clone.removeAttribute('class');
  clone.setAttribute('style', 'overflow:visible');
  return { text: new XMLSerializer().serializeToString(clone), width, height };
}

export async function svgToPng(chart: SerializedChart, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([chart.text], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(chart.width * scale);
    canvas.height = Math.ceil(chart.height * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2-D canvas');
    ctx.scale(scale, scale);
    ctx.drawImage(image, 0, 0);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * Adds tEXt chunks (Latin-1 keyword and text, PNG spec §11.3.4.3) right after IHDR, so that the
 * image carries what it shows ("exiftool", "identify -verbose" and Python's PIL read them).
 * Characters outside Latin-1 are written as "?".
 */
export function pngWithText(png: Uint8Array, entries: readonly [string, string][]): Uint8Array<ArrayBuffer> {
  const latin1 = (s: string) => Uint8Array.from(s, (c) => (c.charCodeAt(0) < 256 ? c.charCodeAt(0) : 63));
  const chunks = entries.map(([key, value]) => {
    const keyword = latin1(key.slice(0, 79));
    const body = latin1(value);
    const data = new Uint8Array(4 + keyword.length + 1 + body.length);
    data.set([0x74, 0x45, 0x58, 0x74], 0); // "tEXt"
    data.set(keyword, 4);
    data.set(body, 5 + keyword.length);
    const chunk = new Uint8Array(8 + data.length);
    const view = new DataView(chunk.buffer);
    view.setUint32(0, data.length - 4);
    chunk.set(data, 4);
    view.setUint32(4 + data.length, crc32(data));
    return chunk;
  });
  const ihdrEnd = 8 + 8 + new DataView(png.buffer, png.byteOffset).getUint32(8) + 4; // signature + IHDR
  const total = png.length + chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  out.set(png.subarray(0, ihdrEnd), 0);
  let at = ihdrEnd;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  out.set(png.subarray(ihdrEnd), at);
  return out;
}

export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}

/**
 * The matrix as CSV: "# key: value" lines saying what it is (read with pandas'
 * `read_csv(path, comment='#')`), a header of column labels, then one row per row label; empty
 * where not computed.
 */
export function matrixCsv(
  corner: string,
  rows: readonly string[],
  cols: readonly string[],
  values: readonly (readonly (number | null)[])[],
  fields: readonly [string, string][] = [],
): string {
  const lines = [...fields.map(([k, v]) => csvComment(k, v)), [corner, ...cols].map(csvText).join(',')];
  rows.forEach((label, i) => {
    lines.push([csvText(label), ...cols.map((_, j) => csvNumber(values[i]?.[j]))].join(','));
  });
  return `${lines.join('\n')}\n`;
}

/** A file-name-safe version of a label ("conv1 at step 10" → "conv1-at-step-10"), at most `max` characters. */
export function slug(text: string, max = 80): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, max) || 'chart'
  );
}

/** A label's slug with a tag at its end that the 80-character cut never removes ("spectrum-a-b" + "svcca-cpu-f64"). */
export function taggedSlug(text: string, tag: string): string {
  const end = slug(tag);
  return `${slug(text, Math.max(8, 80 - end.length - 1))}-${end}`;
}
