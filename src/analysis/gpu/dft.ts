// CCA and SVCCA through the 2-D DFT on the GPU, the twin of src/math/dft.ts: a conv layer's factor
// is its spectrum (on the GPU); for every pair, the blocks of the frequencies both layers share are
// cut, centred and real-embedded on the GPU and factored as in whitening.ts (once per layer and
// frequency list, every layer and list a grid needs in one pass). Then, for all pairs of the grid together (or as many
// as DFT_PAIRS_BYTES allows), one product, one Gram and one Jacobi batch over every pair's blocks
// give the per-frequency canonical correlations: one readback per round of sweeps, not per pair.
//
// Shapes: a conv tensor is n datapoints × h × w × c (NHWC); frequency block b is 2c × 2n (the real
// embedding of c complex channels over n datapoints).

import { checkAborted } from '../../cancel';
import { embedFrequencyBlocks, jacobiEigenBatch, runProducts, spectrumOf } from '../../gpu/ops';
import type { ProductBatch } from '../../gpu/kernels/product';
import { frequencyBlock } from '../../math/canonicalNull';
import { summarize } from '../../math/cca';
import { globalKeep, halve, sharedFrequencies, type SharedFrequency } from '../../math/dft';
import { denseAsConv, type Representation } from '../../math/reduce';
import { compareFactors, type PairNumbers } from '../metrics';
import { blockGramBatch, correlationsOf, stack } from './pairs';
import { convDims, even, type GpuDftFactor, type GpuJob, type StackedFactors } from './types';
import { factorStacked } from './whitening';

/** The spectrum of every layer (a dense layer is the DC term of a 1 × 1 conv layer), handed to its factor. */
export function dftFactors(job: GpuJob, reps: Representation[]): GpuDftFactor[] {
  const factors = reps.map((rep): GpuDftFactor => {
    const conv = rep.kind === 'conv' ? rep.conv : denseAsConv(rep.x);
    const dims = convDims(conv);
    return { kind: 'gpu-dft', spectrum: job.own.adopt(spectrumOf(job.rt, dims, conv.data)), dims, datapoints: conv.datapoints, rep, blockSets: new Map() };
  });
  for (const f of factors) job.own.handOn(f.spectrum); // all made: the factors own them now
  return factors;
}

/** A layer's blocks for one frequency list: what blockSets keys them by. */
interface BlockSetNeed {
  f: GpuDftFactor;
  frequencies: SharedFrequency[];
  /** The layer's own frequency of each block. */
  list: [number, number][];
  key: string;
}

function blockSetNeed(f: GpuDftFactor, frequencies: SharedFrequency[], side: 'indexA' | 'indexB'): BlockSetNeed {
  const list = frequencies.map((q) => q[side]);
  // The blocks depend on which of its frequencies are cut and on their multiplicities (the global 99% rule weighs them).
  return { f, frequencies, list, key: JSON.stringify([list, frequencies.map((q) => q.multiplicity)]) };
}

/**
 * A layer's factored blocks for one frequency list; the options are those of the job the factor
 * belongs to. Made once and kept by the factor (compareDft makes a grid's sets beforehand, together).
 */
async function blockSet(job: GpuJob, f: GpuDftFactor, frequencies: SharedFrequency[], side: 'indexA' | 'indexB'): Promise<StackedFactors> {
  const need = blockSetNeed(f, frequencies, side);
  if (!f.blockSets.has(need.key)) await factorBlockSets(job, [need]);
  return f.blockSets.get(need.key)!;
}

/**
 * Makes the block sets every pair of a × b needs that their layers do not keep yet, as many sets
 * per pass as DFT_PAIRS_BYTES allows (all of them, as a rule): per pass one batched Gram and one
 * factorStacked, so its 2 readbacks, whatever the number of layers and frequency lists.
 */
async function makeBlockSets(job: GpuJob, a: GpuDftFactor[], b: GpuDftFactor[]): Promise<void> {
  const needs = new Map<GpuDftFactor, Map<string, BlockSetNeed>>();
  for (const fa of a) {
    for (const fb of b) {
      const frequencies = sharedFrequencies({ height: fa.dims.h, width: fa.dims.w }, { height: fb.dims.h, width: fb.dims.w });
      for (const need of [blockSetNeed(fa, frequencies, 'indexA'), blockSetNeed(fb, frequencies, 'indexB')]) {
        if (need.f.blockSets.has(need.key)) continue;
        if (!needs.has(need.f)) needs.set(need.f, new Map());
        needs.get(need.f)!.set(need.key, need);
      }
    }
  }
  // Bounded by the stacked blocks (rows × 2n f32) and their Grams (2c × 2c, padded to the largest).
  const limit = Math.min(DFT_PAIRS_BYTES, job.rt.maxStorageBindingBytes);
  let group: BlockSetNeed[] = [];
  let [rows, blocks, padded] = [0, 0, 0];
  for (const need of [...needs.values()].flatMap((byKey) => [...byKey.values()])) {
    checkAborted(job.signal);
    const { n, c } = need.f.dims;
    const [moreRows, moreBlocks, morePadded] = [rows + need.list.length * 2 * c, blocks + need.list.length, Math.max(padded, 2 * c)];
    if (group.length > 0 && (moreRows * 2 * n * 4 > limit || moreBlocks * morePadded ** 2 * 4 > limit)) {
      await factorBlockSets(job, group);
      [group, rows, blocks, padded] = [[], 0, 0, 0];
    }
    group.push(need);
    rows += need.list.length * 2 * c;
    blocks += need.list.length;
    padded = Math.max(padded, 2 * c);
  }
  if (group.length > 0) await factorBlockSets(job, group);
}

/**
 * Factors block sets together and gives each layer its own: every set's blocks cut, centred and
 * real-embedded, stacked in one buffer (copies), their Grams in one batched product, one
 * factorStacked over all blocks (the 99% rule of each set over its own blocks), then each set's
 * rows of Z copied to a buffer of its own, which its layer keeps.
 * Shapes: block b of a set is 2c × 2n (rows × embedded datapoints); its Gram 2c × 2c, padded to the largest 2c.
 */
async function factorBlockSets(job: GpuJob, needs: BlockSetNeed[]): Promise<void> {
  const { rt, own, options } = job;
  const m = 2 * needs[0].f.dims.n;
  const embedded = needs.map((need) => ({
    buffer: own.adopt(embedFrequencyBlocks(rt, need.f.spectrum, need.f.dims, need.list)),
    rowOffset: 0,
    rows: need.list.length * 2 * need.f.dims.c,
    datapoints: m,
  }));
  const stacked = stack(job, embedded, (e) => e.buffer, 'dft.blocks-stack');
  const sizes: number[] = [];
  const offsets: number[] = [];
  const firstBlock: number[] = [];
  needs.forEach((need, s) => {
    firstBlock.push(sizes.length);
    const size = 2 * need.f.dims.c;
    need.list.forEach((_, blockIndex) => {
      sizes.push(size);
      offsets.push(stacked.offsets[s] + blockIndex * size);
    });
  });
  const padded = Math.max(...sizes);
  const gram = own.zeros(sizes.length * padded * padded * 4, 'dft.gram');
  runProducts(
    rt,
    stacked.buffer,
    stacked.buffer,
    gram,
    offsets.map((row, blockIndex) => ({
      aOffset: row * m,
      bOffset: row * m,
      cOffset: blockIndex * padded * padded,
      p: sizes[blockIndex],
      q: sizes[blockIndex],
      k: m,
      lda: m,
      ldb: m,
      ldc: padded,
    })),
    'dft.gram',
  );
  // SVCCA through the DFT: the 99% rule over all of a set's blocks' complex eigenvalues together.
  // factorStacked calls it between the host step's two phases (pool/gramHost.ts): every block's
  // eigenvalues first, then only the kept eigenvectors of each block.
  const keeps = (spectra: number[][]) =>
    needs.flatMap(
      (need, s) =>
        globalKeep(
          spectra.slice(firstBlock[s], firstBlock[s] + need.list.length),
          need.frequencies.map((q) => q.multiplicity),
          options.keep,
        ).map((k) => 2 * k), // k complex directions are 2k real ones
    );
  const set = await factorStacked(job, [{ buffer: stacked.buffer, column0: 0, columns: m }], gram, sizes, offsets, m, padded, options, keeps);
  for (const e of embedded) own.release(e.buffer);
  if (stacked.owned) own.release(stacked.buffer);
  if (needs.length === 1) {
    needs[0].f.blockSets.set(needs[0].key, { ...set, z: own.handOn(set.z) });
    return;
  }
  needs.forEach((need, s) => {
    const plans = set.plans.slice(firstBlock[s], firstBlock[s] + need.list.length);
    const start = plans[0].rowOffset;
    const rows = plans.reduce((sum, plan) => sum + plan.rows, 0);
    const z = own.zeros(Math.max(1, rows) * m * 4, 'dft.block-set');
    if (rows > 0) rt.copy(set.z, start * m * 4, z, 0, rows * m * 4);
    need.f.blockSets.set(need.key, { z: own.handOn(z), plans: plans.map((plan) => ({ ...plan, rowOffset: plan.rowOffset - start })) });
  });
  own.release(set.z);
}

/** The most bytes one buffer of a batch of the pair stage holds (each side's stacked blocks, the cross products, the pair Grams). */
const DFT_PAIRS_BYTES = 256 * 2 ** 20;

/** A pair (a[i], b[j]) whose blocks all keep the precision contract: its GPU work waits for its batch. */
interface DftPair {
  i: number;
  j: number;
  setA: StackedFactors;
  setB: StackedFactors;
  frequencies: SharedFrequency[];
  dims: [GpuDftFactor['dims'], GpuDftFactor['dims']];
}

/**
 * Per-frequency CCA / SVCCA of every pair (a[i], b[j]) of conv layers. The pairs' GPU work runs for
 * as many pairs together as DFT_PAIRS_BYTES allows (the whole grid, as a rule): one cross product,
 * one batched Gram of every pair's per-frequency blocks, one Jacobi batch over all of them, one
 * readback per round of sweeps. Progress is told per batch.
 */
export async function compareDft(job: GpuJob, a: GpuDftFactor[], b: GpuDftFactor[], onPairs?: (count: number) => void): Promise<PairNumbers[][]> {
  const grid: PairNumbers[][] = a.map(() => []);
  await makeBlockSets(job, a, b);
  const limit = Math.min(DFT_PAIRS_BYTES, job.rt.maxStorageBindingBytes);
  let pending = new PairBatch(limit);
  let visited = 0; // pairs done or pending
  let told = 0; // pairs reported through onPairs
  const flush = async () => {
    if (pending.pairs.length > 0) {
      const numbers = await dftPairs(job, pending);
      pending.pairs.forEach((pair, index) => (grid[pair.i][pair.j] = numbers[index]));
      pending = new PairBatch(limit);
    }
    if (visited > told) onPairs?.(visited - told);
    told = visited;
  };
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      checkAborted(job.signal);
      const frequencies = sharedFrequencies({ height: a[i].dims.h, width: a[i].dims.w }, { height: b[j].dims.h, width: b[j].dims.w });
      const setA = await blockSet(job, a[i], frequencies, 'indexA');
      const setB = await blockSet(job, b[j], frequencies, 'indexB');
      // A frequency block whose conditioning float32 does not resolve sends the pair to float64 (precision.ts).
      const why = (set: StackedFactors) => set.plans.find((plan) => !plan.verdict.gpu)?.verdict;
      const [whyA, whyB] = [why(setA), why(setB)];
      if (whyA || whyB) {
        const numbers = compareFactors(job.twin(a[i]), job.twin(b[j]), job.options);
        const reason = (v: typeof whyA) => (v && !v.gpu ? v.reason : null);
        grid[i][j] = { ...numbers, fallbackSides: [reason(whyA), reason(whyB)] };
      } else {
        const pair: DftPair = { i, j, setA, setB, frequencies, dims: [a[i].dims, b[j].dims] };
        if (!pending.fits(pair)) await flush();
        pending.add(pair);
      }
      visited++;
    }
  }
  await flush();
  return grid;
}

/** The rows of a block set's whitened buffer (its blocks' Z, stacked in order). */
function setRows(set: StackedFactors): number {
  return set.plans.reduce((most, plan) => Math.max(most, plan.rowOffset + plan.rows), 0);
}

/** The smaller side of each block of a pair: the order of its pair Gram. */
function gramSizes(pair: DftPair): number[] {
  return pair.setA.plans.map((pa, index) => Math.min(pa.rows, pair.setB.plans[index].rows));
}

/** The word count of a pair's cross products, one rowsA × rowsB block per frequency. */
function crossWords(pair: DftPair): number {
  return pair.setA.plans.reduce((sum, pa, index) => sum + pa.rows * pair.setB.plans[index].rows, 0);
}

/**
 * Pairs whose GPU work runs together, and the sizes of the buffers that work needs, so that none
 * passes `limit` bytes (a pair that alone passes it goes alone, as it would by itself).
 * Shapes: each side's distinct block sets stacked (rows × 2n datapoints); the cross products;
 * `blocks` pair Grams of padded × padded (f32).
 */
class PairBatch {
  pairs: DftPair[] = [];
  private readonly sets: [Set<StackedFactors>, Set<StackedFactors>] = [new Set(), new Set()];
  private readonly rows: [number, number] = [0, 0];
  private cross = 0;
  private blocks = 0;
  private largest = 0;

  constructor(private readonly limit: number) {}

  fits(pair: DftPair): boolean {
    if (this.pairs.length === 0) return true;
    const m = 2 * pair.dims[0].n;
    const rows = ([pair.setA, pair.setB] as const).map((set, side) => this.rows[side] + (this.sets[side].has(set) ? 0 : setRows(set)));
    const padded = even(Math.max(2, this.largest, ...gramSizes(pair)));
    const words = [rows[0] * m, rows[1] * m, this.cross + crossWords(pair), (this.blocks + pair.frequencies.length) * padded * padded];
    return words.every((w) => w * 4 <= this.limit);
  }

  add(pair: DftPair): void {
    ([pair.setA, pair.setB] as const).forEach((set, side) => {
      if (this.sets[side].has(set)) return;
      this.sets[side].add(set);
      this.rows[side] += setRows(set);
    });
    this.cross += crossWords(pair);
    this.blocks += pair.frequencies.length;
    this.largest = Math.max(this.largest, ...gramSizes(pair));
    this.pairs.push(pair);
  }
}

/**
 * The numbers of a batch of pairs: each side's block sets stacked in one buffer (copies, no
 * dispatch), then every pair's per-frequency cross products Z_a Z_bᵀ in one batched product, their
 * Grams over the smaller side in another, and one Jacobi batch over every pair's blocks (each
 * matrix its own size, zero-padded to the largest). The Jacobi of a matrix does not depend on its
 * neighbours in the batch (test/gpu/traffic.test.ts compares against float64).
 */
async function dftPairs(job: GpuJob, batch: PairBatch): Promise<PairNumbers[]> {
  const { rt, own } = job;
  const pairs = batch.pairs;
  const m = 2 * pairs[0].dims[0].n;
  const sides = (['setA', 'setB'] as const).map((side) => {
    const sets = [...new Set(pairs.map((pair) => pair[side]))];
    const stacked = stack(
      job,
      sets.map((set) => ({ set, rowOffset: 0, rows: setRows(set), datapoints: m })),
      ({ set }) => set.z,
      `dft.stack-${side === 'setA' ? 'a' : 'b'}`,
    );
    return { ...stacked, rowsOf: new Map(sets.map((set, index) => [set, stacked.offsets[index]])) };
  });
  const padded = even(Math.max(2, ...pairs.flatMap(gramSizes)));
  const crossBase: number[] = [];
  const blockBase: number[] = [];
  let crossSize = 0;
  let blockCount = 0;
  for (const pair of pairs) {
    crossBase.push(crossSize);
    blockBase.push(blockCount);
    crossSize += crossWords(pair);
    blockCount += pair.frequencies.length;
  }
  const cross = own.zeros(Math.max(1, crossSize) * 4, 'dft.cross');
  const grams = own.zeros(blockCount * padded * padded * 4, 'dft.pair-gram');
  const crossBatches: ProductBatch[] = [];
  const gramBatches: ProductBatch[] = [];
  pairs.forEach((pair, p) => {
    const [rowA, rowB] = [sides[0].rowsOf.get(pair.setA)!, sides[1].rowsOf.get(pair.setB)!];
    let offset = crossBase[p];
    pair.setA.plans.forEach((pa, index) => {
      const pb = pair.setB.plans[index];
      const at = offset;
      offset += pa.rows * pb.rows;
      if (pa.rows === 0 || pb.rows === 0) return;
      crossBatches.push({
        aOffset: (rowA + pa.rowOffset) * m,
        bOffset: (rowB + pb.rowOffset) * m,
        cOffset: at,
        p: pa.rows,
        q: pb.rows,
        k: m,
        lda: m,
        ldb: m,
        ldc: pb.rows,
      });
      gramBatches.push(blockGramBatch(at, pa.rows, pb.rows, pb.rows, (blockBase[p] + index) * padded * padded, padded));
    });
  });
  if (crossBatches.length > 0) {
    runProducts(rt, sides[0].buffer, sides[1].buffer, cross, crossBatches, 'dft.cross');
    runProducts(rt, cross, cross, grams, gramBatches, 'dft.pair-gram');
  }
  for (const side of sides) if (side.owned) own.release(side.buffer);
  own.release(cross);
  const eig = await jacobiEigenBatch(rt, grams, padded, blockCount, {
    vectors: false,
    signal: job.signal,
    sizes: pairs.flatMap(gramSizes),
  });
  return pairs.map((pair, p) => dftSummary(pair, eig.values, blockBase[p], padded));
}

/** One pair's numbers from the eigenvalues of its blocks' Grams (at `firstBlock` of a Jacobi batch of padded × padded matrices). */
function dftSummary({ setA, setB, frequencies, dims }: DftPair, eigenvalues: Float32Array, firstBlock: number, padded: number): PairNumbers {
  const [channelsA, channelsB] = [dims[0].c, dims[1].c];
  const blocks = frequencies.map((_, index) => ({ pa: setA.plans[index], pb: setB.plans[index] }));
  const union: number[] = [];
  const kept: [number, number] = [0, 0];
  const dropped: [number, number] = [0, 0];
  const spectra: [number[], number[]] = [[], []];
  blocks.forEach(({ pa, pb }, index) => {
    const multiplicity = frequencies[index].multiplicity;
    // Embedded dimensions come in equal pairs: halve counts, take every other value.
    const complexRho = halve(correlationsOf(eigenvalues, firstBlock + index, padded, Math.min(pa.rows, pb.rows), Math.min(pa.keptDims, pb.keptDims)));
    for (let t = 0; t < multiplicity; t++) {
      union.push(...complexRho);
      if (pa.spectrum) spectra[0].push(...halve(pa.spectrum));
      if (pb.spectrum) spectra[1].push(...halve(pb.spectrum));
    }
    kept[0] += (multiplicity * pa.keptDims) / 2;
    kept[1] += (multiplicity * pb.keptDims) / 2;
    dropped[0] += (multiplicity * pa.dropped) / 2;
    dropped[1] += (multiplicity * pb.dropped) / 2;
  });
  union.sort((x, y) => y - x);
  const total = frequencies.reduce((s, f) => s + f.multiplicity, 0);
  const summary = summarize(union);
  return {
    similarity: summary.mean,
    mean98: summary.mean98,
    meanSquared: summary.meanSquared,
    rho: summary.rho,
    kept,
    neurons: [channelsA * total, channelsB * total],
    dropped,
    clipped: [0, 0],
    // SVCCA's blocks carry their spectra (the SVD step); CCA's do not.
    spectra: blocks.every(({ pa, pb }) => pa.spectrum && pb.spectrum) ? [spectra[0].sort((x, y) => y - x), spectra[1].sort((x, y) => y - x)] : null,
    frequencies: total,
    canonical: {
      blocks: blocks.map(({ pa, pb }, index) =>
        frequencyBlock(
          frequencies[index],
          [
            { height: dims[0].h, width: dims[0].w },
            { height: dims[1].h, width: dims[1].w },
          ],
          [pa.rows, pb.rows],
          [pa.keptDims, pb.keptDims],
        ),
      ),
      dof: dims[0].n - 1,
    },
  };
}
