import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT, SHARED_DATA_DIR } from '../../lib/paths';
import { patternImage, snapshot, writeTree } from './synth';

const cxr = path.join(PROJECT_ROOT, 'bin', 'cxr.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cxr, ...args], { encoding: 'utf8' });
const noStack = (stderr: string) => assert.doesNotMatch(stderr, /at .*\.ts:\d+/);

test('cxr data summary and split on the real data; the data folder is not written to', () => {
  const before = snapshot(SHARED_DATA_DIR, false);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-cli-'));
  try {
    const text = run('data', 'summary', '--data', SHARED_DATA_DIR);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /images: 1823 {3}patients: 1511 {3}skipped files: 0/);
    assert.match(text.stdout, /^images\s+536\s+619\s+668\s+1823$/m);
    assert.match(text.stdout, /^png\s+186\s+0\s+0\s+186$/m);

    const json = run('data', 'summary', '--data', SHARED_DATA_DIR, '--json');
    assert.equal(json.status, 0, json.stderr);
    const s = JSON.parse(json.stdout);
    assert.deepEqual(s.perClass.covid, { images: 536, patients: 346 });
    assert.deepEqual(s.problems, []);

    const out = path.join(dir, 'split.csv');
    const split = run('data', 'split', '--data', SHARED_DATA_DIR, '--seed', '3', '--out', out);
    assert.equal(split.status, 0, split.stderr);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'file,label,patient_id,split');
    assert.equal(lines.length, 1824);
    const patientSplit = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const [file, , patient, name] = line.split(',');
      assert.ok(fs.existsSync(path.join(SHARED_DATA_DIR, file)), file);
      assert.ok(['train', 'val', 'test'].includes(name));
      assert.ok(!patientSplit.has(patient) || patientSplit.get(patient) === name, `patient ${patient} crosses splits`);
      patientSplit.set(patient, name);
    }
    const inside = run('data', 'split', '--data', SHARED_DATA_DIR, '--out', path.join(SHARED_DATA_DIR, 'split.csv'));
    assert.equal(inside.status, 64);
    assert.match(inside.stderr, /inside the data folder/);
    const fractions = run('data', 'split', '--data', SHARED_DATA_DIR, '--fractions', '0.5,0.5', '--out', out);
    assert.equal(fractions.status, 64);
    noStack(fractions.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(snapshot(SHARED_DATA_DIR, false), before);
});

test('a messy folder: skipped files on stderr, --strict fails naming the file, nothing written', async () => {
  const root = writeTree({
    'covid/a.png': await patternImage(8, 8, 1),
    'viral/person1_virus_1.jpeg': await patternImage(8, 8, 2, 'jpeg'),
    'normal/IM-0001-0001.jpeg': await patternImage(8, 8, 3, 'jpeg'),
    'normal/broken.jpeg': Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]),
  });
  try {
    const before = snapshot(root);
    const out = path.join(os.tmpdir(), `cxr-cli-split-${process.pid}.csv`);
    const r = run('data', 'split', '--data', root, '--out', out);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /skipped normal\/broken\.jpeg: truncated JPEG/);
    assert.equal(fs.readFileSync(out, 'utf8').trim().split('\n').length, 4);
    fs.rmSync(out);
    const summary = run('data', 'summary', '--data', root);
    assert.match(summary.stdout, /no manifest\.csv/);
    const strict = run('data', 'summary', '--data', root, '--strict');
    assert.equal(strict.status, 2);
    assert.equal(strict.stderr.trim().split('\n').pop(), `cxr: error: ${path.join(root, 'normal/broken.jpeg')}: truncated JPEG (no end-of-image marker) (--strict)`);
    const missing = run('data', 'summary', '--data', path.join(root, 'nope'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope: no such data folder/);
    noStack(missing.stderr);
    assert.deepEqual(snapshot(root), before);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
