// The view in the URL hash, so that a link reproduces it over the same data (never the data
// itself). Pure: parseHash turns "#metric=cca&t=2&…" into a partial state, toHash the other way.
// Only values that differ from the defaults are written; unknown or invalid entries are ignored.
//
//   metric  svcca|cca|pwcca|cka|cka-debiased     keep   v<fraction> | k<dims>
//   eps     ε                                     conv   flatten|positions|meanpool|dft
//   layout  datapoints-first|neurons-first        clayout nchw|nhwc
//   backend cpu|webgpu                            pwcca  paper
//   view    dynamics|cross|arrays                 run    run index      ref  reference step
//   t       checkpoint index                      pair   t.i.j (dynamics) or i.j (across runs)
//   domain  fit                                   grid   1 (small multiples)
//   thr     freeze threshold                      freeze 0 (hide the freeze steps)
//   a, b    bundle~run of the across-runs sides   step   across-runs step
//   drop    left-out layers, each URI-encoded, comma-separated
//   chance  1 (the diagonal's chance level) | all (every cell's)
//   heat    above-chance (similarity − chance) | z      (the heatmaps' colours; needs chance)
//   seeds   dynamics | cross | dynamics,cross          (the many-seeds mode of each view)

import type { AnalysisOptions, Backend, ConvReduction, Keep, Metric } from '../analysis/types';
import { METRICS } from '../analysis/metricDefs';
import { CONV_REDUCTIONS, DEFAULT_OPTIONS } from '../analysis/types';
import { DEFAULT_THRESHOLD } from './appStore';
import type { AppState, ChanceCells, CrossSide, HeatMode, PairSelection, Tab } from './appStore';

export interface UrlState {
  options: Partial<AnalysisOptions>;
  tab?: Tab;
  runIndex?: number;
  reference?: 'last' | number;
  stepIndex?: number;
  selected?: PairSelection;
  domain?: 'fixed' | 'fit';
  multiples?: boolean;
  threshold?: number;
  showFreeze?: boolean;
  crossA?: CrossSide;
  crossB?: CrossSide;
  crossStep?: number;
  dropped?: string[];
  chance?: boolean;
  chanceCells?: ChanceCells;
  heatMode?: HeatMode;
  seedsView?: { dynamics: boolean; cross: boolean };
}

const TABS: readonly Tab[] = ['dynamics', 'cross', 'arrays', 'classes'];

const isIndex = (v: number) => Number.isInteger(v) && v >= 0;
const num = (text: string | null): number | null => {
  if (text === null || text.trim() === '') return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
};

function parseKeep(text: string): Keep | null {
  const v = num(text.slice(1));
  if (v === null) return null;
  if (text[0] === 'v' && v > 0 && v <= 1) return { kind: 'variance', fraction: v };
  if (text[0] === 'k' && Number.isInteger(v) && v >= 1) return { kind: 'dims', k: v };
  return null;
}

function keepText(keep: Keep): string {
  return keep.kind === 'variance' ? `v${keep.fraction}` : `k${keep.k}`;
}

function parseSide(text: string): CrossSide | null {
  const at = text.indexOf('~');
  if (at <= 0) return null;
  const run = text.slice(at + 1);
  return { bundle: text.slice(0, at), run: run === '' ? null : run };
}

const sideText = (side: CrossSide) => `${side.bundle}~${side.run ?? ''}`;

export function parseHash(hash: string): UrlState {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const options: Partial<AnalysisOptions> = {};
  const out: UrlState = { options };
  const metric = params.get('metric');
  if (metric && (METRICS as readonly string[]).includes(metric)) options.metric = metric as Metric;
  const keep = params.get('keep');
  if (keep) {
    const k = parseKeep(keep);
    if (k) options.keep = k;
  }
  const eps = num(params.get('eps'));
  if (eps !== null && eps >= 0 && eps < 1) options.epsilon = eps;
  const conv = params.get('conv');
  if (conv && (CONV_REDUCTIONS as readonly string[]).includes(conv)) options.convReduction = conv as ConvReduction;
  const layout = params.get('layout');
  if (layout === 'datapoints-first' || layout === 'neurons-first') options.layout = layout;
  const clayout = params.get('clayout');
  if (clayout === 'nchw' || clayout === 'nhwc') options.convLayout = clayout;
  const backend = params.get('backend');
  if (backend === 'cpu' || backend === 'webgpu') options.backend = backend;
  if (params.get('pwcca') === 'paper') options.pwccaVariant = 'paper';

  const view = params.get('view');
  if (view && (TABS as readonly string[]).includes(view)) out.tab = view as Tab;
  const run = num(params.get('run'));
  if (run !== null && isIndex(run)) out.runIndex = run;
  const ref = params.get('ref');
  if (ref !== null) {
    const r = num(ref);
    if (r !== null && isIndex(r)) out.reference = r;
  }
  const t = num(params.get('t'));
  if (t !== null && isIndex(t)) out.stepIndex = t;
  const pair = params.get('pair');
  if (pair) {
    const parts = pair.split('.').map(Number);
    if (parts.every(isIndex)) {
      if (parts.length === 3) out.selected = { view: 'dynamics', t: parts[0], i: parts[1], j: parts[2] };
      if (parts.length === 2) out.selected = { view: 'cross', t: 0, i: parts[0], j: parts[1] };
    }
  }
  if (params.get('domain') === 'fit') out.domain = 'fit';
  if (params.get('grid') === '1') out.multiples = true;
  const thr = num(params.get('thr'));
  if (thr !== null && thr >= 0 && thr <= 1) out.threshold = thr;
  if (params.get('freeze') === '0') out.showFreeze = false;
  const a = params.get('a');
  if (a) out.crossA = parseSide(a) ?? undefined;
  const b = params.get('b');
  if (b) out.crossB = parseSide(b) ?? undefined;
  const step = num(params.get('step'));
  if (step !== null && isIndex(step)) out.crossStep = step;
  const drop = params.get('drop');
  if (drop) {
    try {
      out.dropped = drop
        .split(',')
        .filter((l) => l !== '')
        .map(decodeURIComponent);
    } catch {
      // a malformed escape: ignore the entry
    }
  }
  const chance = params.get('chance');
  if (chance === '1' || chance === 'all') {
    out.chance = true;
    out.chanceCells = chance === 'all' ? 'all' : 'diagonal';
    const heat = params.get('heat');
    if (heat === 'above-chance' || heat === 'z') out.heatMode = heat;
  }
  const seeds = params.get('seeds');
  if (seeds) {
    const kinds = seeds.split(',');
    out.seedsView = { dynamics: kinds.includes('dynamics'), cross: kinds.includes('cross') };
  }
  for (const k of Object.keys(out) as (keyof UrlState)[]) if (out[k] === undefined) delete out[k];
  return out;
}

export type HashSource = Pick<
  AppState,
  | 'options'
  | 'tab'
  | 'runIndex'
  | 'reference'
  | 'stepIndex'
  | 'selected'
  | 'domain'
  | 'multiples'
  | 'threshold'
  | 'showFreeze'
  | 'crossA'
  | 'crossB'
  | 'crossStep'
  | 'dropped'
  | 'activeBundle'
  | 'chance'
  | 'chanceCells'
  | 'heatMode'
  | 'seedsView'
>;

export function toHash(s: HashSource): string {
  const p = new URLSearchParams();
  const o = s.options;
  const d = DEFAULT_OPTIONS;
  if (o.metric !== d.metric) p.set('metric', o.metric);
  if (keepText(o.keep) !== keepText(d.keep)) p.set('keep', keepText(o.keep));
  if (o.epsilon !== d.epsilon) p.set('eps', String(o.epsilon));
  if (o.convReduction !== d.convReduction) p.set('conv', o.convReduction);
  if (o.layout !== 'auto') p.set('layout', o.layout);
  if (o.convLayout !== 'auto') p.set('clayout', o.convLayout);
  if (o.backend !== 'auto') p.set('backend', o.backend);
  if (o.pwccaVariant !== d.pwccaVariant) p.set('pwcca', o.pwccaVariant);
  if (s.tab !== 'dynamics') p.set('view', s.tab);
  if (s.runIndex !== 0) p.set('run', String(s.runIndex));
  if (s.reference !== 'last') p.set('ref', String(s.reference));
  if (s.stepIndex !== 0) p.set('t', String(s.stepIndex));
  if (s.selected) {
    const { view, t, i, j } = s.selected;
    p.set('pair', view === 'dynamics' ? `${t}.${i}.${j}` : `${i}.${j}`);
  }
  if (s.domain === 'fit') p.set('domain', 'fit');
  if (s.multiples) p.set('grid', '1');
  if (s.threshold !== DEFAULT_THRESHOLD) p.set('thr', String(s.threshold));
  if (!s.showFreeze) p.set('freeze', '0');
  if (s.tab === 'cross') {
    if (s.crossA) p.set('a', sideText(s.crossA));
    if (s.crossB) p.set('b', sideText(s.crossB));
    if (s.crossStep !== null) p.set('step', String(s.crossStep));
  }
  const dropped = s.activeBundle ? (s.dropped[s.activeBundle] ?? []) : [];
  if (dropped.length > 0) p.set('drop', dropped.map(encodeURIComponent).join(','));
  if (s.chance) {
    p.set('chance', s.chanceCells === 'all' ? 'all' : '1');
    if (s.heatMode !== 'similarity') p.set('heat', s.heatMode);
  }
  const seeds = (['dynamics', 'cross'] as const).filter((k) => s.seedsView[k]);
  if (seeds.length > 0) p.set('seeds', seeds.join(','));
  const text = p.toString();
  return text === '' ? '' : `#${text}`;
}

/** The state a parsed hash sets (options merged over the current ones). */
export function stateFromUrl(url: UrlState, current: Pick<AppState, 'options'>): Partial<AppState> {
  const { options, dropped: _dropped, ...view } = url;
  return { ...view, options: { ...current.options, ...options } };
}
