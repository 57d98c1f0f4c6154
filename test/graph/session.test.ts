// GraphSession (lib/graph/session.ts): feeds and fetches by node name, and who frees what — the session its bound
// feeds and the casts a run makes, the caller what it fetched. Needs the native backend, which the project's
// set-up provides everywhere; CXR_SKIP_NATIVE_TESTS=1 skips those tests.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { FLOAT_T, GraphBuilder, savedModelBytes } from '../../lib/graph/builder';
import { checkInputs, GraphSession } from '../../lib/graph/session';

const skip = process.env.CXR_SKIP_NATIVE_TESTS === '1' ? 'CXR_SKIP_NATIVE_TESTS=1' : false;

before(async () => {
  if (!skip) await initBackend({ backend: 'tensorflow', quiet: true });
});

/** y = x + w·v, with w a weight snapshot (bound to the session) and v a second feed. */
function smallGraph(): { bytes: Uint8Array; g: GraphBuilder; x: string; v: string; y: string; wv: string } {
  const g = new GraphBuilder('inference');
  const x = g.placeholder('x', [-1, 2]);
  const v = g.placeholder('v', [2]);
  const wv = g.node('wv', 'Mul', [g.weight('w', tf.tensor1d([10, 100])), v], FLOAT_T);
  const y = g.node('y', 'AddV2', [x, wv], FLOAT_T);
  const bytes = savedModelBytes(g.graphDef(), [{ name: x, shape: [-1, 2] }, { name: v, shape: [2] }], [{ name: y, shape: [-1, 2] }]);
  return { bytes, g, x, v, y, wv };
}

test('feeds and fetches by node name; a run frees its casts, the session its bound feeds', { skip }, async () => {
  const { bytes, g, x, v, y, wv } = smallGraph();
  const [w] = g.weights;
  const session = GraphSession.open(bytes, { label: 'small graph', bound: g.weights });
  const xs = tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32');
  const vs = tf.tensor1d([1, -1]);
  const held = tf.memory().numTensors;
  const [out, product] = session.run([[x, xs], [v, vs]], [y, wv]);
  assert.deepEqual(await out.array(), [[11, -98], [13, -96]]);
  assert.deepEqual(await product.array(), [10, -100]);
  tf.dispose([out, product]);
  assert.equal(tf.memory().numTensors, held, 'the int32 feed\'s cast is freed after the run');
  assert.ok(!xs.isDisposed && !vs.isDisposed, 'the caller\'s feeds stay the caller\'s');
  assert.ok(!w.tensor.isDisposed);
  session.dispose();
  session.dispose();
  assert.ok(w.tensor.isDisposed, 'the bound weight is freed with the session');
  assert.throws(() => session.run([[x, xs], [v, vs]], [y]), /^Error: small graph was disposed$/);
  tf.dispose([xs, vs]);
});

test('a graph TensorFlow rejects is an error, and the feeds bound to it are freed at once', { skip }, () => {
  const { bytes, g } = smallGraph();
  const [w] = g.weights;
  // Truncated: TensorFlow cannot parse the SavedModel.
  assert.throws(() => GraphSession.open(bytes.subarray(0, bytes.length - 9), { label: 'broken graph', bound: g.weights }));
  assert.ok(w.tensor.isDisposed);
});

test('checkInputs names the model, the input and both shapes', () => {
  const x = tf.zeros([1, 5, 6, 1]);
  checkInputs('m', [[-1, 5, 6, 1]], [x]);
  assert.throws(() => checkInputs('m', [[-1, 6, 6, 1]], [x]), /model 'm' input 0: expected shape \[N,6,6,1\], got \[1,5,6,1\]/);
  assert.throws(() => checkInputs('m', [[-1, 5, 6, 1], [-1, 2]], [x]), /model 'm' takes 2 input\(s\), got 1/);
  x.dispose();
});
