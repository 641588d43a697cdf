// Where the CLI writes: one line of text at a time to stdout (the result) and stderr (messages).
// Tests pass their own to capture both.

import { printable } from '../io/printable';

export interface Output {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The process's streams. Every stderr line is one message that may carry text from a file (a
 *  name, a dtype, header text), so it is escaped here, at the boundary (io/printable); stdout's
 *  result is escaped where it is written (commands.ts). */
export const processOutput: Output = {
  stdout: (text) => process.stdout.write(text + '\n'),
  stderr: (text) => process.stderr.write(printable(text, Number.POSITIVE_INFINITY) + '\n'),
};
