// The three Jacobi drivers (src/gpu/ops.ts) on Dawn against the float64 eigensolver: eigenvalues
// within f32 tolerance, eigenvectors by their residual ‖A·v − λ·v‖ (so no sign convention is
// assumed), state carried across dispatches, and cancellation between chunks.
// Matrices are symmetric N × N Gram matrices X·Xᵀ of seeded X (N × 2N), padded with zeros to even N.
import { beforeAll, describe, expect, it } from 'vitest';
import { registerGpuBackend, resolveBackend } from '../../src/analysis/backend';
import { webgpuBackendFactory, type GpuBackend } from '../../src/analysis/gpu';
import { largestWorkgroupN } from '../../src/gpu/kernels/jacobi';
import { nodeGpu } from '../../src/gpu/node';
import { chooseJacobiStrategy, jacobiEigenBatch, type JacobiStrategy } from '../../src/gpu/ops';
import type { GpuRuntime } from '../../src/gpu/runtime';
import { symmetricEigen } from '../../src/math/eigen';
import { multiplyABt, type Matrix } from '../../src/math/matrix';
import { randn } from '../../src/math/random';
import { TOL } from '../helpers/tolerance';

let rt: GpuRuntime;

beforeAll(async () => {
  registerGpuBackend(webgpuBackendFactory(nodeGpu));
  rt = ((await resolveBackend('webgpu')).backend as GpuBackend).runtime;
}, 60_000);

/** `count` seeded Gram matrices of size n, zero-padded to N = n + (n mod 2), as one f32 batch. */
function batch(n: number, count: number, seed: number): { matrices: Matrix[]; padded: number; data: Float32Array } {
  const padded = n + (n % 2);
  const matrices = Array.from({ length: count }, (_, b) => {
    const x = randn(seed + b, n, 2 * n);
    return multiplyABt(x, x);
  });
  const data = new Float32Array(count * padded * padded);
  matrices.forEach((m, b) => {
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) data[b * padded * padded + i * padded + j] = m.data[i * n + j];
  });
  return { matrices, padded, data };
}

/** Largest |λ_gpu − λ_f64| / λ_max and ‖A·v − λ·v‖ / λ_max over the batch (padding ignored). */
function errors(matrices: Matrix[], padded: number, values: Float32Array, vectors: Float32Array | null) {
  let eigen = 0;
  let residual = 0;
  matrices.forEach((m, b) => {
    const n = m.rows;
    const reference = symmetricEigen(m);
    const scale = reference.values[0];
    const all = Array.from(values.subarray(b * padded, (b + 1) * padded));
    // The zero padding adds eigenvalues 0; these Grams are positive definite: keep the n largest.
    const got = all
      .sort((x, y) => Math.abs(y) - Math.abs(x))
      .slice(0, n)
      .sort((x, y) => y - x);
    got.forEach((v, i) => (eigen = Math.max(eigen, Math.abs(v - reference.values[i]) / scale)));
    if (!vectors) return;
    for (let i = 0; i < padded; i++) {
      const lambda = values[b * padded + i];
      const v = vectors.subarray(b * padded * padded + i * padded, b * padded * padded + (i + 1) * padded);
      let sum = 0;
      for (let row = 0; row < n; row++) {
        let av = 0;
        for (let col = 0; col < n; col++) av += m.data[row * n + col] * v[col];
        sum += (av - lambda * v[row]) ** 2;
      }
      residual = Math.max(residual, Math.sqrt(sum) / scale);
    }
  });
  return { eigen, residual };
}

const strategies: JacobiStrategy[] = ['sweeps-in-workgroup', 'sweeps-in-storage', 'step-per-dispatch'];

describe.each(strategies)('Jacobi driver %s on Dawn', (strategy) => {
  it.each([
    [7, 3],
    [32, 2],
  ])(
    'n = %i, %i matrices: eigenvalues and eigenvectors',
    async (n, count) => {
      const { matrices, padded, data } = batch(n, count, 10 * n);
      const r = await jacobiEigenBatch(rt, rt.upload(data, 'test.matrices'), padded, count, { vectors: true, strategy });
      const e = errors(matrices, padded, r.values, r.vectors);
      expect(e.eigen).toBeLessThanOrEqual(TOL.f32Eigen);
      expect(e.residual).toBeLessThanOrEqual(TOL.f32Eigen);
      expect(r.sweeps).toBeGreaterThanOrEqual(3);
      expect(r.sweeps).toBeLessThan(20);
    },
    120_000,
  );

  it('eigenvalues only', async () => {
    const { matrices, padded, data } = batch(20, 2, 77);
    const r = await jacobiEigenBatch(rt, rt.upload(data, 'test.matrices'), padded, 2, { vectors: false, strategy });
    expect(r.vectors).toBeNull();
    expect(errors(matrices, padded, r.values, null).eigen).toBeLessThanOrEqual(TOL.f32Eigen);
  }, 120_000);
});

describe('a batch of matrices of different sizes, each rotated over its own size', () => {
  it.each(strategies)(
    '%s',
    async (strategy) => {
      const sizes = [7, 20, 32];
      const padded = 32;
      const matrices = sizes.map((n, b) => batch(n, 1, 40 + b).matrices[0]);
      const data = new Float32Array(sizes.length * padded * padded);
      matrices.forEach((m, b) => {
        for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.rows; j++) data[b * padded * padded + i * padded + j] = m.data[i * m.rows + j];
      });
      const r = await jacobiEigenBatch(rt, rt.upload(data, 'test.matrices'), padded, sizes.length, { vectors: true, strategy, sizes });
      matrices.forEach((m, b) => {
        const values = r.values.slice(b * padded, (b + 1) * padded);
        const vectors = r.vectors!.slice(b * padded * padded, (b + 1) * padded * padded);
        const e = errors([m], padded, values, vectors);
        expect(e.eigen, `size ${m.rows}`).toBeLessThanOrEqual(TOL.f32Eigen);
        expect(e.residual, `size ${m.rows}`).toBeLessThanOrEqual(TOL.f32Eigen);
      });
    },
    120_000,
  );
});

describe('whole-sweep drivers carry their state across dispatches', () => {
  it.each(['sweeps-in-workgroup', 'sweeps-in-storage'] as JacobiStrategy[])(
    '%s: one sweep per dispatch gives the same result as many',
    async (strategy) => {
      const { matrices, padded, data } = batch(24, 3, 5);
      const chunks: number[] = [];
      const one = await jacobiEigenBatch(rt, rt.upload(data, 'test.matrices'), padded, 3, {
        vectors: true,
        strategy,
        sweepsPerDispatch: 1,
        dispatchesPerReadback: 1,
        onSweep: (s) => chunks.push(s),
      });
      const all = await jacobiEigenBatch(rt, rt.upload(data, 'test.matrices'), padded, 3, { vectors: true, strategy, sweepsPerDispatch: 40 });
      // One progress report per dispatch: the sweeps count up one at a time, then the final check.
      expect(chunks.slice(0, one.sweeps)).toEqual(Array.from({ length: one.sweeps }, (_, i) => i + 1));
      expect(one.sweeps).toBe(all.sweeps);
      expect(Array.from(one.values)).toEqual(Array.from(all.values));
      expect(errors(matrices, padded, one.values, one.vectors).residual).toBeLessThanOrEqual(TOL.f32Eigen);
    },
    120_000,
  );

  it.each(['sweeps-in-workgroup', 'sweeps-in-storage'] as JacobiStrategy[])(
    '%s: several dispatches per readback give the bitwise same result with fewer readbacks',
    async (strategy) => {
      const { padded, data } = batch(24, 3, 5);
      const solve = async (dispatchesPerReadback: number) => {
        rt.resetTraffic();
        const r = await jacobiEigenBatch(rt, rt.upload(data, 'test.matrices'), padded, 3, {
          vectors: true,
          strategy,
          sweepsPerDispatch: 1,
          dispatchesPerReadback,
        });
        return { ...r, traffic: rt.traffic() };
      };
      const each = await solve(1);
      const rounds = await solve(12);
      expect(rounds.sweeps).toBe(each.sweeps);
      expect(Array.from(rounds.values)).toEqual(Array.from(each.values));
      expect(Array.from(rounds.vectors!)).toEqual(Array.from(each.vectors!));
      // One state readback per dispatch (a dispatch tests convergence after its sweep) against one per 12 dispatches; the vectors once each.
      expect(each.traffic.byLabel['jacobi.state'].readbacks).toBe(each.sweeps);
      expect(rounds.traffic.byLabel['jacobi.state'].readbacks).toBe(Math.ceil(each.sweeps / 12));
      expect(rounds.traffic.readbacks).toBe(rounds.traffic.byLabel['jacobi.state'].readbacks + 1);
    },
    120_000,
  );

  it('a cancel between chunks stops the job', async () => {
    const { padded, data } = batch(24, 2, 9);
    const controller = new AbortController();
    const run = jacobiEigenBatch(rt, rt.upload(data, 'test.matrices'), padded, 2, {
      vectors: true,
      strategy: 'sweeps-in-storage',
      sweepsPerDispatch: 1,
      dispatchesPerReadback: 1,
      signal: controller.signal,
      onSweep: (sweep) => sweep >= 2 && controller.abort(),
    });
    await expect(run).rejects.toThrow(/cancelled/);
  }, 120_000);
});

describe('choosing the driver', () => {
  it('whole sweeps from storage on a software adapter; workgroup memory for small matrices on a GPU', () => {
    const software = rt.software;
    try {
      rt.software = true;
      expect(chooseJacobiStrategy(rt, 64, 4)).toBe('sweeps-in-storage');
      expect(chooseJacobiStrategy(rt, 2048, 4)).toBe('step-per-dispatch');
      rt.software = false;
      const local = largestWorkgroupN(rt.limits.maxComputeWorkgroupStorageSize);
      expect(chooseJacobiStrategy(rt, local, 1)).toBe('sweeps-in-workgroup');
      expect(chooseJacobiStrategy(rt, local + 2, 1)).toBe('step-per-dispatch');
      expect(chooseJacobiStrategy(rt, 512, 100)).toBe('sweeps-in-storage');
    } finally {
      rt.software = software;
    }
  });
});
