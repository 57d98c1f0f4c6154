import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import {
  gradCamLayer,
  gradCamMaps,
  gradCamModel,
  jet,
  massInBox,
  overlayHeatmap,
  selectExamples,
  upsampleMap,
} from '../../lib/eval/gradcam';
import { Rng } from '../../lib/random';

// The fastest backend that works (native TensorFlow after `npm run setup`): the test trains a small net.
before(async () => {
  await initBackend({ quiet: true });
});

const SIZE = 32;

/** Noise images; class 1 adds a bright 6×6 square somewhere in the left half, class 0 has none. */
function squares(n: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor2D; squareAt: ([number, number] | null)[] } {
  const rng = new Rng(seed, 'squares');
  const data = new Float32Array(n * SIZE * SIZE * 3);
  const labels: number[] = [];
  const squareAt: ([number, number] | null)[] = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    labels.push(cls);
    const at: [number, number] | null = cls ? [1 + rng.int(SIZE / 2 - 8), 1 + rng.int(SIZE - 8)] : null;
    squareAt.push(at);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        let v = rng.next() * 0.3;
        if (at && x >= at[0] && x < at[0] + 6 && y >= at[1] && y < at[1] + 6) v = 1;
        for (let c = 0; c < 3; c++) data[((i * SIZE + y) * SIZE + x) * 3 + c] = v;
      }
    }
  }
  return { x: tf.tensor4d(data, [n, SIZE, SIZE, 3]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), 2).toFloat() as tf.Tensor2D, squareAt };
}

function squareNet(seed: number, output: 'softmax' | 'sigmoid'): tf.LayersModel {
  const init = (k: number) => tf.initializers.heNormal({ seed: seed * 10 + k });
  const input = tf.input({ shape: [SIZE, SIZE, 3] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'conv1' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', strides: 2, activation: 'relu', kernelInitializer: init(2), name: 'conv2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'head_pool' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: output === 'softmax' ? 2 : 1, activation: output, kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 10 + 3 }), name: 'head_output' })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

test('the Grad-CAM layer is the head pooling input unless a present layer is named', () => {
  const m = squareNet(1, 'softmax');
  assert.equal(gradCamLayer(m), 'conv2');
  assert.equal(gradCamLayer(m, 'conv1'), 'conv1');
  assert.equal(gradCamLayer(m, 'conv5_block3_out'), 'conv2');
});

test('Grad-CAM of a trained net puts the evidence for "square" on the square, in the left half', { timeout: 120_000 }, async () => {
  const model = squareNet(3, 'softmax');
  const train = squares(96, 1);
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  await model.fit(train.x, train.y, { epochs: 40, batchSize: 16, shuffle: false, verbose: 0 });
  const testSet = squares(24, 2);
  const probs = (model.predict(testSet.x) as tf.Tensor2D).arraySync();
  const acc = probs.filter((p, i) => (p[1] > p[0] ? 1 : 0) === i % 2).length / probs.length;
  assert.ok(acc >= 0.9, `the net learned the task (accuracy ${acc})`);

  const gc = gradCamModel(model);
  assert.equal(gc.layer, 'conv2');
  const classIndex = testSet.squareAt.map(() => 1);
  const maps = gradCamMaps(gc, testSet.x, classIndex);
  assert.equal(maps.width, SIZE / 2);
  let leftMass = 0;
  let onSquare = 0;
  let count = 0;
  testSet.squareAt.forEach((at, i) => {
    if (!at) return;
    assert.ok(Math.abs(Math.max(...maps.maps[i]) - 1) < 1e-5, 'maps are scaled to a maximum of 1');
    const heat = upsampleMap(maps.maps[i], maps.width, maps.height, SIZE, SIZE);
    leftMass += massInBox(heat, SIZE, SIZE, { left: 0, top: 0, right: 0.5, bottom: 1 });
    // A generous box around the square (the last map is half resolution and upsampled).
    const box = { left: (at[0] - 3) / SIZE, top: (at[1] - 3) / SIZE, right: (at[0] + 9) / SIZE, bottom: (at[1] + 9) / SIZE };
    onSquare += massInBox(heat, SIZE, SIZE, box);
    count++;
  });
  console.log(`heat mass: left half ${(leftMass / count).toFixed(3)}, around the square ${(onSquare / count).toFixed(3)}`);
  assert.ok(leftMass / count > 0.85, `mean heat mass in the left half ${leftMass / count}`);
  assert.ok(onSquare / count > 0.5, `mean heat mass around the square ${onSquare / count}`);
  tf.dispose([train.x, train.y, testSet.x, testSet.y]);
});

test('scores are logits: softmax log-ratios match, a sigmoid unit gives [z, −z]', () => {
  const x = squares(4, 5).x;
  for (const kind of ['softmax', 'sigmoid'] as const) {
    const model = squareNet(7, kind);
    const gc = gradCamModel(model);
    assert.equal(gc.classes, 2);
    const s = tf.tidy(() => gc.scores(gc.features(x)).arraySync());
    const p = (model.predict(x) as tf.Tensor2D).arraySync();
    s.forEach((row, i) => {
      if (kind === 'sigmoid') {
        assert.ok(Math.abs(row[0] + row[1]) < 1e-6);
        assert.ok(Math.abs(row[0] - Math.log(p[i][0] / (1 - p[i][0]))) < 1e-4);
      } else {
        assert.ok(Math.abs(row[1] - row[0] - Math.log(p[i][1] / p[i][0])) < 1e-4);
      }
    });
  }
  assert.throws(() => gradCamMaps(gradCamModel(squareNet(1, 'softmax')), x, [0, 1, 2, 0]), /class index 2/);
});

test('upsampling, colour map and overlay', () => {
  const constant = upsampleMap(new Float32Array([0.5, 0.5, 0.5, 0.5]), 2, 2, 5, 3);
  assert.ok(constant.every((v) => Math.abs(v - 0.5) < 1e-7));
  // 2 → 4 with half-pixel centres: edges clamp, inner pixels interpolate by 1/4 and 3/4 (as cv2.resize).
  assert.deepEqual(Array.from(upsampleMap(new Float32Array([0, 1]), 2, 1, 4, 1)), [0, 0.25, 0.75, 1]);
  assert.deepEqual(jet(0), [0, 0, 128]);
  assert.deepEqual(jet(1), [128, 0, 0]);
  assert.deepEqual(jet(0.5), [128, 255, 128]);
  const grey = new Uint8Array([0, 100, 200, 255]);
  const heat = new Float32Array([0, 0.25, 0.75, 1]);
  const same = overlayHeatmap(grey, 2, 2, 1, heat, { alpha: 0 });
  assert.deepEqual(Array.from(same), [0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]);
  const colour = overlayHeatmap(grey, 2, 2, 1, heat, { alpha: 1 });
  assert.deepEqual(Array.from(colour.subarray(9)), jet(1));
  const half = overlayHeatmap(grey, 2, 2, 1, heat, { alpha: 0.5 });
  assert.deepEqual(Array.from(half.subarray(3, 6)), jet(0.25).map((c) => Math.round(0.5 * 100 + 0.5 * c)));
  assert.throws(() => overlayHeatmap(grey, 2, 2, 3, heat), /values for 2×2×3/);
});

test('examples: the most confident correct and wrong predictions of each class', () => {
  const p = (file: string, label: number, probs: number[]) => ({ file, patientId: file, label, probs });
  const preds = [
    p('a', 0, [0.9, 0.1]),
    p('b', 0, [0.6, 0.4]),
    p('c', 0, [0.2, 0.8]),
    p('d', 1, [0.3, 0.7]),
    p('e', 1, [0.1, 0.9]),
    p('f', 0, [0.99, 0.01]),
  ];
  const groups = selectExamples(preds, 2, 2);
  const files = (label: number, kind: string) => groups.find((g) => g.label === label && g.kind === kind)!.predictions.map((x) => x.file);
  assert.deepEqual(files(0, 'correct'), ['f', 'a']);
  assert.deepEqual(files(0, 'wrong'), ['c']);
  assert.deepEqual(files(1, 'correct'), ['e', 'd']);
  assert.deepEqual(files(1, 'wrong'), []);
});
