import { Command, CommanderError, Option } from 'commander';
import { CxrError } from '../errors';

/**
 * Each command lives in its own file under lib/cli/ and exports `register(program)`; this file only
 * assembles them and turns errors into one clear line and an exit code.
 */
type Register = (program: Command) => void;

const COMMANDS: Register[] = [
  require('./doctor').register,
  require('./data').register,
  require('./enhance').register,
  require('./train').register,
  require('./predict').register,
  require('./models').register,
  require('./evaluate').register,
  require('./compare').register,
  require('./report').register,
  require('./study').register,
  require('./dicom').register,
];

export function buildProgram(): Command {
  const program = new Command('cxr')
    .description('Chest X-ray classification toolkit (COVID-19 / viral pneumonia / normal)')
    .showHelpAfterError()
    .exitOverride()
    // Global: every command that computes calls initBackend(), which reads CXR_BACKEND (lib/backend.ts).
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (default: the best that works; env CXR_BACKEND)')
      .choices(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']))
    .hook('preAction', (cmd) => {
      const backend = cmd.opts().backend as string | undefined;
      if (backend) process.env.CXR_BACKEND = backend;
    });
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
