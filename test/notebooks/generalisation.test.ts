import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { auditConfounds } from '../../lib/data/confounds';
import type { Label } from '../../lib/data/labels';
import type { Sample } from '../../lib/data/types';
import { confoundBlocks, sourcesByFile, studyHoldoutDirs, unseenAdultNormals } from '../../lib/notebook/generalisation';

const sample = (file: string, label: Label, source: string, ageGroup: string): Sample => ({
  file, path: `/data/${file}`, label, patientId: file, dataset: 'd', source, sha256: file, width: 512, height: 512,
  format: 'jpeg', bytes: 1, channels: 1, bitDepth: 8, ageGroup,
});

const samples = [
  ...Array.from({ length: 12 }, (_, i) => sample(`covid/c${i}.png`, 'covid', 'ieee8023', 'adult(age=60)')),
  ...Array.from({ length: 12 }, (_, i) => sample(`normal/k${i}.jpg`, 'normal', 'Kermany', 'paediatric')),
  ...Array.from({ length: 4 }, (_, i) => sample(`normal/n${i}.jpg`, 'normal', 'NIH ChestX-ray14', 'adult(age=50)')),
];

test('confoundBlocks: a cross-table per property asked for, with the largest class share, then the warnings', () => {
  const blocks = confoundBlocks(auditConfounds(samples), ['size', 'source', 'no such property']);
  assert.deepEqual(blocks.map((b) => b.kind), ['paragraph', 'table', 'paragraph', 'table', 'list']);
  const size = blocks[1] as { header: string[]; rows: string[][] };
  assert.deepEqual(size.header, ['size (value)', 'covid', 'viral', 'normal', 'images', 'largest class'], "never a column named 'size' (a DataFrame member)");
  assert.deepEqual(size.rows, [['512–767 px', '12', '0', '16', '28', '57 % normal']]);
  assert.match((blocks[2] as { text: string }).text, /source alone: 100 % right \(always the largest class: 57 %\)/);
  assert.deepEqual((blocks[3] as { rows: string[][] }).rows.map((r) => [r[0], r[5]]), [['Kermany', '100 % normal'], ['ieee8023', '100 % covid'], ['NIH ChestX-ray14', '100 % normal']]);
  assert.ok((blocks[4] as { items: string[] }).items.some((w) => /source ieee8023: 100 % of its 12 images are covid/.test(w)));
  const mixed = [sample('a', 'covid', 's', 'adult'), sample('b', 'normal', 's', 'adult')];
  assert.deepEqual(confoundBlocks(auditConfounds(mixed), []), [{ kind: 'paragraph', text: 'No class is confined to one value of these properties.' }]);
});

test('unseenAdultNormals: adult normals of the matching sources among the test and held-out images only', () => {
  assert.equal(sourcesByFile({ samples })['normal/n0.jpg'], 'NIH ChestX-ray14');
  const run = {
    split: ['normal/n0.jpg', 'normal/n1.jpg', 'normal/n2.jpg', 'normal/k0.jpg', 'covid/c0.png'].map((file) => ({ file, split: 'test' })).concat([{ file: 'normal/n3.jpg', split: 'train' }]),
    holdout: [],
  } as unknown as Parameters<typeof unseenAdultNormals>[1];
  assert.deepEqual(unseenAdultNormals({ samples }, run, /NIH|Kermany/, 2).map((s) => s.file), ['normal/n0.jpg', 'normal/n1.jpg'], 'no child, no training image, at most 2 per source');
  assert.deepEqual(unseenAdultNormals({ samples }, run, /chestx-ray/), []);
});

test('studyHoldoutDirs: finished held-out-source study runs only', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-loso-'));
  try {
    const make = (name: string, finished: boolean) => {
      fs.mkdirSync(path.join(dir, name, 'model'), { recursive: true });
      fs.writeFileSync(path.join(dir, name, 'config.json'), '{}');
      if (finished) {
        fs.writeFileSync(path.join(dir, name, 'predictions.csv'), '');
        fs.writeFileSync(path.join(dir, name, 'model', 'model.json'), '{}');
      }
    };
    make('study-quick-resnet50-multiclass-holdout-nih', true);
    make('study-quick-resnet50-binary-holdout-ieee8023', false);
    make('study-quick-resnet50-multiclass', true);
    make('20260101-resnet50-multiclass', true);
    assert.deepEqual(studyHoldoutDirs(dir).map((d) => path.basename(d)), ['study-quick-resnet50-multiclass-holdout-nih']);
    assert.deepEqual(studyHoldoutDirs(path.join(dir, 'missing')), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
