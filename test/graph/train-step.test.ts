// Training steps as one TensorFlow graph (lib/graph/train-step.ts, loss.ts, gradients.ts): the step must do
// what TF.js's eager step does — same loss, same gradients, same Adam state — on every layer kind the backbones
// and heads use. Needs the native backend, which the project's set-up provides everywhere;
// CXR_SKIP_NATIVE_TESTS=1 skips these tests.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { CustomScaleLayer } from '../../lib/models/layers';
import { frozenBatchNorm } from '../../lib/models/layers-bn';
import { adamInternals } from '../../lib/graph/adam-state';
import { trainingGraph } from '../../lib/graph/def';
import { addGradients } from '../../lib/graph/gradients';
import { BACKBONE_NAMES, getBackbone } from '../../lib/models/registry';
import { attachHead, SeededDropout, STUDY_HEAD } from '../../lib/train/head';
import { compileTrainingStep, type LossKind, type TrainingStep } from '../../lib/train/step';
import { taskSpec } from '../../lib/train/tasks';
import { relativeDiff } from '../models/parity';

const skip = process.env.CXR_SKIP_NATIVE_TESTS === '1' ? 'CXR_SKIP_NATIVE_TESTS=1' : false;

before(async () => {
  if (!skip) await initBackend({ backend: 'tensorflow', quiet: true });
});

const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;

/** Every layer kind the training graph covers, two inputs (as a NASNet cut has), one output. */
function everyLayerModel(units: number, pooling: 'avg' | 'max', seed: number): tf.LayersModel {
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const a = tf.input({ shape: [12, 12, 3], name: 'image' });
  const b = tf.input({ shape: [6, 6, 4], name: 'features' });
  const c1 = apply(tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init(), name: 'c1' }), a);
  const bn1 = apply(frozenBatchNorm({ name: 'bn1' }), c1);
  const r1 = apply(tf.layers.activation({ activation: 'relu', name: 'r1' }), bn1);
  const c2 = apply(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'elu', kernelInitializer: init(), name: 'c2' }), r1);
  const sep = apply(tf.layers.separableConv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: init(), pointwiseInitializer: init(), name: 'sep' }), c2);
  const bns = apply(frozenBatchNorm({ name: 'bns', scale: false }), sep);
  const dw = apply(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu6', depthwiseInitializer: init(), name: 'dw' }), b);
  const sum = apply(tf.layers.add({ name: 'sum' }), [bns, dw, c2]);
  // After an Add there is no convolution to fold into: this one stays a FusedBatchNormV3.
  const bnAdd = apply(frozenBatchNorm({ name: 'bn_add' }), sum);
  const scaled = apply(new CustomScaleLayer({ scale: 0.3, name: 'scaled' }), [bnAdd, c2]);
  const padded = apply(tf.layers.zeroPadding2d({ padding: [[0, 1], [1, 2]], name: 'pad' }), scaled);
  const cropped = apply(tf.layers.cropping2D({ cropping: [[1, 0], [2, 1]], name: 'crop' }), padded);
  const mx = apply(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: 'max' }), cropped);
  const av = apply(tf.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'avg' }), mx);
  const cat = apply(tf.layers.concatenate({ name: 'cat' }), [mx, av]);
  const act = apply(tf.layers.activation({ activation: 'tanh', name: 'tanh' }), cat);
  const pooled = apply(pooling === 'avg' ? tf.layers.globalAveragePooling2d({ name: 'gap' }) : tf.layers.globalMaxPooling2d({ name: 'gmp' }), act);
  const flat = apply(tf.layers.flatten({ name: 'flat' }), mx);
  // A U-Net's way up: nearest and bilinear upsampling joined to an earlier map.
  const upn = apply(tf.layers.upSampling2d({ size: [2, 2], name: 'up_nearest' }), mx);
  const upb = apply(tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear', name: 'up_bilinear' }), av);
  const grown = apply(tf.layers.flatten({ name: 'grown' }), apply(tf.layers.concatenate({ name: 'up_cat' }), [upn, upb, cropped]));
  const joined = apply(tf.layers.concatenate({ name: 'joined' }), [pooled, flat, grown]);
  const dropped = apply(new SeededDropout({ rate: 0.4, seed: 3, name: 'drop' }), joined);
  let h = dropped;
  for (const kind of ['selu', 'softplus', 'swish', 'sigmoid'] as const) {
    h = apply(tf.layers.dense({ units: 5, activation: kind, kernelInitializer: init(), name: `dense_${kind}` }), h);
  }
  const out = apply(tf.layers.dense({ units, activation: units === 1 ? 'sigmoid' : 'softmax', kernelInitializer: init(), name: 'out' }), h);
  const model = tf.model({ inputs: [a, b], outputs: out, name: `every_layer_${units}` });
  // Non-trivial frozen statistics and affine parameters.
  let s = 100 + seed;
  for (const w of model.weights) {
    const kind = w.originalName.split('/').pop();
    if (kind === 'moving_mean' || kind === 'beta') w.write(tf.randomNormal(w.shape as number[], 0, 0.2, 'float32', s++));
    if (kind === 'moving_variance' || kind === 'gamma') w.write(tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', s++));
  }
  return model;
}

interface Setup {
  model: tf.LayersModel;
  vars: tf.Variable[];
  optimizer: tf.AdamOptimizer;
  steps: TrainingStep;
}

/** A model, its trainable variables and Adam (ε large, so updates follow gradients smoothly, not their signs). */
function setup(units: number, pooling: 'avg' | 'max', graph: boolean, epsilon = 0.1): Setup {
  const model = everyLayerModel(units, pooling, 1);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.adam(0.01, 0.9, 0.999, epsilon);
  const task = taskSpec(units === 1 ? 'binary' : 'multiclass');
  const loss: LossKind = units === 1 ? 'binaryCrossentropy' : 'categoricalCrossentropy';
  const steps = compileTrainingStep(model, { vars, optimizer, loss, lossFn: (y, p) => task.loss(y as tf.Tensor2D, p as tf.Tensor2D), graph });
  return { model, vars, optimizer, steps };
}

function batch(units: number, n: number, seed: number): { x: tf.Tensor[]; y: tf.Tensor } {
  const x = [tf.randomUniform([n, 12, 12, 3], -1, 1, 'float32', seed), tf.randomUniform([n, 6, 6, 4], -1, 1, 'float32', seed + 1)];
  const labels = tf.randomUniform([n], 0, units === 1 ? 2 : units, 'int32', seed + 2) as tf.Tensor1D;
  const y = units === 1 ? labels.reshape([n, 1]).toFloat() : tf.oneHot(labels, units).toFloat();
  labels.dispose();
  return { x, y };
}

async function assertClose(got: tf.Tensor, want: tf.Tensor, tolerance: number, what: string): Promise<void> {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const d = relativeDiff((await got.data()) as Float32Array, (await want.data()) as Float32Array);
  assert.ok(d < tolerance, `${what}: relative difference ${d.toExponential(2)} >= ${tolerance}`);
}

for (const [units, pooling] of [[1, 'avg'], [3, 'max']] as const) {
  test(`graph steps match TF.js eager steps: ${units === 1 ? 'binary (sigmoid)' : '3-class (softmax)'} head, global ${pooling} pooling`, { skip, timeout: 120_000 }, async () => {
    const graph = setup(units, pooling, true);
    const eager = setup(units, pooling, false);
    assert.equal(graph.steps.engine, 'tensorflow-graph', graph.steps.reason);
    assert.equal(eager.steps.engine, 'tfjs');
    // Batches of different sizes: the graph's batch dimension is free.
    for (const [i, n] of [5, 5, 3, 5].entries()) {
      const { x, y } = batch(units, n, 10 * i);
      const g = await graph.steps.step(x, y, i);
      const e = await eager.steps.step(x, y, i);
      assert.ok(Math.abs(g.loss - e.loss) < 1e-5 * Math.max(1, Math.abs(e.loss)), `step ${i}: loss ${g.loss} vs ${e.loss}`);
      await assertClose(g.output, e.output, 1e-4, `step ${i} outputs`);
      tf.dispose([g.output, e.output, ...x, y]);
    }
    await graph.steps.sync();
    // Weights (every trained variable), Adam's moments and its step count and powers all agree after sync().
    for (const [i, v] of graph.vars.entries()) await assertClose(v, eager.vars[i], 1e-3, `weight ${v.name}`);
    const [go, eo] = [await graph.optimizer.getWeights(), await eager.optimizer.getWeights()];
    assert.equal(go.length, eo.length);
    for (const [i, w] of go.entries()) {
      assert.equal(w.name.replace(/_\d+\//, '/'), eo[i].name.replace(/_\d+\//, '/'));
      await assertClose(w.tensor, eo[i].tensor, 1e-3, `optimizer ${w.name}`);
    }
    assert.equal(graph.optimizer.iterations, 4);
    assert.equal(adamInternals(graph.optimizer).accBeta1.dataSync()[0], adamInternals(eager.optimizer).accBeta1.dataSync()[0]);
    assert.equal(adamInternals(graph.optimizer).accBeta2.dataSync()[0], adamInternals(eager.optimizer).accBeta2.dataSync()[0]);
    // Inference: dropout off, current weights, as the model's own predict.
    const { x } = batch(units, 4, 99);
    const p = graph.steps.predict(x);
    const want = graph.model.predict(x) as tf.Tensor;
    await assertClose(p, want, 1e-4, 'predict after sync');
    tf.dispose([p, want, ...x]);
    graph.steps.dispose();
    await assert.rejects(graph.steps.step(x, x[0], 0), /disposed/);
  });
}

test('every backbone with the study head trains through the graph: its first step\'s loss and outputs are TF.js\'s', { skip, timeout: 300_000 }, async () => {
  const task = taskSpec('multiclass');
  for (const name of BACKBONE_NAMES) {
    const size = name === 'inceptionresnetv2' ? 75 : 64;
    const model = attachHead(getBackbone(name).build({ inputSize: size, pooling: 'none' }), task, STUDY_HEAD, 1);
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const opts = { vars, loss: 'categoricalCrossentropy' as const, lossFn: (y: tf.Tensor, p: tf.Tensor) => task.loss(y as tf.Tensor2D, p as tf.Tensor2D) };
    const graph = compileTrainingStep(model, { ...opts, optimizer: tf.train.adam(1e-3) });
    assert.equal(graph.engine, 'tensorflow-graph', `${name}: ${graph.reason}`);
    const x = [tf.randomUniform([2, size, size, 3], -1, 1, 'float32', 1)];
    const y = tf.tensor2d([[1, 0, 0], [0, 0, 1]]);
    const g = await graph.step(x, y, 0);
    // A step's loss and outputs are its forward pass, which TF.js runs here from the same weights (the graph's
    // update is still in its session) with the same dropout masks; the gradient rules are the other tests' subject.
    const e = tf.tidy(() => model.apply(x[0], { training: true, noiseStep: 0 }) as tf.Tensor);
    const eLoss = tf.tidy(() => task.loss(y, e as tf.Tensor2D).dataSync()[0]);
    assert.ok(Math.abs(g.loss - eLoss) < 1e-5, `${name}: loss ${g.loss} vs ${eLoss}`);
    await assertClose(g.output, e, 1e-4, `${name} outputs`);
    tf.dispose([g.output, e, ...x, y]);
    graph.dispose();
    model.dispose();
  }
});

test('a session continued from synced state takes the same steps as one that never stopped', { skip, timeout: 120_000 }, async () => {
  const straight = setup(3, 'avg', true, 1e-7);
  const split = setup(3, 'avg', true, 1e-7);
  const losses: number[][] = [[], []];
  for (let i = 0; i < 4; i++) {
    const { x, y } = batch(3, 4, 7 * i);
    const a = await straight.steps.step(x, y, i);
    if (i === 2) {
      // What the trainer does at an epoch's end, and a resumed run at its start.
      await split.steps.sync();
      split.steps.dispose();
      split.steps = compileTrainingStep(split.model, {
        vars: split.vars, optimizer: split.optimizer, loss: 'categoricalCrossentropy', lossFn: () => tf.scalar(0),
      });
    }
    const b = await split.steps.step(x, y, i);
    losses[0].push(a.loss);
    losses[1].push(b.loss);
    tf.dispose([a.output, b.output, ...x, y]);
  }
  await straight.steps.sync();
  await split.steps.sync();
  assert.deepEqual(losses[1], losses[0]);
  for (const [i, v] of straight.vars.entries()) await assertClose(split.vars[i], v, 1e-6, `weight ${v.name}`);
  straight.steps.dispose();
  split.steps.dispose();
});

test('frozen BatchNorm after a convolution is folded into it in the training graph; after an Add it is not', { skip }, () => {
  const model = everyLayerModel(1, 'avg', 1);
  const ops = (env: string | undefined) => {
    const saved = process.env.CXR_GRAPH_FOLD_BN;
    if (env === undefined) delete process.env.CXR_GRAPH_FOLD_BN;
    else process.env.CXR_GRAPH_FOLD_BN = env;
    try {
      return new Map(trainingGraph(model).records.map((r) => [r.name, r.op]));
    } finally {
      if (saved === undefined) delete process.env.CXR_GRAPH_FOLD_BN;
      else process.env.CXR_GRAPH_FOLD_BN = saved;
    }
  };
  const folded = ops(undefined);
  // bn1 follows c1, bns follows the separable sep (folded into its pointwise kernel); bn_add follows an Add.
  for (const bn of ['bn1', 'bns']) {
    assert.equal(folded.get(`${bn}/fold_kernel`), 'Mul', `${bn} folded`);
    assert.ok(![...folded.keys()].some((n) => n === bn), `${bn}: no FusedBatchNormV3`);
  }
  assert.equal(folded.get('bn_add'), 'FusedBatchNormV3');
  const plain = ops('0');
  assert.equal(plain.get('bn1'), 'FusedBatchNormV3', 'CXR_GRAPH_FOLD_BN=0 keeps it');
  assert.ok(!plain.has('bn1/fold_kernel'));
  model.dispose();
});

/** Convolutions in each form whose input gradient the graph writes as a MatMul or a Conv2D, and in forms it does not. */
function convZooModel(): tf.LayersModel {
  let seed = 40;
  const conv = (name: string, kernelSize: number | [number, number], strides: number, padding: 'same' | 'valid', x: tf.SymbolicTensor) =>
    apply(tf.layers.conv2d({ filters: 3, kernelSize, strides, padding, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }), name }), x);
  const image = tf.input({ shape: [9, 9, 2], name: 'image' });
  const stem = conv('stem', 3, 1, 'same', image);
  const odd = conv('pw_s2_odd', 1, 2, 'valid', stem); // 9 → 5: the spread grid is cropped
  const k3 = conv('k3_same', 3, 1, 'same', odd);
  const pw = conv('pw', 1, 1, 'valid', k3);
  const k17 = conv('k1x7_same', [1, 7], 1, 'same', pw);
  const s3 = conv('pw_s3_same', 1, 3, 'same', k17); // 5 → 2
  const valid = conv('k3_valid', 3, 1, 'valid', k17); // 5 → 3: Conv2DBackpropInput
  const even = conv('k2_same', 2, 1, 'same', valid); // Conv2DBackpropInput
  const s2k3 = conv('k3_s2', 3, 2, 'same', even); // 3 → 2: Conv2DBackpropInput
  const last = conv('pw_s2_even', 1, 2, 'same', s2k3); // 2 → 1
  const flat = [s3, last].map((t, i) => apply(tf.layers.flatten({ name: `flat_${i}` }), t));
  const out = apply(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed }), name: 'out' }), apply(tf.layers.concatenate({ name: 'cat' }), flat));
  return tf.model({ inputs: image, outputs: out, name: 'conv_zoo' });
}

test('convolution input gradients written as matrix products and forward convolutions train as TF.js does', { skip, timeout: 120_000 }, async () => {
  const tg = trainingGraph(convZooModel());
  addGradients(tg.builder, tg.records, new Map([[tg.outputs[0], tg.builder.placeholder('seed', [-1, 3])]]), tg.builder.variables.map((v) => v.read));
  const backprop = (op: string) => tg.builder.records.filter((r) => r.op === op).map((r) => r.name.split('/')[0]).sort();
  assert.deepEqual(backprop('Conv2DBackpropInput'), ['k2_same', 'k3_s2', 'k3_valid']);
  assert.equal(backprop('Conv2DBackpropFilter').length, 10, 'every filter gradient is TensorFlow\'s');
  const runs = [true, false].map((graph) => {
    const model = convZooModel();
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const optimizer = tf.train.adam(0.01, 0.9, 0.999, 0.1);
    const steps = compileTrainingStep(model, { vars, optimizer, loss: 'categoricalCrossentropy', graph, lossFn: (y, p) => taskSpec('multiclass').loss(y as tf.Tensor2D, p as tf.Tensor2D) });
    return { model, vars, steps };
  });
  assert.equal(runs[0].steps.engine, 'tensorflow-graph', runs[0].steps.reason);
  for (let i = 0; i < 3; i++) {
    const x = [tf.randomUniform([4, 9, 9, 2], -1, 1, 'float32', 60 + i)];
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, i], 'int32'), 3).toFloat();
    const [g, e] = [await runs[0].steps.step(x, y, i), await runs[1].steps.step(x, y, i)];
    assert.ok(Math.abs(g.loss - e.loss) < 1e-5, `step ${i}: loss ${g.loss} vs ${e.loss}`);
    tf.dispose([g.output, e.output, ...x, y]);
  }
  await runs[0].steps.sync();
  for (const [i, v] of runs[0].vars.entries()) await assertClose(v, runs[1].vars[i], 1e-4, `weight ${v.name}`);
  runs[0].steps.dispose();
});

test('the loss falls when a graph step trains a small model', { skip, timeout: 120_000 }, async () => {
  const { steps } = setup(1, 'avg', true, 1e-7);
  // Labels that depend on the image: positive when its mean is above zero.
  const x = [tf.randomUniform([16, 12, 12, 3], -1, 1, 'float32', 5).add(tf.randomUniform([16, 1, 1, 1], -0.5, 0.5, 'float32', 6)), tf.zeros([16, 6, 6, 4])];
  const y = x[0].mean([1, 2, 3]).greater(0).toFloat().reshape([16, 1]);
  const losses: number[] = [];
  for (let i = 0; i < 30; i++) {
    const r = await steps.step(x, y, i);
    r.output.dispose();
    losses.push(r.loss);
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(mean(losses.slice(-5)) < 0.6 * mean(losses.slice(0, 5)), `loss ${losses.map((l) => l.toFixed(3)).join(' ')}`);
  await assert.rejects(steps.step([tf.zeros([2, 11, 12, 3]), tf.zeros([2, 6, 6, 4])], tf.zeros([2, 1]), 0), /input 0: expected shape \[N,12,12,3\], got \[2,11,12,3\]/);
  steps.dispose();
});

// tfjs-node wraps a tensor made from a suitably aligned typed array around that JavaScript memory instead of copying
// it. A session variable that kept such a buffer would be updated in place, and its last reference could drop on a
// TensorFlow worker thread, calling back into Node.js off its thread (heap corruption). Views at 16 offsets make one
// of them aligned however the buffer was allocated: none may be written through, nor read after the session copied it.
test('session variables never keep JavaScript memory: initial values are copied in', { skip, timeout: 60_000 }, async () => {
  const memory = new Float32Array(16 + 4);
  for (let offset = 0; offset < 16; offset++) {
    const x = tf.input({ shape: [4] });
    const model = tf.model({ inputs: x, outputs: apply(tf.layers.dense({ units: 1, activation: 'sigmoid', useBias: false }), x) });
    memory.set([0.5, -0.25, 0.125, 1], offset);
    const view = new Float32Array(memory.buffer, offset * 4, 4);
    model.weights[0].write(tf.tensor2d(view, [4, 1]));
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const steps = compileTrainingStep(model, {
      vars, optimizer: tf.train.adam(0.1), loss: 'binaryCrossentropy', graph: true,
      lossFn: (y, p) => taskSpec('binary').loss(y as tf.Tensor2D, p as tf.Tensor2D),
    });
    assert.equal(steps.engine, 'tensorflow-graph', steps.reason);
    const input = tf.tensor2d([[1, 2, 3, 4]]);
    const before = steps.predict([input]);
    view.fill(100);
    const after = steps.predict([input]);
    assert.deepEqual(await after.data(), await before.data(), `offset ${offset}: the session reads the JavaScript array`);
    view.set([0.5, -0.25, 0.125, 1]);
    const label = tf.tensor2d([[0]]);
    const r = await steps.step([input], label, 0);
    assert.deepEqual([...view], [0.5, -0.25, 0.125, 1], `offset ${offset}: a training step wrote into the JavaScript array`);
    tf.dispose([input, label, before, after, r.output]);
    steps.dispose();
    model.dispose();
  }
});

test('a layer without a training translation falls back to TF.js eager steps and says which', { skip }, async () => {
  const x = tf.input({ shape: [4] });
  const h = apply(tf.layers.dropout({ rate: 0.5, name: 'plain_dropout' }), x);
  const model = tf.model({ inputs: x, outputs: apply(tf.layers.dense({ units: 1, activation: 'sigmoid' }), h) });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opts = { vars, optimizer: tf.train.adam(0.01), loss: 'binaryCrossentropy' as const, lossFn: (y: tf.Tensor, p: tf.Tensor) => taskSpec('binary').loss(y as tf.Tensor2D, p as tf.Tensor2D) };
  const steps = compileTrainingStep(model, opts);
  assert.equal(steps.engine, 'tfjs');
  assert.match(steps.reason ?? '', /plain_dropout: Dropout in training \(only SeededDropout\)/);
  const r = await steps.step([tf.ones([2, 4])], tf.ones([2, 1]), 0);
  assert.ok(Number.isFinite(r.loss));
  assert.equal(compileTrainingStep(model, { ...opts, graph: false }).reason, 'graph training turned off');
});
