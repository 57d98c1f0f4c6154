// Notebook 06 executed headless on runs of its own (tiny runs trained here through lib/train, both tasks), and
// the training notebooks 03–06 committed clean. 03–05 are executed by their own test files, in parallel.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { NotebookJson } from '../../lib/notebook/run';
import { PROJECT_ROOT } from '../../lib/paths';
import { syntheticData, trainTinyRun } from '../report/run-fixture';
import { assertFigureFiles, figureOutputs } from './helpers';
import { executeNotebook, notebookWork, outputText } from './training';

const NOTEBOOKS = ['03-train-nasnetmobile.ipynb', '04-train-resnet101.ipynb', '05-train-inceptionresnetv2.ipynb', '06-compare-models.ipynb'];
const { work, runsDir, cleanup } = notebookWork('cxr-compare-notebook-');
const cache = path.join(work, 'cache');

before(async () => {
  process.env.CXR_CACHE = cache;
  const data = await syntheticData(work, 12);
  await trainTinyRun(data, runsDir, 'tiny-binary', 'binary');
  await trainTinyRun(data, runsDir, 'tiny-multiclass', 'multiclass');
});
after(cleanup);

test('notebooks 03–06 are committed without outputs, on the tslab kernel', () => {
  for (const name of NOTEBOOKS) {
    const nb = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'notebooks', name), 'utf8')) as NotebookJson;
    assert.equal((nb.metadata.kernelspec as { name: string }).name, 'tslab', name);
    const dirty = nb.cells.filter((c) => c.cell_type === 'code' && ((c.outputs ?? []).length > 0 || c.execution_count != null));
    assert.equal(dirty.length, 0, `${name} has outputs: run \`npm run notebooks:clear\` before committing`);
  }
});

test('06-compare-models.ipynb compares the runs in its runs folder', { timeout: 600_000 }, async () => {
  const runs = fs.readdirSync(runsDir).length;
  assert.equal(runs, 2);
  const { outputs, figDir } = await executeNotebook('06-compare-models.ipynb', work, runsDir, { CXR_CACHE: cache });
  const all = outputText(outputs) + outputs.map((o) => String(o.data?.['text/html'] ?? '')).join('');
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
