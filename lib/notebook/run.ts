import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CxrError, InputFileError } from '../errors';
import { projectPython } from '../paths';

/** A notebook file as nbformat 4 JSON (the parts read here). */
export interface NotebookJson {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export interface NotebookCell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  outputs?: NotebookOutput[];
  [key: string]: unknown;
}

export interface NotebookOutput {
  output_type: 'stream' | 'display_data' | 'execute_result' | 'error';
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  text?: string | string[];
  ename?: string;
  evalue?: string;
}

export interface RunOptions {
  /** Folder for the executed copy (`<outDir>/<name>.ipynb`); the source notebook is never modified. */
  outDir: string;
  /** Extra environment for the kernel (e.g. `CXR_FIGURES_DIR`). */
  env?: Record<string, string>;
  /** Longest time one cell may run, seconds (default 600). */
  cellTimeoutS?: number;
}

/** What a headless run produced. */
export interface RunResult {
  /** Path of the executed copy. */
  file: string;
  notebook: NotebookJson;
  seconds: number;
}

/**
 * Executes a notebook top to bottom with the tslab kernel, headlessly (nbconvert from the project's
 * .venv, where `scripts/setup/jupyter.sh` registers the kernel). The kernel runs in the notebook's own
 * folder, as in JupyterLab, so its relative imports (`./lib/...`) resolve the same way. Rejects with a
 * CxrError carrying the failing cell and its error when any cell fails.
 */
export async function runNotebook(file: string, opts: RunOptions): Promise<RunResult> {
  if (!fs.existsSync(file)) throw new InputFileError(file, 'no such notebook');
  const python = projectPython();
  if (!fs.existsSync(python)) {
    throw new CxrError(`${python}: missing; run \`npm run setup\` (scripts/setup/python.sh, then scripts/setup/jupyter.sh)`);
  }
  fs.mkdirSync(opts.outDir, { recursive: true });
  const args = [
    '-m', 'nbconvert', '--to', 'notebook', '--execute',
    '--ExecutePreprocessor.kernel_name=tslab',
    `--ExecutePreprocessor.timeout=${opts.cellTimeoutS ?? 600}`,
    '--output-dir', opts.outDir,
    file,
  ];
  const started = Date.now();
  const { code, stderr } = await spawnCollect(python, args, { ...process.env, ...opts.env });
  if (code !== 0) throw new CxrError(`${file}: notebook failed\n${failureText(stderr)}`);
  const out = path.join(opts.outDir, path.basename(file));
  return { file: out, notebook: JSON.parse(fs.readFileSync(out, 'utf8')) as NotebookJson, seconds: (Date.now() - started) / 1000 };
}

/** The cell and error nbconvert reports, without its Python traceback. */
function failureText(stderr: string): string {
  const at = stderr.indexOf('An error occurred while executing the following cell');
  const text = at >= 0 ? stderr.slice(at) : stderr;
  const lines = text.split('\n').filter((l) => !l.startsWith('[NbConvertApp]'));
  return lines.slice(0, 80).join('\n').trim();
}

function spawnCollect(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

/** Every output of every code cell, in order. */
export function notebookOutputs(nb: NotebookJson): NotebookOutput[] {
  return nb.cells.flatMap((c) => (c.cell_type === 'code' ? c.outputs ?? [] : []));
}
