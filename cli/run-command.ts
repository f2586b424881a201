// Running one command: its flags parsed (from arguments and environment), --help, and the exit code for a usage
// error or a failure. Apart from the command table (podid.ts), so a bundle of one command (sidecar-main.ts) holds
// that command's code path only.

import { UsageError, commandHelp, parseFlags, type Command } from './flags.ts';

export async function runCommand(cmd: Command<any>, rest: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  try {
    const args = cmd.positional && rest[0] !== undefined && !rest[0].startsWith('-') ? [`--${cmd.positional}`, ...rest] : rest;
    const values = parseFlags(cmd.flags, args, env);
    if (!values) {
      process.stdout.write(commandHelp(cmd));
      return 0;
    }
    return await cmd.run(values);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`podid ${cmd.name}: ${err.message}\nRun 'podid ${cmd.name} --help' for the flags.\n`);
      return 2;
    }
    process.stderr.write(`podid ${cmd.name}: ${(err as Error).message}\n`);
    return 1;
  }
}
