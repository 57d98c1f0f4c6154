/**
 * The `cxr` program: each command lives in its own file under lib/cli/ and exports `register(program)`; this
 * file only assembles them, defines the one global option (`--backend`, accepted before or after the command)
 * and turns errors into one clear line and an exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import { BACKEND_CHOICES, parseBackendChoice } from '../backend/choice';
import { CxrError } from '../errors';

type Register = (program: Command) => void;

/**
 * Each command file and the command names it registers. Loaded on demand: a command loads only its own file (most
 * load TensorFlow.js, half a second), help and unknown commands load them all.
 */
const COMMANDS: [names: string[], load: () => Register][] = [
  [['doctor'], () => require('./doctor').register],
  [['data'], () => require('./data').register],
  [['enhance'], () => require('./enhance').register],
  [['train'], () => require('./train').register],
  [['predict'], () => require('./predict').register],
  [['models', 'weights'], () => require('./models').register],
  [['evaluate'], () => require('./evaluate').register],
  [['compare'], () => require('./compare').register],
  [['report'], () => require('./report').register],
  [['study'], () => require('./study').register],
  [['segment'], () => require('./segment').register],
  [['dicom'], () => require('./dicom').register],
  [['serve'], () => require('./serve').register],
];

/** The command name in the user's arguments (the first word that is not the global `--backend` or its value). */
function commandName(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--backend') i++;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return undefined;
}

/**
 * The `cxr` command (parse with `parseAsync`): with `args` naming a command, only that command is registered;
 * otherwise every one, for help and the list of commands.
 */
export function buildProgram(args: readonly string[] = []): Command {
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
  const name = commandName(args);
  const only = COMMANDS.filter(([names]) => name !== undefined && names.includes(name));
  for (const [, load] of only.length > 0 ? only : COMMANDS) load()(program);
  return program;
}

/**
 * Runs the CLI.
 * @param argv `process.argv` (node, script, then the user's arguments)
 * @returns the process exit code: 0, or the error's (1 failure, 2 bad input file, 64 usage)
 */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(argv.slice(2));
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
