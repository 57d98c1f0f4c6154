import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { notebookOutputs, runNotebook, type NotebookJson, type NotebookOutput } from '../../lib/notebook/run';
import { PROJECT_ROOT } from '../../lib/paths';
import { PLOTLY_MIME } from '../../lib/plots/display';
import { assertFigureFiles, figureOutputs } from './helpers';

// Executes notebooks 03–05 with the tiny profile (a few images, one epoch per phase) into a temporary runs
// folder, then 06 on the six runs they made. Executed copies, runs and figures never touch the project.

const TRAINING: Record<string, string> = {
  '03-train-nasnetmobile.ipynb': 'nasnetmobile',
  '04-train-resnet101.ipynb': 'resnet101',
  '05-train-inceptionresnetv2.ipynb': 'inceptionresnetv2',
};
const COMPARE = '06-compare-models.ipynb';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-training-notebooks-'));
const runsDir = path.join(work, 'runs');
after(() => fs.rmSync(work, { recursive: true, force: true }));

const text = (outputs: NotebookOutput[]) =>
  outputs
    .map((o) => {
      const t = o.text ?? (o.data?.['text/plain'] as string | string[] | undefined) ?? '';
      return Array.isArray(t) ? t.join('') : t;
    })
    .join('');

async function execute(name: string, env: Record<string, string>): Promise<{ outputs: NotebookOutput[]; figDir: string }> {
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

test('notebooks 03–06 are committed without outputs, on the tslab kernel', () => {
  for (const name of [...Object.keys(TRAINING), COMPARE]) {
    const nb = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'notebooks', name), 'utf8')) as NotebookJson;
    assert.equal((nb.metadata.kernelspec as { name: string }).name, 'tslab', name);
    const dirty = nb.cells.filter((c) => c.cell_type === 'code' && ((c.outputs ?? []).length > 0 || c.execution_count != null));
    assert.equal(dirty.length, 0, `${name} has outputs: run \`npm run notebooks:clear\` before committing`);
  }
});

for (const [name, model] of Object.entries(TRAINING)) {
  test(`${name} trains ${model} on both tasks (tiny profile) and plots both phases`, { timeout: 600_000 }, async () => {
    const before = fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : [];
    const { outputs, figDir } = await execute(name, { CXR_NOTEBOOK_PROFILE: 'tiny' });
    const made = fs.readdirSync(runsDir).filter((d) => !before.includes(d));
    assert.equal(made.length, 2, 'one run per task');
    for (const task of ['binary', 'multiclass']) {
      const dir = made.find((d) => d.includes(`-${model}-${task}`));
      assert.ok(dir, `a ${task} run of ${model}`);
      const config = JSON.parse(fs.readFileSync(path.join(runsDir, dir, 'config.json'), 'utf8')) as { config: { profile: string; weights: string } };
      assert.equal(config.config.profile, 'tiny');
      assert.ok(fs.existsSync(path.join(runsDir, dir, 'predictions.csv')));
      assert.match(text(outputs), new RegExp(config.config.weights === 'imagenet' ? 'ImageNet weights from the cache' : "random weights \\(weights 'none'\\)"));
    }
    const figures = ['binary', 'multiclass'].flatMap((t) => ['loss', 'accuracy'].map((m) => `${name.slice(0, 2)}-${t}-${m}`));
    const shown = figureOutputs(outputs);
    assert.equal(shown.length, figures.length);
    for (const o of shown) {
      const layout = (o.data![PLOTLY_MIME] as { layout: { shapes?: { line?: { dash?: string } }[] } }).layout;
      assert.ok((layout.shapes ?? []).some((s) => s.line?.dash === 'dash'), 'the start of phase 2 is marked by a dashed line');
    }
    for (const fig of figures) assertFigureFiles(figDir, fig);
  });
}

test(`${COMPARE} compares the runs the training notebooks made`, { timeout: 600_000 }, async () => {
  const runs = fs.readdirSync(runsDir).length;
  assert.ok(runs >= 2, 'the training notebooks ran first');
  const { outputs, figDir } = await execute(COMPARE, {});
  const all = text(outputs) + outputs.map((o) => String(o.data?.['text/html'] ?? '')).join('');
  assert.match(all, new RegExp(`${runs} finished run\\(s\\)`));
  assert.match(all, /Study \(reported, val\)/, "the study's numbers beside ours");
  assert.match(all, /Shortcut audit/);
  assert.match(all, /Metadata-only baseline/);
  const files = fs.readdirSync(figDir).filter((f) => f.endsWith('.png')).map((f) => f.slice(0, -4));
  assert.equal(figureOutputs(outputs).length, files.length, 'every figure shown is saved');
  for (const kind of ['confusion', 'roc', 'reliability', 'history']) {
    assert.equal(files.filter((f) => f.startsWith(`06-${kind}-`)).length, runs, `${kind} figure per run`);
  }
  assert.ok(files.some((f) => f.startsWith('06-gradcam-')), 'Grad-CAM grids');
  for (const f of files) assertFigureFiles(figDir, f);
});
