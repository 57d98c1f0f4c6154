/**
 * `cxr serve --run runs/<id> [--port N] [--host H]`: the page that classifies an X-ray in the browser with the
 * run's model (lib/web). Loopback only unless --host says otherwise.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors';
import { loadRunOod } from '../eval/ood-run';
import { loadRunModel } from '../train/run-model';
import { runAssets } from '../web/assets';
import { listen } from '../web/server';

export const DEFAULT_PORT = 8021;

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be an integer 0–65535, got '${value}'`);
  return n;
}

/** Registers `cxr serve`. */
export function register(program: Command): void {
  program
    .command('serve')
    .description("Serve a page that classifies a chest X-ray in the browser with a run's model (nothing is uploaded)")
    .requiredOption('--run <dir>', 'run folder (runs/<id>)')
    .option('--port <n>', `port (0: any free one; default ${DEFAULT_PORT})`, parsePort, DEFAULT_PORT)
    .option('--host <address>', 'address to listen on (default 127.0.0.1, this machine only)')
    .action(async (opts: { run: string; port: number; host?: string }) => {
      const rm = await loadRunModel(path.resolve(opts.run));
      let ood;
      let assets;
      try {
        ood = await loadRunOod(rm, (line) => console.error(`note: ${line}`));
        assets = await runAssets(rm, ood.file);
      } finally {
        rm.dispose();
      }
      const host = opts.host ?? '127.0.0.1';
      if (opts.host) console.error(`cxr: warning: listening on ${host}, not loopback: anyone who can reach this machine can use the page (no authentication, no TLS)`);
      const s = await listen(assets, host, opts.port);
      console.log(`listening on ${s.url}`);
      await new Promise<void>((resolve) => {
        const stop = () => void s.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
