// CCA and SVCCA through the 2-D DFT on the GPU, the twin of src/math/dft.ts: a conv layer's factor
// is its spectrum (on the GPU); for every pair, the blocks of the frequencies both layers share are
// cut, centred and real-embedded on the GPU and factored as in whitening.ts (once per layer and
// frequency list, batched over frequencies), then one product, one Gram and one Jacobi batch over
// the blocks give the per-frequency canonical correlations.
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
import { blockGramBatch, correlationsOf } from './pairs';
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

/**
 * A layer's factored blocks for one frequency list. They depend on which of its frequencies are cut
 * and on their multiplicities (the global 99% rule weighs them); the options are those of the job
 * the factor belongs to. Made once and kept by the factor.
 */
async function blockSet(job: GpuJob, f: GpuDftFactor, frequencies: SharedFrequency[], side: 'indexA' | 'indexB'): Promise<StackedFactors> {
  const { rt, own, options } = job;
  const list = frequencies.map((q) => q[side]);
  const key = JSON.stringify([list, frequencies.map((q) => q.multiplicity)]);
  const cached = f.blockSets.get(key);
  if (cached) return cached;
  const { n, c } = f.dims;
  const embedded = own.adopt(embedFrequencyBlocks(rt, f.spectrum, f.dims, list));
  const sizes = list.map(() => 2 * c);
  const offsets = list.map((_, blockIndex) => blockIndex * 2 * c);
  const padded = 2 * c;
  const gram = own.zeros(list.length * padded * padded * 4, 'dft.gram');
  runProducts(
    rt,
    embedded,
    embedded,
    gram,
    offsets.map((row, blockIndex) => ({
      aOffset: row * 2 * n,
      bOffset: row * 2 * n,
      cOffset: blockIndex * padded * padded,
      p: 2 * c,
      q: 2 * c,
      k: 2 * n,
      lda: 2 * n,
      ldb: 2 * n,
      ldc: padded,
    })),
    'dft.gram',
  );
  // SVCCA through the DFT: the 99% rule over all blocks' complex eigenvalues together. factorStacked
  // calls it between the host step's two phases (pool/gramHost.ts): every block's eigenvalues
  // first, then only the kept eigenvectors of each block.
  const keeps = (spectra: number[][]) =>
    globalKeep(
      spectra,
      frequencies.map((q) => q.multiplicity),
      options.keep,
    ).map((k) => 2 * k); // k complex directions are 2k real ones
  const set = await factorStacked(job, [{ buffer: embedded, column0: 0, columns: 2 * n }], gram, sizes, offsets, 2 * n, padded, options, keeps);
  own.release(embedded);
  f.blockSets.set(key, { ...set, z: own.handOn(set.z) });
  return set;
}

/** Per-frequency CCA / SVCCA of every pair (a[i], b[j]) of conv layers. */
export async function compareDft(job: GpuJob, a: GpuDftFactor[], b: GpuDftFactor[], onPairs?: (count: number) => void): Promise<PairNumbers[][]> {
  const grid: PairNumbers[][] = a.map(() => []);
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
        grid[i][j] = await dftPair(job, setA, setB, frequencies, [a[i].dims, b[j].dims]);
      }
    }
    onPairs?.(b.length);
  }
  return grid;
}

async function dftPair(
  job: GpuJob,
  setA: StackedFactors,
  setB: StackedFactors,
  frequencies: SharedFrequency[],
  dims: [GpuDftFactor['dims'], GpuDftFactor['dims']],
): Promise<PairNumbers> {
  const { rt, own } = job;
  const [channelsA, channelsB] = [dims[0].c, dims[1].c];
  const m = 2 * dims[0].n;
  const blocks = frequencies.map((_, index) => ({ pa: setA.plans[index], pb: setB.plans[index] }));
  const crossOffsets: number[] = [];
  let crossSize = 0;
  for (const { pa, pb } of blocks) {
    crossOffsets.push(crossSize);
    crossSize += pa.rows * pb.rows;
  }
  const cross = own.zeros(Math.max(1, crossSize) * 4, 'dft.cross');
  const padded = even(Math.max(2, ...blocks.map(({ pa, pb }) => Math.min(pa.rows, pb.rows))));
  const grams = own.zeros(blocks.length * padded * padded * 4, 'dft.pair-gram');
  const crossBatches: ProductBatch[] = [];
  const gramBatches: ProductBatch[] = [];
  blocks.forEach(({ pa, pb }, index) => {
    if (pa.rows === 0 || pb.rows === 0) return;
    crossBatches.push({
      aOffset: pa.rowOffset * m,
      bOffset: pb.rowOffset * m,
      cOffset: crossOffsets[index],
      p: pa.rows,
      q: pb.rows,
      k: m,
      lda: m,
      ldb: m,
      ldc: pb.rows,
    });
    gramBatches.push(blockGramBatch(crossOffsets[index], pa.rows, pb.rows, pb.rows, index * padded * padded, padded));
  });
  if (crossBatches.length > 0) {
    runProducts(rt, setA.z, setB.z, cross, crossBatches, 'dft.cross');
    runProducts(rt, cross, cross, grams, gramBatches, 'dft.pair-gram');
  }
  const eig = await jacobiEigenBatch(rt, grams, padded, blocks.length, {
    vectors: false,
    signal: job.signal,
    sizes: blocks.map(({ pa, pb }) => Math.min(pa.rows, pb.rows)),
  });
  own.release(cross);
  const union: number[] = [];
  const kept: [number, number] = [0, 0];
  const dropped: [number, number] = [0, 0];
  const spectra: [number[], number[]] = [[], []];
  blocks.forEach(({ pa, pb }, index) => {
    const multiplicity = frequencies[index].multiplicity;
    // Embedded dimensions come in equal pairs: halve counts, take every other value.
    const complexRho = halve(correlationsOf(eig.values, index, padded, Math.min(pa.rows, pb.rows), Math.min(pa.keptDims, pb.keptDims)));
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
