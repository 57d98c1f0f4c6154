import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { notebookOutputs, runNotebook, type NotebookJson, type NotebookOutput } from '../../lib/notebook/run';
import { PROJECT_ROOT } from '../../lib/paths';
import { assertFigureFiles, figureOutputs } from './helpers';

// Executes notebook 07 with the tiny profile (20 images per run) into a temporary runs folder: four
// ResNet-50 runs (two recipes × all sources / one held out), the tables and the two figures.

const NAME = '07-generalisation.ipynb';
const FIGURES = ['07-class-share', '07-gradcam-adult-normals'];
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-generalisation-notebook-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

const allText = (outputs: NotebookOutput[]) =>
  outputs
    .map((o) => {
      const parts = [o.text, o.data?.['text/plain'], o.data?.['text/html'], o.data?.['text/markdown']];
      return parts.map((t) => (Array.isArray(t) ? t.join('') : String(t ?? ''))).join('\n');
    })
    .join('\n');

test(`${NAME} is committed without outputs, on the tslab kernel`, () => {
  const nb = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'notebooks', NAME), 'utf8')) as NotebookJson;
  assert.equal((nb.metadata.kernelspec as { name: string }).name, 'tslab');
  const dirty = nb.cells.filter((c) => c.cell_type === 'code' && ((c.outputs ?? []).length > 0 || c.execution_count != null));
  assert.equal(dirty.length, 0, `${NAME} has outputs: run \`npm run notebooks:clear\` before committing`);
});

test(`${NAME} runs top to bottom (tiny profile): confound tables, held-out and by-source tables, Grad-CAM`, { timeout: 600_000 }, async () => {
  const runsDir = path.join(work, 'runs');
  const figDir = path.join(work, 'figures');
  const { notebook, seconds } = await runNotebook(path.join(PROJECT_ROOT, 'notebooks', NAME), {
    outDir: path.join(work, 'executed'),
    env: { CXR_NOTEBOOK_PROFILE: 'tiny', CXR_RUNS_DIR: runsDir, CXR_FIGURES_DIR: figDir },
  });
  const outputs = notebookOutputs(notebook);
  assert.deepEqual(outputs.filter((o) => o.output_type === 'error').map((o) => `${o.ename}: ${o.evalue}`), []);
  const text = allText(outputs);
  for (const heading of ['Class × age group', 'Class × source', 'Class × format', 'Class × size', 'Generalisation: held-out sources', 'sensitivity covid %']) {
    assert.ok(text.includes(heading), `shows "${heading}"`);
  }
  assert.match(text, /age group .*100 % of its \d+ images are/, 'the audit warnings');
  assert.match(text, /chestx-ray\.com/, 'the held-out source is named');
  assert.match(text, /No finished held-out-source study runs[\s\S]*--validate leave-one-source-out/, 'says how to get the leave-one-source-out table');
  const runs = fs.readdirSync(runsDir);
  assert.equal(runs.length, 4, 'two recipes × (all sources, one held out)');
  const configs = runs.map((r) => JSON.parse(fs.readFileSync(path.join(runsDir, r, 'config.json'), 'utf8')) as { config: { recipe: string; holdout: string[]; profile: string } });
  assert.deepEqual(configs.map((c) => `${c.config.recipe}:${c.config.holdout.join()}`).sort(), ['deconfounded:', 'deconfounded:chestx-ray.com', 'study:', 'study:chestx-ray.com']);
  assert.ok(configs.every((c) => c.config.profile === 'tiny'));
  assert.equal(figureOutputs(outputs).length, FIGURES.length, 'each figure shown once, as plotly JSON + PNG');
  for (const f of FIGURES) assertFigureFiles(figDir, f);
  assert.deepEqual(fs.readdirSync(figDir).sort(), FIGURES.flatMap((f) => [`${f}.png`, `${f}.svg`]).sort(), 'no other files');
  console.log(`# ${NAME}: ${seconds.toFixed(0)} s`);
});
