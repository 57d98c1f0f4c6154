import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeImage } from '../../lib/data/decode';
import { PROJECT_ROOT, SHARED_DATA_DIR, projectPython } from '../../lib/paths';
import { checkAll } from './golden-cases';

// Exactness beyond the committed cases: numpy + OpenCV make fresh random images, sizes, grids and clip
// limits on every run (the seed is printed so a failure can be replayed).
const python = projectPython();
const script = path.join(PROJECT_ROOT, 'scripts', 'make_enhance_goldens.py');

test('fresh random cases from numpy + OpenCV match exactly', { skip: fs.existsSync(python) ? false : `no ${python} (npm run setup makes it)` }, () => {
  const seed = Number(process.env.CXR_ENHANCE_SEED ?? Date.now() % 1_000_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-enhance-fresh-'));
  try {
    const r = spawnSync(python, [script, '--random', '30', '--seed', String(seed), '--out', dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { cases, failures } = checkAll(dir);
    assert.equal(cases, 150);
    assert.deepEqual(failures, [], `seed ${seed} (replay with CXR_ENHANCE_SEED=${seed})`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('real X-rays from the shared data, at their own size, match numpy + OpenCV exactly', {
  skip: !fs.existsSync(python) ? `no ${python}` : !fs.existsSync(SHARED_DATA_DIR) ? `no ${SHARED_DATA_DIR}` : false,
}, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-enhance-real-'));
  try {
    // A few images of each class, picked by a stable rule; decoded here, so both sides see the same pixels.
    const picks = ['covid', 'normal', 'viral'].flatMap((c) => {
      const files = fs.readdirSync(path.join(SHARED_DATA_DIR, c)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
      return [files[0], files[Math.floor(files.length / 2)]].map((f) => path.join(SHARED_DATA_DIR, c, f));
    });
    const list = [];
    for (const [i, file] of picks.entries()) {
      const img = await decodeImage(file);
      const raw = path.join(dir, `input-${i}.bin`);
      fs.writeFileSync(raw, img.data);
      list.push({ file: raw, width: img.width, height: img.height });
    }
    fs.writeFileSync(path.join(dir, 'inputs.json'), JSON.stringify(list));
    const out = path.join(dir, 'cases');
    const r = spawnSync(python, [script, '--rgb-inputs', path.join(dir, 'inputs.json'), '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { cases, failures } = checkAll(out);
    assert.equal(cases, picks.length * 7);
    assert.deepEqual(failures, [], picks.join(', '));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
