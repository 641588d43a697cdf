// The documentation's relative links resolve: every [text](path) and ![alt](path) in README.md,
// CONTRIBUTING.md and docs/*.md names a file or folder that exists, and every #anchor names a
// heading of the target Markdown file, slugged as GitHub slugs it. Links inside code (fenced
// blocks and `inline code`) are not links and are skipped; http(s) and mailto links are not ours
// to check (no network in tests).

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const DOC_FILES = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The Markdown outside fenced code blocks, with inline code spans blanked (same line numbers). */
function proseOf(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/`+[^`]*`+/g, (code) => ' '.repeat(code.length));
  });
}

/** GitHub's heading anchor: lower case, punctuation dropped (letters, digits, spaces, '-' and '_'
 *  kept), spaces to '-'; a repeated heading gets -1, -2, … */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link in a heading counts by its text
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = githubSlug(heading[1]);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

interface Link {
  line: number;
  target: string;
}

function linksOf(file: string): Link[] {
  const links: Link[] = [];
  proseOf(readFileSync(file, 'utf8')).forEach((line, index) => {
    for (const match of line.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ line: index + 1, target: match[1] });
    }
  });
  return links;
}

/** What is wrong with one relative link, or null when it resolves. */
function brokenReason(fromFile: string, target: string): string | null {
  if (/^(https?:|mailto:)/i.test(target)) return null;
  const hash = target.indexOf('#');
  const pathPart = decodeURIComponent(hash >= 0 ? target.slice(0, hash) : target);
  const anchor = hash >= 0 ? decodeURIComponent(target.slice(hash + 1)) : null;
  const resolved = pathPart === '' ? fromFile : resolve(dirname(fromFile), pathPart);
  if (!existsSync(resolved)) return `${relative(ROOT, resolved)} does not exist`;
  if (anchor === null) return null;
  if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) return `#${anchor} on ${relative(ROOT, resolved)}, which is not a Markdown file`;
  const anchors = anchorsOf(resolved);
  return anchors.has(anchor) ? null : `no heading with anchor #${anchor} in ${relative(ROOT, resolved)} (its anchors: ${[...anchors].join(', ')})`;
}

describe('githubSlug', () => {
  it.each([
    ['View your files: `svcca-lens view`', 'view-your-files-svcca-lens-view'],
    ['Measured on an NVIDIA H200 (2026-12-04, one device run)', 'measured-on-an-nvidia-h200-2026-12-04-one-device-run'],
    ['Precision: what each backend guarantees', 'precision-what-each-backend-guarantees'],
    ['Export from numpy / JAX', 'export-from-numpy--jax'],
    ['To change X, edit Y', 'to-change-x-edit-y'],
    ['Conventions, and where we differ from google/svcca', 'conventions-and-where-we-differ-from-googlesvcca'],
  ])('%s → #%s', (heading, slug) => {
    expect(githubSlug(heading)).toBe(slug);
  });
});

describe('documentation links', () => {
  it('finds the documents and their links (the check below is not vacuous)', () => {
    expect(DOC_FILES).toContain('docs/formats.md');
    expect(linksOf(join(ROOT, 'README.md')).length).toBeGreaterThan(10);
  });

  it('catches a broken path and a broken anchor', () => {
    const readme = join(ROOT, 'README.md');
    expect(brokenReason(readme, 'docs/no-such-file.md')).toMatch(/does not exist/);
    expect(brokenReason(readme, 'docs/formats.md#no-such-heading')).toMatch(/no heading/);
    expect(brokenReason(readme, 'docs/formats.md#layouts')).toBeNull();
  });

  it.each(DOC_FILES)('every relative link and anchor in %s resolves', (file) => {
    const path = join(ROOT, file);
    const broken = linksOf(path)
      .map((link) => ({ link, reason: brokenReason(path, link.target) }))
      .filter((x) => x.reason !== null)
      .map(({ link, reason }) => `${file}:${link.line}: (${link.target}) ${reason}`);
    expect(broken).toEqual([]);
  });
});

describe("README's test command", () => {
  it('is `npm test`, in a shell block near the top, as .ci/run and newcomers expect', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme);
    expect(firstBlock?.[1]).toMatch(/^npm test\b/m);
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
