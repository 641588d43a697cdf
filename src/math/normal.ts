// The standard normal's upper tail, to float64 precision, for p-values of combined z scores
// (analysis/seedsChance.ts). erfc from two classical expansions, no table of fitted coefficients:
// below x = 2 the all-positive series erf(x) = (2/√π)·e^(−x²)·Σ (2x²)ⁿ·x / (1·3·…·(2n+1)) (no
// cancellation; 1 − erf loses at most ~3 digits there), from x = 2 on Laplace's continued fraction
// erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))) by the modified Lentz method.

const SQRT_PI = Math.sqrt(Math.PI);
/** Below this the series, from it the continued fraction. */
const SERIES_LIMIT = 2;
const EPS = 1e-17;
const TINY = 1e-300;

function erfSeries(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 500 && Math.abs(term) > EPS * Math.abs(sum); n++) {
    term *= (2 * x * x) / (2 * n + 1);
    sum += term;
  }
  return (2 / SQRT_PI) * Math.exp(-x * x) * sum;
}

function erfcContinuedFraction(x: number): number {
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < TINY ? 1 / TINY : 1 / d;
    c = x + a / c;
    if (Math.abs(c) < TINY) c = TINY;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(-x * x) / (SQRT_PI * f);
}

/** The complementary error function erfc(x) = 1 − erf(x), relative error ~1e-13 or better. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x === Infinity) return 0;
  return x < SERIES_LIMIT ? 1 - erfSeries(x) : erfcContinuedFraction(x);
}

/** P(Z ≥ z) for a standard normal Z (the one-sided p of a z score); 0 where it underflows (z ≳ 38). */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}
