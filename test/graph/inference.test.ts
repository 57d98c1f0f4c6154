// Inference as a TensorFlow graph session (compileInference): the LayersModel translated to a GraphDef with
// BatchNorm folded into convolutions, loaded through tfjs-node's SavedModel loader. Must give TF.js's own
// predict() results on every layer the backbones and heads use. Needs the native backend, which the project's
// set-up provides everywhere; CXR_SKIP_NATIVE_TESTS=1 skips those tests.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { disposeGraph, modelGraph, savedModelProto } from '../../lib/graph/def';
import { compileInference } from '../../lib/graph/inference';
import { CustomScaleLayer } from '../../lib/models/layers';
import { frozenBatchNorm } from '../../lib/models/layers-bn';
import { Message } from '../../lib/graph/protobuf';
import { BACKBONE_NAMES, getBackbone } from '../../lib/models/registry';
import { SeededDropout } from '../../lib/train/head';
import { buildUnet } from '../../lib/segment/unet';
import { relativeDiff } from '../models/parity';

const skip = process.env.CXR_SKIP_NATIVE_TESTS === '1' ? 'CXR_SKIP_NATIVE_TESTS=1' : false;

before(async () => {
  if (!skip) await initBackend({ backend: 'tensorflow', quiet: true });
});

/** Non-trivial BatchNorm statistics and affine parameters, so that folding them into convolutions matters. */
function randomiseBatchNorm(model: tf.LayersModel, seed: number): void {
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const kind = w.originalName.split('/').pop();
      if (kind === 'moving_mean' || kind === 'beta') w.write(tf.randomNormal(w.shape as number[], 0, 0.2, 'float32', seed++));
      if (kind === 'moving_variance' || kind === 'gamma') w.write(tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', seed++));
    }
  }
}

function assertSamePredictions(model: tf.LayersModel, inputs: tf.Tensor[], tolerance = 1e-4): void {
  const inference = compileInference(model);
  try {
    assert.equal(inference.engine, 'tensorflow-graph', inference.reason);
    const want = [model.predict(inputs.length === 1 ? inputs[0] : inputs)].flat();
    const got = [inference.predict(inputs.length === 1 ? inputs[0] : inputs)].flat();
    assert.equal(got.length, want.length, 'number of outputs');
    got.forEach((g, i) => {
      assert.deepEqual(g.shape, want[i].shape, `output ${i} shape`);
      const d = relativeDiff(g.dataSync() as Float32Array, want[i].dataSync() as Float32Array);
      assert.ok(d < tolerance, `${model.name} output ${i}: relative difference ${d.toExponential(2)} >= ${tolerance}`);
    });
    tf.dispose([...want, ...got]);
  } finally {
    inference.dispose();
  }
}

test('every backbone gives TF.js predict()\'s outputs through the graph engine', { skip, timeout: 300_000 }, () => {
  const sizes: Record<string, number> = { inceptionresnetv2: 75 };
  for (const name of BACKBONE_NAMES) {
    const size = sizes[name] ?? 64;
    const model = getBackbone(name).build({ inputSize: size, pooling: 'avg' });
    randomiseBatchNorm(model, 3);
    const x = tf.randomUniform([2, size, size, 3], -1, 1, 'float32', 5);
    assertSamePredictions(model, [x]);
    tf.dispose(x);
    model.dispose();
  }
});

test('the lung U-Net runs as a graph (upsampling and skip concatenation) with TF.js predict()\'s outputs', { skip }, () => {
  const model = buildUnet({ size: 32, channels: [4, 8, 16] }, 7);
  randomiseBatchNorm(model, 21);
  const x = tf.randomNormal([3, 32, 32, 1], 0, 1, 'float32', 9);
  assertSamePredictions(model, [x]);
  tf.dispose(x);
  model.dispose();
});

/** One model with every layer kind the translation covers, two inputs and two outputs. */
function everyLayerModel(): tf.LayersModel {
  const a = tf.input({ shape: [20, 20, 3], name: 'image' });
  const b = tf.input({ shape: [10, 10, 8], name: 'features' });
  const c1 = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: true, name: 'c1' }).apply(a) as tf.SymbolicTensor;
  const bn1 = frozenBatchNorm({ name: 'bn1' }).apply(c1) as tf.SymbolicTensor; // folded: c1's only user
  const r1 = tf.layers.activation({ activation: 'relu', name: 'r1' }).apply(bn1) as tf.SymbolicTensor;
  const c2 = tf.layers.conv2d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'relu', name: 'c2' }).apply(r1) as tf.SymbolicTensor;
  const c3 = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'c3' }).apply(c2) as tf.SymbolicTensor;
  const bn3 = frozenBatchNorm({ name: 'bn3', scale: false }).apply(c3) as tf.SymbolicTensor; // not folded: c3 has two users
  const sep = tf.layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'sep' }).apply(c3) as tf.SymbolicTensor;
  const bns = frozenBatchNorm({ name: 'bns' }).apply(sep) as tf.SymbolicTensor;
  const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu6', name: 'dw' }).apply(b) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'sum' }).apply([bn3, bns, dw]) as tf.SymbolicTensor;
  const pool = tf.layers.avgPool2d({ poolSize: 3, strides: 1, padding: 'same', name: 'avg_same' }).apply(sum) as tf.SymbolicTensor;
  const bnp = tf.layers.batchNormalization({ name: 'bn_plain' }).apply(pool) as tf.SymbolicTensor; // standalone: Mul + Add
  const scaled = new CustomScaleLayer({ scale: 0.17, name: 'scaled' }).apply([sum, bnp]) as tf.SymbolicTensor;
  const padded = tf.layers.zeroPadding2d({ padding: [[0, 1], [1, 2]], name: 'pad' }).apply(scaled) as tf.SymbolicTensor;
  const cropped = tf.layers.cropping2D({ cropping: [[1, 0], [2, 1]], name: 'crop' }).apply(padded) as tf.SymbolicTensor;
  const mx = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: 'max_valid' }).apply(cropped) as tf.SymbolicTensor;
  const av = tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: 'avg_valid' }).apply(cropped) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate({ name: 'cat' }).apply([mx, av]) as tf.SymbolicTensor;
  const upn = tf.layers.upSampling2d({ size: [2, 2], name: 'up_nearest' }).apply(mx) as tf.SymbolicTensor;
  const upb = tf.layers.upSampling2d({ size: [2, 3], interpolation: 'bilinear', name: 'up_bilinear' }).apply(av) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(cat) as tf.SymbolicTensor;
  const gmp = tf.layers.globalMaxPooling2d({ name: 'gmp' }).apply(cat) as tf.SymbolicTensor;
  const flat = tf.layers.flatten({ name: 'flat' }).apply(mx) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate({ name: 'joined' }).apply([gap, gmp, flat]) as tf.SymbolicTensor;
  const dropped = new SeededDropout({ rate: 0.5, seed: 1, name: 'drop' }).apply(joined) as tf.SymbolicTensor;
  let h = tf.layers.dropout({ rate: 0.3, name: 'drop_tfjs' }).apply(dropped) as tf.SymbolicTensor;
  for (const act of ['elu', 'selu', 'tanh', 'softplus', 'swish', 'sigmoid'] as const) {
    h = tf.layers.dense({ units: 6, activation: act, name: `dense_${act}` }).apply(h) as tf.SymbolicTensor;
  }
  const probs = tf.layers.dense({ units: 3, activation: 'softmax', name: 'probs' }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: [a, b], outputs: [probs, cat, upn, upb], name: 'every_layer' });
}

test('every layer kind, two inputs and two outputs, with folded and unfolded BatchNorm', { skip }, () => {
  const model = everyLayerModel();
  randomiseBatchNorm(model, 11);
  const inputs = [tf.randomUniform([3, 20, 20, 3], -1, 1, 'float32', 1), tf.randomUniform([3, 10, 10, 8], -1, 1, 'float32', 2)];
  assertSamePredictions(model, inputs);
  // Folding happened where it may and not where it may not.
  const graph = modelGraph(model);
  const names = new TextDecoder('latin1').decode(graph.graphDef.finish());
  disposeGraph(graph);
  assert.ok(!names.includes('bn1/'), 'bn1 folded into c1');
  assert.ok(names.includes('bn3/mul'), 'bn3 not folded: c3 feeds sep too');
  tf.dispose(inputs);
  model.dispose();
});

test('a layer it cannot translate falls back to TF.js predict() and says which', { skip }, () => {
  const x = tf.input({ shape: [4, 4, 2] });
  const swapped = tf.layers.permute({ dims: [2, 1, 3], name: 'swap' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: x, outputs: tf.layers.globalAveragePooling2d({}).apply(swapped) as tf.SymbolicTensor });
  const inference = compileInference(model);
  assert.equal(inference.engine, 'tfjs');
  assert.match(inference.reason ?? '', /swap: layer class Permute/);
  const input = tf.randomUniform([2, 4, 4, 2], 0, 1, 'float32', 3);
  assert.deepEqual((inference.predict(input) as tf.Tensor).arraySync(), (model.predict(input) as tf.Tensor).arraySync());
  assert.equal(compileInference(model, { graph: false }).reason, 'graph inference turned off');
});

test('a compiled model is a snapshot of the weights; bad input and use after dispose are errors', { skip }, () => {
  const x = tf.input({ shape: [6, 6, 1] });
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, name: 'k' });
  const model = tf.model({ inputs: x, outputs: tf.layers.flatten({}).apply(conv.apply(x) as tf.SymbolicTensor) as tf.SymbolicTensor });
  const input = tf.randomUniform([1, 6, 6, 1], 0, 1, 'float32', 4);
  const inference = compileInference(model);
  const before = (inference.predict(input) as tf.Tensor).arraySync();
  conv.setWeights(conv.getWeights().map((w) => tf.mul(w, 2)));
  assert.deepEqual((inference.predict(input) as tf.Tensor).arraySync(), before);
  assert.throws(() => inference.predict(tf.zeros([1, 5, 6, 1])), /expected shape \[N,6,6,1\], got \[1,5,6,1\]/);
  inference.dispose();
  assert.throws(() => inference.predict(input), /disposed/);
});

test('the SavedModel it writes is standard: tfjs-node\'s own reader finds its tag and signature', { skip }, async () => {
  const model = everyLayerModel();
  const graph = modelGraph(model);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-test-graph-'));
  try {
    fs.writeFileSync(path.join(dir, 'saved_model.pb'), savedModelProto(graph));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { node } = require('@tensorflow/tfjs-node') as { node: { getMetaGraphsFromSavedModel(p: string): Promise<{ tags: string[]; signatureDefs: Record<string, { inputs: Record<string, { dtype: string; shape: { getSize(): number }[] }>; outputs: Record<string, unknown> }> }[]> } };
    const [meta] = await node.getMetaGraphsFromSavedModel(dir);
    assert.deepEqual(meta.tags, ['serve']);
    const signature = meta.signatureDefs.serving_default;
    assert.deepEqual(Object.keys(signature.inputs).sort(), ['input_0', 'input_1']);
    assert.deepEqual(Object.keys(signature.outputs).sort(), ['output_0', 'output_1', 'output_2', 'output_3']);
    assert.equal(signature.inputs.input_0.dtype, 'float32');
    assert.deepEqual(signature.inputs.input_0.shape.map((d) => d.getSize()), [-1, 20, 20, 3]);
    // Each weight fed once (c3's convolution, with two users, is emitted once), none baked in as a constant.
    const names = graph.weights.map((w) => w.name);
    assert.equal(new Set(names).size, names.length);
    assert.equal(names.filter((n) => n.startsWith('c3/')).length, 1);
    assert.equal(names.length, 28);
    assert.ok(fs.statSync(path.join(dir, 'saved_model.pb')).size < 64 * 1024);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    disposeGraph(graph);
    model.dispose();
  }
});

test('protobuf wire format: varints, negative int64, fixed32 floats, packed ints, strings', () => {
  const hex = (m: Message) => Buffer.from(m.finish()).toString('hex');
  // Values from the Protocol Buffers encoding guide.
  assert.equal(hex(new Message().int(1, 150)), '089601');
  assert.equal(hex(new Message().string(2, 'testing')), '120774657374696e67');
  assert.equal(hex(new Message().packedInts(4, [3, 270, 86942])), '2206038e029ea705');
  assert.equal(hex(new Message().int(1, -2)), '08feffffffffffffffff01');
  assert.equal(hex(new Message().float(4, 1.5)), '250000c03f');
  assert.equal(hex(new Message().bool(5, true)), '2801');
  const inner = new Message().int(1, 150);
  assert.equal(hex(new Message().message(3, inner)), '1a03089601');
  assert.equal(hex(new Message().mapStringEntry(4, 'a', 'b')), '22060a0161120162');
});
