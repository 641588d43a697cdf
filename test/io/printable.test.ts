// Text from a file is shown escaped and capped (io/printable): no raw control or bidi character
// ever reaches a terminal or the page.
import { describe, expect, it } from 'vitest';
import { MAX_SHOWN_LENGTH, printable, printableLines, terminalSafeJson } from '../../src/io/printable';

/** Any character a terminal or the bidi algorithm would act on. */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('printable', () => {
  const cases: [string, string, string][] = [
    ['ANSI colour escape', 'conv1\u001b[31mRED', 'conv1\\x1b[31mRED'],
    ['C1 CSI', 'a\u009b2J', 'a\\x9b2J'],
    ['newline and carriage return', 'a\nb\rc', 'a\\x0ab\\x0dc'],
    ['NUL and DEL', 'x\u0000y\u007f', 'x\\x00y\\x7f'],
    ['bidi override (trojan source)', 'layer\u202egnp.', 'layer\\u202egnp.'],
    ['bidi isolate', '\u2066x\u2069', '\\u2066x\\u2069'],
    ['plain unicode stays', 'Schicht_ä/卷积', 'Schicht_ä/卷积'],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      expect(printable(input)).toBe(expected);
      expect(printable(input)).not.toMatch(RAW_CONTROL);
    });
  }

  it('caps long text and says how much was left out', () => {
    const shown = printable('n'.repeat(1000));
    expect(shown.startsWith('n'.repeat(MAX_SHOWN_LENGTH))).toBe(true);
    expect(shown).toContain(`(${1000 - MAX_SHOWN_LENGTH} more characters)`);
    expect(printable('abc', 2)).toBe('ab… (1 more characters)');
  });

  it('printableLines keeps newline and tab, escapes the rest', () => {
    expect(printableLines('a\tb\nc\u001b[2J')).toBe('a\tb\nc\\x1b[2J');
  });

  it('terminalSafeJson parses back to the same strings', () => {
    const value = { name: 'a\u009b\u202e\u007fb\u001b', n: 1 };
    const text = terminalSafeJson(JSON.stringify(value));
    expect(text).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(text)).toEqual(value);
  });
});
