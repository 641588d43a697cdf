// How many threads the float64 CPU path may run on (analysis/pool): one limit for the pool, the
// CLI's --threads and the app's CPU threads setting. Pure, so the main thread may read it.

/** More threads than this only add copies and memory on the machines the app targets. */
export const MAX_THREADS = 16;
