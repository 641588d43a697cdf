// svcca-lens: the entry point (bin/svcca-lens.mjs runs it, bundled or through tsx). It answers
// --help, --version, each command's --help and a misspelt command from the help texts alone, and
// only for a real command loads the engine (commands.ts, imported dynamically: a chunk of its own
// in the bundle, scripts/build-cli.mjs), so that those answers start as fast as Node itself.

import { APP_NAME, APP_VERSION } from '../version';
import { COMMAND_HELP, COMMANDS, USAGE, unknownCommand } from './help';
import { processOutput, type Output } from './output';

const wantsHelp = (a: string) => a === '--help' || a === '-h';

/** Runs one call of the CLI (argv without node and the script); returns the exit status. */
export async function main(argv: string[], out: Output = processOutput): Promise<number> {
  const [first = '', ...rest] = argv;
  if (argv.length === 0 || wantsHelp(first) || first === 'help') {
    out.stdout(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  if (first === '--version' || first === '-V') {
    out.stdout(`${APP_NAME} ${APP_VERSION}`);
    return 0;
  }
  if (!(COMMANDS as readonly string[]).includes(first)) {
    out.stderr(`svcca-lens: ${unknownCommand(first)} (see svcca-lens --help)`);
    return 2;
  }
  const commandHelp = COMMAND_HELP.get(first);
  if (commandHelp && rest.some(wantsHelp)) {
    out.stdout(commandHelp);
    return 0;
  }
  const { runCommand } = await import('./commands');
  return runCommand(argv, out);
}
