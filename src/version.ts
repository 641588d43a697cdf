// The app's version, from package.json: inlined by Vite at build time, read by tsx in the CLI.
// Every export and `--json` output carries it, so a file says which build made its numbers.
import { version } from '../package.json';

export const APP_NAME = 'svcca-lens';
export const APP_VERSION: string = version;
