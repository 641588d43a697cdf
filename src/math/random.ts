// The portable reference generator of ../shared/docs/svcca-semantics.md: mulberry32 uniforms and
// Box–Muller (cos branch only) normals, so that a numpy script and these tests build bit-identical
// inputs. randn(seed, rows, cols) fills row-major, a fresh stream per call.

import { zeros, type Matrix } from './matrix';

/** mulberry32 over a uint32 state; returns uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** rows × cols standard normals: z = sqrt(−2 ln(1 − u1))·cos(2π u2), two uniforms per normal. */
export function randn(seed: number, rows: number, cols: number): Matrix {
  const next = mulberry32(seed);
  const out = zeros(rows, cols);
  for (let i = 0; i < rows * cols; i++) {
    const u1 = next();
    const u2 = next();
    out.data[i] = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}
