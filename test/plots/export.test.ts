import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { CxrError, UsageError } from '../../lib/errors';
import { closeBrowser, figuresDir, renderPng, renderSvg, saveFigure } from '../../lib/plots/export';
import { barChart } from '../../lib/plots/bars';
import { PROJECT_ROOT } from '../../lib/paths';
import { pngSize } from '../notebooks/helpers';

// Renders through Debian's chromium (scripts/setup/jupyter.sh installs it).

const fig = barChart({ title: 'Images per class', categories: ['covid', 'viral', 'normal'], series: [{ name: 'images', values: [536, 619, 668] }], width: 640, height: 400 });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-export-'));
after(async () => {
  await closeBrowser();
  fs.rmSync(work, { recursive: true, force: true });
});

test('renderPng: a PNG at the figure size times the scale', { timeout: 120_000 }, async () => {
  assert.deepEqual(pngSize(await renderPng(fig)), { width: 1280, height: 800 });
  assert.deepEqual(pngSize(await renderPng(fig, { scale: 1, width: 300, height: 200 })), { width: 300, height: 200 });
});

test('renderSvg: an SVG document with the figure text in it', { timeout: 60_000 }, async () => {
  const svg = await renderSvg(fig);
  assert.match(svg, /^<svg[\s>]/);
  assert.match(svg, /width="640"/);
  assert.match(svg, /Images per class/);
  assert.match(svg, />viral</);
});

test('saveFigure: PNG and SVG side by side, nothing else left behind; names are checked', { timeout: 60_000 }, async () => {
  const out = await saveFigure(fig, '01-counts', { dir: path.join(work, 'figs') });
  assert.deepEqual(out, { png: path.join(work, 'figs', '01-counts.png'), svg: path.join(work, 'figs', '01-counts.svg') });
  assert.deepEqual(fs.readdirSync(path.join(work, 'figs')).sort(), ['01-counts.png', '01-counts.svg']);
  pngSize(fs.readFileSync(out.png));
  for (const bad of ['../escape', 'a/b', 'with space', '', '.hidden']) {
    await assert.rejects(saveFigure(fig, bad, { dir: work }), UsageError, bad);
  }
});

test('figuresDir: figures/ in the project unless CXR_FIGURES_DIR says otherwise', () => {
  const saved = process.env.CXR_FIGURES_DIR;
  try {
    delete process.env.CXR_FIGURES_DIR;
    assert.equal(figuresDir(), path.join(PROJECT_ROOT, 'figures'));
    process.env.CXR_FIGURES_DIR = work;
    assert.equal(figuresDir(), work);
  } finally {
    if (saved === undefined) delete process.env.CXR_FIGURES_DIR;
    else process.env.CXR_FIGURES_DIR = saved;
  }
});

test('a missing browser is a clear error, and the next render recovers', { timeout: 60_000 }, async () => {
  await closeBrowser();
  process.env.CXR_CHROMIUM = path.join(work, 'no-chromium');
  try {
    await assert.rejects(renderPng(fig), (err: Error) => err instanceof CxrError && /no-chromium: chromium not found/.test(err.message));
  } finally {
    delete process.env.CXR_CHROMIUM;
  }
  pngSize(await renderPng(fig, { scale: 1 }));
});

test('a script that exports figures exits by itself (the browser does not keep Node alive)', { timeout: 120_000 }, () => {
  const script = `
    const { saveFigure } = require('./lib/plots/export');
    const { barChart } = require('./lib/plots/bars');
    saveFigure(barChart({ title: 't', categories: ['a'], series: [{ name: 's', values: [1] }] }), 'x', { dir: ${JSON.stringify(work)} })
      .then(() => console.log('saved'));`;
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 90_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /saved/);
  assert.ok(Date.now() - started < 90_000);
  assert.ok(fs.existsSync(path.join(work, 'x.svg')));
});
