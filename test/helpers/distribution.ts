// Comparing two samples of one distribution (Monte-Carlo checks of the chance level's Gaussian null):
// means within a few standard errors, sds within a relative band, and a two-sample
// Kolmogorov–Smirnov test. Thresholds are named; a failure says which check and the numbers.
import { expect } from 'vitest';

/** Monte-Carlo checks: a mean within this many standard errors of its expectation (two-sided, ~6e-5 by chance). */
export const MC_STANDARD_ERRORS = 4;
/** Kolmogorov–Smirnov two-sample test at α = 0.001: c(α) = sqrt(−ln(α/2)/2). */
const KS_C_ALPHA = Math.sqrt(-Math.log(0.0005) / 2);
/** The sd of the null: sample sds of n draws agree within this relative difference (≈ 4/sqrt(2n) at n = 400 to 2000). */
const SD_RELATIVE = 0.15;

export const mean = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;
export const sd = (v: readonly number[]) => {
  const m = mean(v);
  return Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
};

/** Two-sample KS statistic D = sup |F1 − F2|. */
function ksStatistic(a: readonly number[], b: readonly number[]): number {
  const x = [...a].sort((s, t) => s - t);
  const y = [...b].sort((s, t) => s - t);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

export function expectSameDistribution(explicit: number[], draws: number[], label: string) {
  const se = Math.sqrt(sd(explicit) ** 2 / explicit.length + sd(draws) ** 2 / draws.length);
  expect(Math.abs(mean(explicit) - mean(draws)), `${label}: means ${mean(explicit)} vs ${mean(draws)} (se ${se})`).toBeLessThan(MC_STANDARD_ERRORS * se);
  expect(Math.abs(sd(draws) / sd(explicit) - 1), `${label}: sds ${sd(explicit)} vs ${sd(draws)}`).toBeLessThan(SD_RELATIVE);
  const critical = KS_C_ALPHA * Math.sqrt((explicit.length + draws.length) / (explicit.length * draws.length));
  expect(ksStatistic(explicit, draws), `${label}: KS D against ${critical}`).toBeLessThan(critical);
}
