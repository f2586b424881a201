// Entry point of the sidecar image (`dist/sidecar.js`, one bundled file: npm run build): `podid sidecar` only, so
// each pod's sidecar loads its own code path and nothing of the webhook's, NMI's or the CLI's. It takes what the
// webhook injects (`args: [sidecar]`) and what `podid sidecar` takes.

import { podidVersion } from '../common/version.ts';
import { runCommand } from './run-command.ts';
import { sidecarCommand } from './sidecar-command.ts';

function sidecarArgs(argv: readonly string[]): readonly string[] {
  return argv[0] === 'sidecar' ? argv.slice(1) : argv;
}

const args = sidecarArgs(process.argv.slice(2));
if (args[0] === '--version') process.stdout.write(`${podidVersion()}\n`);
else process.exitCode = await runCommand(sidecarCommand, args, process.env);
