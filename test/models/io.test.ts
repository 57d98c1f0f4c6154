import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { InputFileError } from '../../lib/errors';
import { loadModel, saveModel } from '../../lib/models/io';
import { getBackbone } from '../../lib/models/registry';

test('a backbone with a head saves in TF.js format and loads back identical', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-io-'));
  try {
    const backbone = getBackbone('resnet50').build({ inputSize: 32 });
    const head = tf.layers.dense({ units: 3, activation: 'softmax', name: 'head' }).apply(backbone.outputs[0]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: backbone.inputs, outputs: head });
    const x = tf.randomUniform([2, 32, 32, 3], -100, 100, 'float32', 9);
    const target = path.join(dir, 'model');
    await saveModel(model, target);
    const files = fs.readdirSync(target).sort();
    assert.ok(files.includes('model.json'));
    assert.ok(files.filter((f) => /^group1-shard\d+of\d+\.bin$/.test(f)).length > 1);
    for (const f of files) assert.ok(fs.statSync(path.join(target, f)).size <= 4 * 1024 * 1024);
    assert.deepEqual(fs.readdirSync(dir), ['model'], 'no temporary folder left');
    assert.match(fs.readFileSync(path.join(target, 'model.json'), 'utf8'), /"class_name":"FrozenBatchNormalization"/);

    const loaded = await loadModel(target);
    assert.equal(loaded.countParams(), model.countParams());
    assert.deepEqual(Array.from((loaded.predict(x) as tf.Tensor).dataSync()), Array.from((model.predict(x) as tf.Tensor).dataSync()));
    assert.equal(loaded.getLayer('conv1_bn').getClassName(), 'FrozenBatchNormalization');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loading a missing or broken model names the file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-io-'));
  await assert.rejects(loadModel(dir), (e: Error) => e instanceof InputFileError && e.message.startsWith(path.join(dir, 'model.json')));
  fs.writeFileSync(path.join(dir, 'model.json'), '{"modelTopology": {}, "weightsManifest": [{"paths": ["x.bin"], "weights": []}]}');
  await assert.rejects(loadModel(dir), /x\.bin: weight shard listed in .* is missing/);
  fs.rmSync(dir, { recursive: true, force: true });
});
