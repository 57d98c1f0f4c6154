import { Command, CommanderError } from 'commander';
import { CxrError } from '../errors';

/**
 * Each command lives in its own file under lib/cli/ and exports `register(program)`; this file only
 * assembles them and turns errors into one clear line and an exit code.
 */
type Register = (program: Command) => void;

const COMMANDS: Register[] = [
  // one line per command module, e.g. require('./data').register,
];

export function buildProgram(): Command {
  const program = new Command('cxr')
    .description('Chest X-ray classification toolkit (COVID-19 / viral pneumonia / normal)')
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 64;
    if (err instanceof CxrError) {
      console.error(`cxr: error: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}
