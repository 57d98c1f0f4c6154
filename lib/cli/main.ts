/**
 * The `cxr` program: each command lives in its own file under lib/cli/ and exports `register(program)`; this
 * file only assembles them, defines the one global option (`--backend`, accepted before or after the command)
 * and turns errors into one clear line and an exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { BACKEND_CHOICES, parseBackendChoice } from '../backend';
import { CxrError } from '../errors';

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
  require('./segment').register,
  require('./dicom').register,
  require('./serve').register,
];

/** The `cxr` command with every subcommand registered (parse with `parseAsync`). */
export function buildProgram(): Command {
  const program = new Command('cxr')
    .description('Chest X-ray classification toolkit (COVID-19 / viral pneumonia / normal)')
    .showHelpAfterError()
    .exitOverride()
    // Each command's help lists --backend too, since it is accepted after the command name.
    .configureHelp({ showGlobalOptions: true })
    // Every command that computes calls initBackend(), which reads CXR_BACKEND (lib/backend.ts).
    // Parsed by lib/backend's own check, so a bad name is one `cxr: error:` line like a bad CXR_BACKEND.
    .addOption(new Option('--backend <name>', `TensorFlow.js backend: ${BACKEND_CHOICES.join(', ')} (default: the best that works; env CXR_BACKEND)`)
      .argParser((value) => parseBackendChoice(value, '--backend')))
    .hook('preAction', (cmd) => {
      const backend = cmd.opts().backend as string | undefined;
      if (backend) process.env.CXR_BACKEND = backend;
    });
  for (const register of COMMANDS) register(program);
  return program;
}

/**
 * Runs the CLI.
 * @param argv `process.argv` (node, script, then the user's arguments)
 * @returns the process exit code: 0, or the error's (1 failure, 2 bad input file, 64 usage)
 */
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
