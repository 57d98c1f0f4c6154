import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LABELS, labelForFolder, taskLabelIndex, taskLabels } from '../../lib/data/labels';
import { readManifest } from '../../lib/data/manifest';
import { patientFromFileName } from '../../lib/data/patients';
import { scanDataset } from '../../lib/data/scan';
import { InputFileError } from '../../lib/errors';
import { patternImage, writeTree } from './synth';

test('class folder aliases, case-insensitive; unknown names are not classes', () => {
  assert.deepEqual([...LABELS], ['covid', 'viral', 'normal']);
  assert.equal(labelForFolder('virus'), 'viral');
  assert.equal(labelForFolder('Virus'), 'viral');
  assert.equal(labelForFolder('COVID'), 'covid');
  assert.equal(labelForFolder('NORMAL'), 'normal');
  assert.equal(labelForFolder('viral'), 'viral');
  assert.equal(labelForFolder('bacteria'), undefined);
  assert.equal(labelForFolder('COVID_IEEE'), undefined);
});

test('task labels: binary is covid vs not-covid', () => {
  assert.deepEqual(taskLabels('binary'), ['covid', 'not-covid']);
  assert.deepEqual(taskLabels('multiclass'), ['covid', 'viral', 'normal']);
  assert.deepEqual(LABELS.map((l) => taskLabelIndex(l, 'binary')), [0, 1, 1]);
  assert.deepEqual(LABELS.map((l) => taskLabelIndex(l, 'multiclass')), [0, 1, 2]);
});

test('patient ids from known file-name patterns', () => {
  assert.equal(patientFromFileName('person1004_virus_1686.jpeg')?.patientId, 'person1004');
  assert.equal(patientFromFileName('viral/kermany-oz__person448_virus_922.jpg')?.patientId, 'person448');
  assert.equal(patientFromFileName('person12_bacteria_46.jpeg')?.patientId, 'person12');
  assert.equal(patientFromFileName('NORMAL2-IM-0123-0001.jpeg')?.patientId, 'IM-0123');
  assert.equal(patientFromFileName('IM-0123-0001-0002.jpeg')?.patientId, 'IM-0123');
  assert.equal(patientFromFileName('normal/kermany-lc__IM-0429-0001.jpg')?.patientId, 'IM-0429');
  assert.equal(patientFromFileName('covid/ieee8023__16663_1_1.jpg'), undefined);
  assert.equal(patientFromFileName('notperson5_virus_1.jpg'), undefined);
});

test('the Kaggle layout COVID_IEEE/{covid,virus,normal} is found under the root; ids derived and said so', async () => {
  const root = writeTree({
    'COVID_IEEE/covid/covid-a.png': await patternImage(8, 8, 1),
    'COVID_IEEE/virus/person7_virus_13.jpeg': await patternImage(8, 8, 2, 'jpeg'),
    'COVID_IEEE/virus/person7_virus_14.jpeg': await patternImage(8, 8, 3, 'jpeg'),
    'COVID_IEEE/Normal/NORMAL2-IM-0123-0001.jpeg': await patternImage(8, 8, 4, 'jpeg'),
    'README.txt': 'not scanned',
  });
  try {
    const ds = await scanDataset(root);
    assert.deepEqual(ds.problems, []);
    assert.equal(ds.hasManifest, false);
    assert.deepEqual(
      ds.samples.map((s) => [s.file, s.label, s.patientId]),
      [
        ['COVID_IEEE/Normal/NORMAL2-IM-0123-0001.jpeg', 'normal', 'IM-0123'],
        ['COVID_IEEE/covid/covid-a.png', 'covid', 'image:COVID_IEEE/covid/covid-a.png'],
        ['COVID_IEEE/virus/person7_virus_13.jpeg', 'viral', 'person7'],
        ['COVID_IEEE/virus/person7_virus_14.jpeg', 'viral', 'person7'],
      ],
    );
    assert.ok(ds.notes.some((n) => n.includes('COVID_IEEE/')));
    assert.ok(ds.notes.some((n) => /no manifest\.csv/.test(n)));
    assert.ok(ds.notes.some((n) => /person<N>.*for 2 image/.test(n)));
    assert.ok(ds.notes.some((n) => /1 image\(s\) match no known file-name pattern/.test(n)));
    assert.equal(ds.samples[1].format, 'png');
    assert.equal(ds.samples[2].format, 'jpeg');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('manifest parsing: aliases, optional columns, posix paths; bad rows are errors naming the row', () => {
  const sha = 'ab'.repeat(32);
  const root = writeTree({
    'good.csv': `file,label,patient_id,source_repo,view,age_group,sha256\r\nviral\\a.jpg,virus,p1,org/repo,PA,pediatric,${sha.toUpperCase()}\r\n"covid/b, c.png",covid,,,,,\r\n`,
    'twice.csv': 'file,label\ncovid/a.png,covid\ncovid/a.png,covid\n',
    'label.csv': 'file,label\ncovid/a.png,bacteria\n',
    'escape.csv': 'file,label\n../outside.png,covid\n',
    'hash.csv': 'file,label,sha256\ncovid/a.png,covid,xyz\n',
    'columns.csv': 'name,label\ncovid/a.png,covid\n',
  });
  try {
    const m = readManifest(path.join(root, 'good.csv'));
    assert.deepEqual([...m.keys()], ['viral/a.jpg', 'covid/b, c.png']);
    const a = m.get('viral/a.jpg')!;
    assert.equal(a.label, 'viral');
    assert.equal(a.patientId, 'p1');
    assert.equal(a.source, 'org/repo');
    assert.equal(a.view, 'PA');
    assert.equal(a.ageGroup, 'pediatric');
    assert.equal(a.sha256, sha);
    assert.equal(m.get('covid/b, c.png')!.patientId, undefined);
    const cases: [string, RegExp][] = [
      ['twice.csv', /row 3: covid\/a\.png is listed twice/],
      ['label.csv', /row 2: unknown label "bacteria"/],
      ['escape.csv', /row 2: .*inside the data folder/],
      ['hash.csv', /row 2: sha256 "xyz"/],
      ['columns.csv', /missing column\(s\): file/],
    ];
    for (const [name, re] of cases) {
      assert.throws(() => readManifest(path.join(root, name)), (err: unknown) => {
        assert.ok(err instanceof InputFileError);
        assert.ok(err.message.startsWith(path.join(root, name)), err.message);
        assert.match(err.message, re);
        return true;
      });
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
