// Loaded with `node --import scripts/peak-rss.mjs …`: at exit, writes the process's peak resident
// set size in bytes (process.resourceUsage().maxRSS, reported by the OS in KiB) to the file named by
// SVCCA_PEAK_RSS_FILE. Used by scripts/large-bundle.ts to measure the CLI on files larger than memory.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.SVCCA_PEAK_RSS_FILE;
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS * 1024));
});
