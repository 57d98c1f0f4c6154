import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { notebookOutputs, runNotebook, type NotebookJson } from '../../lib/notebook/run';
import { PROJECT_ROOT } from '../../lib/paths';
import { assertFigureFiles, figureOutputs } from './helpers';

// Executes the study's notebooks top to bottom with the tslab kernel, as a person would in JupyterLab,
// on the shared data set. Executed copies and their figures go to a temporary folder, never to git.

const NOTEBOOKS: Record<string, string[]> = {
  '01-explore-data.ipynb': [
    '01-class-counts', '01-images-per-patient', '01-sources-per-class', '01-formats-per-class', '01-resolution',
    '01-aspect-ratio', '01-samples', '01-shortcuts', '01-shortcut-accuracy',
  ],
  '02-enhancement.ipynb': ['02-side-by-side', '02-histograms', '02-cdfs', '02-clahe-grid', '02-clahe-contrast'],
};

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-notebooks-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('committed notebooks carry no outputs and use the tslab kernel', () => {
  for (const name of Object.keys(NOTEBOOKS)) {
    const nb = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'notebooks', name), 'utf8')) as NotebookJson;
    assert.equal((nb.metadata.kernelspec as { name: string }).name, 'tslab', name);
    const dirty = nb.cells.filter((c) => c.cell_type === 'code' && ((c.outputs ?? []).length > 0 || c.execution_count != null));
    assert.equal(dirty.length, 0, `${name} has outputs: run \`npm run notebooks:clear\` before committing`);
  }
  assert.equal(fs.readlinkSync(path.join(PROJECT_ROOT, 'notebooks', 'lib')), '../lib', 'notebooks/lib links to ../lib');
});

for (const [name, figures] of Object.entries(NOTEBOOKS)) {
  test(`${name} runs top to bottom and exports its figures`, { timeout: 600_000 }, async () => {
    const figDir = path.join(work, 'figures', name);
    const { notebook, seconds } = await runNotebook(path.join(PROJECT_ROOT, 'notebooks', name), {
      outDir: path.join(work, 'executed'),
      env: { CXR_FIGURES_DIR: figDir },
    });
    const outputs = notebookOutputs(notebook);
    assert.equal(outputs.filter((o) => o.output_type === 'error').length, 0);
    assert.equal(figureOutputs(outputs).length, figures.length, 'each figure shown once, as plotly JSON + PNG');
    for (const fig of figures) assertFigureFiles(figDir, fig);
    assert.deepEqual(fs.readdirSync(figDir).sort(), figures.flatMap((f) => [`${f}.png`, `${f}.svg`]).sort(), 'no other files');
    assert.ok(outputs.some((o) => o.data && 'text/html' in o.data), 'tables are shown');
    console.log(`# ${name}: ${seconds.toFixed(0)} s`);
  });
}
