/**
 * The child process of the oneDNN probe (lib/backend/onednn.ts starts it with TF_ENABLE_ONEDNN_OPTS=1): runs the
 * kernels that TensorFlow 2.21's oneDNN build has been seen to crash on (SIGFPE in the brgemm 1×1 convolution,
 * forward and input gradient) in the shapes the backbones use, eagerly and as graph sessions, at batch 1 and 8.
 * A crash kills only this process; the parent reads the last `case` line to name the kernel. It lives under
 * lib/graph because its graph cases run through the graph fast path the trainer uses.
 *   node --import tsx lib/graph/onednn-probe.ts <tfjs-node package>
 */
import * as tf from '@tensorflow/tfjs';
import { frozenBatchNorm } from '../models/layers-bn';
import { compileInference } from './inference';
import { graphTrainingStep } from './train-step';

/** [label, input size, input channels, output channels, kernel, stride]; depthwise when output channels is 0. */
type ConvCase = [string, number, number, number, number, number];

const CONVS: ConvCase[] = [
  ['ResNet 1x1 reduce 256->64 @56', 56, 256, 64, 1, 1],
  ['ResNet 1x1 expand 64->256 @56', 56, 64, 256, 1, 1],
  ['ResNet 1x1 projection 256->512 /2 @56', 56, 256, 512, 1, 2],
  ['ResNet 3x3 64->64 @56', 56, 64, 64, 3, 1],
  ['ResNet 1x1 expand 256->1024 @14', 14, 256, 1024, 1, 1],
  ['ResNet 1x1 reduce 1024->256 @14', 14, 1024, 256, 1, 1],
  ['ResNet 1x1 projection 1024->2048 /2 @14', 14, 1024, 2048, 1, 2],
  ['ResNet 1x1 expand 512->2048 @7', 7, 512, 2048, 1, 1],
  ['ResNet 3x3 512->512 @7', 7, 512, 512, 3, 1],
  ['Inception 1x1 320->32 @35', 35, 320, 32, 1, 1],
  ['Inception 1x1 128->320 @35', 35, 128, 320, 1, 1],
  ['Inception 3x3 320->384 /2 @35', 35, 320, 384, 3, 2],
  ['Inception 1x1 1088->192 @17', 17, 1088, 192, 1, 1],
  ['Inception 1x1 384->1088 @17', 17, 384, 1088, 1, 1],
  ['Inception 1x1 448->2080 @8', 8, 448, 2080, 1, 1],
  ['NASNet 1x1 44->44 @56', 56, 44, 44, 1, 1],
  ['NASNet depthwise 5x5 44 /2 @56', 56, 44, 0, 5, 2],
  ['NASNet depthwise 3x3 176 @14', 14, 176, 0, 3, 1],
  ['NASNet 1x1 1056->176 @7', 7, 1056, 176, 1, 1],
];

/** Announces a case before it runs; stdout to a pipe is synchronous on Linux, so the line is out before a crash. */
function announce(label: string): void {
  process.stdout.write(`case ${label}\n`);
}

/** Forward, input gradient and filter gradient of one convolution, eagerly. */
function eagerConv([label, size, cin, cout, k, stride]: ConvCase, batch: number): void {
  announce(`eager ${label} batch ${batch}`);
  tf.tidy(() => {
    // The kernels a convolution gets depend on its shapes only; constant fills cost nothing to make.
    const x = tf.fill([batch, size, size, cin], 0.5) as tf.Tensor4D;
    const w = tf.fill([k, k, cin, cout || 1], 0.01) as tf.Tensor4D;
    const f = (a: tf.Tensor, b: tf.Tensor) => (cout
      ? tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, 'same')
      : tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, 'same')).sum();
    const [dx, dw] = tf.grads(f)([x, w]);
    dx.dataSync();
    dw.dataSync();
  });
}

/** A small functional model with the fusable patterns of the backbones (1×1 expand + BN + ReLU, 3×3, separable, strided 1×1). */
function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [14, 14, 256] });
  let x = tf.layers.conv2d({ filters: 1024, kernelSize: 1, useBias: false }).apply(input) as tf.SymbolicTensor;
  x = frozenBatchNorm({}).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 256, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 2048, kernelSize: 1, strides: 2, activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** The model as an inference graph session and as a graph training step (forward, backward, Adam). */
async function graphCases(batch: number): Promise<void> {
  const model = smallModel();
  const x = tf.fill([batch, 14, 14, 256], 0.5);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 4), 'int32'), 4);
  announce(`graph inference batch ${batch}`);
  const inference = compileInference(model);
  if (inference.engine !== 'tensorflow-graph') throw new Error(`graph inference unavailable: ${inference.reason}`);
  tf.dispose(inference.predict(x));
  inference.dispose();
  announce(`graph training step batch ${batch}`);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const steps = graphTrainingStep(model, vars, tf.train.adam(1e-3), 'categoricalCrossentropy');
  const { output } = await steps.step([x], y, 0);
  output.dispose();
  steps.dispose();
  tf.dispose([x, y]);
  model.dispose();
}

async function main(): Promise<void> {
  const pkg = process.argv[2] ?? '@tensorflow/tfjs-node';
  announce(`load ${pkg}`);
  require(pkg);
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg}: the tensorflow backend did not initialise`);
  for (const batch of [1, 8]) {
    for (const c of CONVS) eagerConv(c, batch);
    await graphCases(batch);
  }
  const version = (tf.backend() as unknown as { binding: { TF_Version: string } }).binding.TF_Version;
  process.stdout.write(`done ${version} ${CONVS.length * 2 + 4}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
