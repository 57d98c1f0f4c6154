import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fitTemperatureToPredictions } from '../../lib/eval/calibration';
import { readRunFiles } from '../../lib/train/run-folder';
import { readCsv } from '../../lib/io/csv';
import { PROJECT_ROOT } from '../../lib/paths';
import type { RunAnalysis } from '../../lib/report/analysis';
import { syntheticData, tempDir, trainTinyRun } from './run-fixture';

const cxr = path.join(PROJECT_ROOT, 'bin', 'cxr.js');
let root: string;
let runs: string;
let out: string;
let html: string;
let md: string;

function cli(args: string[]) {
  return spawnSync(process.execPath, [cxr, ...args], { encoding: 'utf8', env: process.env });
}

before(async () => {
  root = tempDir('cxr-report-');
  process.env.CXR_CACHE = path.join(root, 'cache');
  const data = await syntheticData(root, 12);
  runs = path.join(root, 'runs');
  await trainTinyRun(data, runs, 'tiny-binary', 'binary');
  await trainTinyRun(data, runs, 'tiny-multiclass', 'multiclass');
  // An unfinished run: only its record, as after a crash in the first epoch.
  fs.mkdirSync(path.join(runs, 'unfinished'));
  fs.copyFileSync(path.join(runs, 'tiny-binary', 'config.json'), path.join(runs, 'unfinished', 'config.json'));
  out = path.join(root, 'report');
  const r = cli(['report', '--runs', runs, '--out', out, '--resamples', '1000', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /report: .*index\.html.*2 run\(s\)/);
  assert.match(r.stderr, /left out .*unfinished: not finished/);
  html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('the HTML is self-contained: no external resources, figures embedded', () => {
  const refs = [...html.matchAll(/\b(src|href)\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[2]);
  assert.ok(refs.length > 5);
  for (const ref of refs) assert.ok(ref.startsWith('data:') || ref.startsWith('#'), `external reference ${ref.slice(0, 80)}`);
  assert.doesNotMatch(html, /<script|<link|@import|url\(\s*['"]?http/i);
  const figures = fs.readdirSync(path.join(out, 'figures'));
  assert.ok(figures.length >= 11, `figures: ${figures.join(', ')}`);
  assert.equal((html.match(/<img [^>]*src="data:image\/svg\+xml;base64,/g) ?? []).length, figures.length);
  // Grad-CAM grids carry the overlays as embedded PNGs.
  const gradcam = figures.filter((f) => f.startsWith('gradcam-'));
  assert.equal(gradcam.length, 2);
  for (const f of gradcam) assert.match(fs.readFileSync(path.join(out, 'figures', f), 'utf8'), /data:image\/png;base64,/);
  // The Markdown links exactly the written figures.
  const linked = [...md.matchAll(/\]\((figures\/[^)]+)\)/g)].map((m) => m[1]).sort();
  assert.deepEqual(linked, figures.map((f) => `figures/${f}`).sort());
});

test('every section is there, with the study’s numbers and their caveat', () => {
  for (const section of ['Results', 'Per-run results', 'Grad-CAM', 'Shortcut audit', 'Metadata-only baseline', 'Occlusion test', 'What the models may be using', 'Out-of-distribution gate', 'Data', 'Split', 'Run configurations', 'Limitations']) {
    assert.match(html, new RegExp(`<h[23][^>]*>${section}</h[23]>`), section);
    assert.match(md, new RegExp(`^##+ ${section}$`, 'm'), section);
  }
  for (const n of ['100 %', '98 %', '95 %', '97.45 %', '90 %']) assert.ok(md.includes(`| ${n} |`), n);
  assert.match(md, /validation accuracies .* ignored patients/);
  assert.match(md, /paediatric|children/);
  assert.match(md, /unfinished \(not finished/);
});

test('the numbers come from the run files', () => {
  for (const [id, task] of [['tiny-binary', 'binary (COVID vs not)'], ['tiny-multiclass', '3-class']] as const) {
    const dir = path.join(runs, id);
    const preds = readCsv(path.join(dir, 'predictions.csv'), ['file', 'label', 'split', 'predicted']);
    const test = preds.filter((p) => p.split === 'test');
    const acc = test.filter((p) => p.label === p.predicted).length / test.length;
    const split = readCsv(path.join(dir, 'split.csv'), ['file', 'patient_id', 'split']).filter((r) => r.split === 'test');
    const patients = new Set(split.map((r) => r.patient_id)).size;
    const row = md.split('\n').find((l) => l.startsWith(`| ${task} | tiny |`));
    assert.ok(row, `results row for ${id}`);
    const cells = row.split('|').map((c) => c.trim());
    assert.equal(cells[3], `${test.length} (${patients} patients)`);
    assert.ok(cells[4].startsWith(`${(100 * acc).toFixed(1)} % (`), `${cells[4]} vs ${acc}`);
    const valPreds = preds.filter((p) => p.split === 'val');
    assert.equal(cells[7], `${((100 * valPreds.filter((p) => p.label === p.predicted).length) / valPreds.length).toFixed(1)} %`);

    // Temperature fitted on the run's validation predictions.
    const t = fitTemperatureToPredictions(readRunFiles(dir).val).temperature;
    assert.ok(md.includes(`temperature T = ${t.toFixed(3)} fitted on the validation split`));

    // The occlusion test's intact images are the run's test images, scored by the saved model through the
    // training pipeline: the same accuracy as predictions.csv.
    const analysis = JSON.parse(fs.readFileSync(path.join(dir, 'analysis', 'analysis.json'), 'utf8')) as RunAnalysis;
    assert.equal(analysis.occlusion.n, test.length);
    assert.equal(analysis.occlusion.rows[0].name, 'intact');
    assert.ok(Math.abs(analysis.occlusion.rows[0].accuracy.point - acc) < 1e-12);
    assert.deepEqual(analysis.occlusion.rows.map((r) => r.name), ['intact', 'lungs-hidden', 'border-only', 'lungs-only']);
    assert.ok(analysis.gradcam.examples.length > 0);
    for (const e of analysis.gradcam.examples) assert.ok(fs.existsSync(path.join(dir, 'analysis', e.png)));
    // No lung segmenter in this cache: the report says so rather than training one.
    assert.ok(analysis.gradcam.lungs && 'unavailable' in analysis.gradcam.lungs);
    assert.match(md, /lungs not scored — no lung segmenter is cached/);

    // The gate: fitted into the run folder, its test refusals there and in the report's row.
    const gate = JSON.parse(fs.readFileSync(path.join(dir, 'ood.json'), 'utf8')) as { threshold: number; test: { n: number; refused: number } };
    assert.ok('threshold' in analysis.ood, JSON.stringify(analysis.ood));
    assert.equal(analysis.ood.threshold, gate.threshold);
    assert.deepEqual(analysis.ood.test, gate.test);
    assert.equal(gate.test.n, test.length);
    assert.equal(analysis.ood.nonCxr.length, 8);
    assert.equal(analysis.ood.nonCxr.find((i) => i.name === 'colour landscape')!.refusal, 'colour');
    const gateRow = md.split('\n').find((l) => l.startsWith(`| tiny · ${task === '3-class' ? task : 'binary'} |`) && l.includes(`| ${gate.test.refused} of ${gate.test.n} (`));
    assert.ok(gateRow, `gate row for ${id}`);

    // Majority-class rate of the metadata baseline table, from split.csv.
    const labels = split.map((r) => (task === '3-class' ? r.label : r.label === 'covid' ? 'covid' : 'not-covid'));
    const majority = Math.max(...[...new Set(labels)].map((l) => labels.filter((x) => x === l).length)) / labels.length;
    const baseline = md.split('\n').find((l) => l.startsWith(`| ${task} | ${(100 * majority).toFixed(1)} % |`));
    assert.ok(baseline, `metadata baseline row for ${task}`);
  }
  // Split table: the counts of split.csv.
  const split = readCsv(path.join(runs, 'tiny-binary', 'split.csv'), ['file', 'label', 'split']);
  const train = split.filter((r) => r.split === 'train');
  const c = (l: string) => train.filter((r) => r.label === l).length;
  assert.ok(md.includes(`| train | ${c('covid')} | ${c('viral')} | ${c('normal')} | ${train.length} |`));
});

test('a second report reuses the stored analyses; a foreign --out folder is refused', { timeout: 120_000 }, () => {
  const stamp = fs.statSync(path.join(runs, 'tiny-binary', 'analysis', 'analysis.json')).mtimeMs;
  const r = cli(['report', '--runs', runs, '--out', out, '--resamples', '1000']);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /analysis: tiny-binary/);
  assert.equal(fs.statSync(path.join(runs, 'tiny-binary', 'analysis', 'analysis.json')).mtimeMs, stamp);
  const foreign = path.join(root, 'foreign');
  fs.mkdirSync(foreign);
  fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
  const bad = cli(['report', '--runs', runs, '--out', foreign]);
  assert.equal(bad.status, 64);
  assert.match(bad.stderr, /not a report folder/);
  assert.equal(fs.readFileSync(path.join(foreign, 'notes.txt'), 'utf8'), 'mine');
});
