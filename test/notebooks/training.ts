/**
 * What the notebook tests that train share: executing a notebook into a temporary folder (its figures, runs and
 * executed copy never touch the project) and checking a training notebook's runs and figures.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { notebookOutputs, runNotebook, type NotebookOutput } from '../../lib/notebook/run';
import { PROJECT_ROOT } from '../../lib/paths';
import { PLOTLY_MIME } from '../../lib/plots/display';
import { assertFigureFiles, figureOutputs } from './helpers';

/** A temporary folder for executed notebooks, figures and runs, removed by `cleanup`. */
export function notebookWork(prefix: string): { work: string; runsDir: string; cleanup: () => void } {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { work, runsDir: path.join(work, 'runs'), cleanup: () => fs.rmSync(work, { recursive: true, force: true }) };
}

/** All text a notebook printed or displayed as plain text. */
export const outputText = (outputs: NotebookOutput[]) =>
  outputs
    .map((o) => {
      const t = o.text ?? (o.data?.['text/plain'] as string | string[] | undefined) ?? '';
      return Array.isArray(t) ? t.join('') : t;
    })
    .join('');

/** Executes notebooks/`name` with figures under `work` and runs in `runsDir`; fails on any error output. */
export async function executeNotebook(name: string, work: string, runsDir: string, env: Record<string, string>): Promise<{ outputs: NotebookOutput[]; figDir: string }> {
  const figDir = path.join(work, 'figures', name);
  const { notebook, seconds } = await runNotebook(path.join(PROJECT_ROOT, 'notebooks', name), {
    outDir: path.join(work, 'executed'),
    env: { CXR_FIGURES_DIR: figDir, CXR_RUNS_DIR: runsDir, ...env },
  });
  const outputs = notebookOutputs(notebook);
  assert.equal(outputs.filter((o) => o.output_type === 'error').length, 0);
  console.log(`# ${name}: ${seconds.toFixed(0)} s`);
  return { outputs, figDir };
}

/**
 * Executes a training notebook (03–05) with the tiny profile and checks it made one run per task with the
 * model's weights, and a loss and an accuracy figure per task with the phase switch marked.
 */
export async function checkTrainingNotebook(name: string, model: string): Promise<void> {
  const { work, runsDir, cleanup } = notebookWork(`cxr-notebook-${model}-`);
  try {
    const { outputs, figDir } = await executeNotebook(name, work, runsDir, { CXR_NOTEBOOK_PROFILE: 'tiny' });
    const made = fs.readdirSync(runsDir);
    assert.equal(made.length, 2, 'one run per task');
    for (const task of ['binary', 'multiclass']) {
      const dir = made.find((d) => d.includes(`-${model}-${task}`));
      assert.ok(dir, `a ${task} run of ${model}`);
      const config = JSON.parse(fs.readFileSync(path.join(runsDir, dir, 'config.json'), 'utf8')) as { config: { profile: string; weights: string } };
      assert.equal(config.config.profile, 'tiny');
      assert.ok(fs.existsSync(path.join(runsDir, dir, 'predictions.csv')));
      assert.match(outputText(outputs), new RegExp(config.config.weights === 'imagenet' ? 'ImageNet weights from the cache' : "random weights \\(weights 'none'\\)"));
    }
    const figures = ['binary', 'multiclass'].flatMap((t) => ['loss', 'accuracy'].map((m) => `${name.slice(0, 2)}-${t}-${m}`));
    const shown = figureOutputs(outputs);
    assert.equal(shown.length, figures.length);
    for (const o of shown) {
      const layout = (o.data![PLOTLY_MIME] as { layout: { shapes?: { line?: { dash?: string } }[] } }).layout;
      assert.ok((layout.shapes ?? []).some((s) => s.line?.dash === 'dash'), 'the start of phase 2 is marked by a dashed line');
    }
    for (const fig of figures) assertFigureFiles(figDir, fig);
  } finally {
    cleanup();
  }
}
