import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { notebookOutputs, runNotebook, type NotebookJson } from '../../lib/notebook/run';
import { PROJECT_ROOT } from '../../lib/paths';
import { assertFigureFiles, cellText, figureOutputs } from './helpers';

// The notebook platform end to end on a small generated notebook: tslab kernel from .venv, lib imported
// through a `lib` symlink, inline figures (plotly bundle + PNG), figure export, tables, image grids, and
// how tslab picks up edits of an imported module. The notebook lives in a temporary folder laid out like
// notebooks/ (symlinks to the project's lib and node_modules).

let work: string;

function notebook(cells: string[]): NotebookJson {
  return {
    cells: cells.map((source) => ({ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null })),
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    nbformat: 4,
    nbformat_minor: 4,
  };
}

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-nb-platform-'));
  fs.mkdirSync(path.join(work, 'nb'));
  fs.symlinkSync(path.join(PROJECT_ROOT, 'lib'), path.join(work, 'nb', 'lib'));
  fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(work, 'nb', 'node_modules'));
  fs.mkdirSync(path.join(work, 'probe-src'));
  fs.writeFileSync(path.join(work, 'probe-src', 'probe.ts'), "export const version = (): string => 'v1';\n");
  fs.symlinkSync(path.join(work, 'probe-src'), path.join(work, 'nb', 'probe'));
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

test('a tslab notebook shows and exports figures, tables and image grids', { timeout: 300_000 }, async () => {
  const figures = path.join(work, 'figures');
  const probe = JSON.stringify(path.join(work, 'probe-src', 'probe.ts'));
  const file = path.join(work, 'nb', 'platform.ipynb');
  fs.writeFileSync(
    file,
    JSON.stringify(
      notebook([
        // tslab resolves imports to files only (no folder index), so modules are imported one by one.
        "import { barChart } from './lib/plots/bars';\nimport { show, showTable } from './lib/plots/display';\n" +
          "import { saveFigure } from './lib/plots/export';\nimport { imageGrid } from './lib/plots/images';\n" +
          "const fig = barChart({ title: 'Counts', categories: ['covid', 'viral', 'normal'], series: [{ name: 'images', values: [3, 5, 8] }] });\n" +
          'await show(fig);',
        "const saved = await saveFigure(fig, 'platform-bar');\nconsole.log(saved.png);",
        'const ramp = new Uint8Array(64 * 48).map((_, i) => (i % 64) * 4);\n' +
          "const grid = await imageGrid({ title: 'Ramp', rows: [{ label: 'grey', images: [{ image: { data: ramp, width: 64, height: 48, channels: 1 }, title: 'a' }] }] });\n" +
          "await show(grid);\nawait saveFigure(grid, 'platform-grid');",
        "import { frame, showFrame } from './lib/notebook/table';\nshowFrame(frame([{ label: 'covid', n: 3 }, { label: 'normal', n: 8 }]));",
        "import { version } from './probe/probe';\nversion()",
        `require('fs').writeFileSync(${probe}, "export const version = (): string => 'v2';\\n");`,
        "import { version as again } from './probe/probe';\nagain()",
      ]),
    ),
  );
  const { notebook: nb } = await runNotebook(file, { outDir: path.join(work, 'out'), env: { CXR_FIGURES_DIR: figures } });
  const outputs = notebookOutputs(nb);
  assert.equal(outputs.filter((o) => o.output_type === 'error').length, 0);
  assert.equal(figureOutputs(outputs).length, 2, 'two figures shown, each with plotly JSON and a PNG');
  assert.equal(cellText(nb, 1).trim(), path.join(figures, 'platform-bar.png'), 'CXR_FIGURES_DIR reaches the kernel');
  assertFigureFiles(figures, 'platform-bar');
  assertFigureFiles(figures, 'platform-grid');
  const table = outputs.find((o) => o.data && 'text/html' in o.data);
  assert.match(String(table?.data?.['text/html']), /<table>.*covid.*normal/s);
  assert.match(cellText(nb, 4), /v1/);
  assert.match(cellText(nb, 6), /v2/, 'rerunning an import cell picks up an edited module');
  assert.equal(
    (JSON.parse(fs.readFileSync(file, 'utf8')) as NotebookJson).cells.every((c) => (c.outputs ?? []).length === 0),
    true,
    'the source notebook keeps no outputs',
  );
});

test('a failing cell fails the run and names the error', { timeout: 120_000 }, async () => {
  const file = path.join(work, 'nb', 'failing.ipynb');
  fs.writeFileSync(file, JSON.stringify(notebook(['const ok = 1;', "throw new Error('cell exploded on purpose');", 'ok'])));
  await assert.rejects(runNotebook(file, { outDir: path.join(work, 'out') }), (err: Error) => {
    assert.match(err.message, /failing\.ipynb: notebook failed/);
    assert.match(err.message, /cell exploded on purpose/);
    return true;
  });
});
