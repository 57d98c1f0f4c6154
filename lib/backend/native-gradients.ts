/**
 * Native TensorFlow kernels for two gradients that TF.js otherwise composes from many small ops, which on the
 * tfjs-node backend costs about as much per training step as the convolutions:
 *
 * - ReLU: TF.js computes `dy · step(x)`, and tfjs-node's Step alone is five kernels (IsNan, Greater, Fill,
 *   Select…). TensorFlow's `ReluGrad(dy, x)` is one.
 * - Batch normalisation with fixed statistics ({@link batchNormInference}): TF.js differentiates tf.batchNorm
 *   with a dozen element-wise kernels and reductions. TensorFlow's `FusedBatchNormGrad` with
 *   `is_training=false` computes the gradients with respect to x, scale and offset in one kernel, as Keras does
 *   for a BatchNormalization layer called with `training=False`.
 *
 * Only the 'tensorflow' backend (tfjs-node, CPU or GPU) gets these; every other backend keeps TF.js's own
 * kernels and gradients. Nothing here loads tfjs-node: the kernels reach TensorFlow through the backend object
 * the engine hands them.
 */
import * as tf from '@tensorflow/tfjs';
import type { NativeBackend, OpAttr } from '../tfjs-internal';

const BACKEND = 'tensorflow';
const RELU_GRAD = 'CxrNativeReluGrad';
const FROZEN_BN = 'CxrFrozenBatchNorm';
const FROZEN_BN_GRAD = 'CxrFrozenBatchNormGrad';

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };

const floatType = (b: NativeBackend): OpAttr => ({ name: 'T', type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT });

/** Attributes shared by FusedBatchNorm and FusedBatchNormGrad (V1: float32 only, which is all we need). */
function batchNormAttrs(b: NativeBackend, epsilon: number): OpAttr[] {
  return [
    floatType(b),
    { name: 'epsilon', type: b.binding.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: b.binding.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: b.binding.TF_ATTR_BOOL, value: false },
  ];
}

/**
 * Frees TensorFlow's auxiliary outputs we do not return. (tfjs-node's own FusedBatchNorm kernel drops them
 * without freeing, which leaks four small tensors per call.)
 */
function firstOutputs(b: NativeBackend, outs: tf.TensorInfo[], keep: number): tf.TensorInfo[] {
  for (const t of outs.slice(keep)) b.disposeData(t.dataId);
  return outs.slice(0, keep);
}

function reluGradKernel({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const b = backend as NativeBackend;
  return b.executeSingleOutput('ReluGrad', [floatType(b)], [inputs.dy, inputs.x]);
}

function frozenBatchNormKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const b = backend as NativeBackend;
  const { x, scale, offset, mean, variance } = inputs;
  const outs = b.executeMultipleOutputs('FusedBatchNorm', batchNormAttrs(b, attrs!.epsilon as number), [x, scale, offset, mean, variance], 5);
  return firstOutputs(b, outs, 1)[0];
}

/** [dx, dscale, doffset]: with is_training=false the reserve spaces are read as the moving mean and variance. */
function frozenBatchNormGradKernel({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const b = backend as NativeBackend;
  const { dy, x, scale, mean, variance } = inputs;
  const outs = b.executeMultipleOutputs('FusedBatchNormGrad', batchNormAttrs(b, attrs!.epsilon as number), [dy, x, scale, mean, variance], 5);
  return firstOutputs(b, outs, 3);
}

const onNative = () => tf.getBackend() === BACKEND && registered;
const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: object = {}) =>
  tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap);

/** TF.js's ReLU gradient (tfjs-core gradients/Relu_grad), for every backend but native TensorFlow. */
const stockReluGrad = (dy: tf.Tensor, x: tf.Tensor) => tf.mul(dy, tf.cast(tf.step(x), 'float32'));

const reluGradient: tf.GradConfig = {
  kernelName: 'Relu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    // ReluGrad passes dy where x > 0 and is 0 elsewhere, NaN included; Step would propagate a NaN of x instead.
    if (onNative() && x.dtype === 'float32') return { x: () => run(RELU_GRAD, { dy: g, x }) as tf.Tensor };
    return { x: () => stockReluGrad(g, x) };
  },
};

/** ReluGrad is linear in dy with a fixed mask, so a second derivative is the same mask (and none for x). */
const reluGradGradient: tf.GradConfig = {
  kernelName: RELU_GRAD,
  inputsToSave: ['x'],
  gradFunc: (ddx, saved) => {
    const [x] = saved;
    return { dy: () => run(RELU_GRAD, { dy: ddx as tf.Tensor, x }) as tf.Tensor, x: () => tf.zerosLike(x) };
  },
};

const frozenBatchNormGradient: tf.GradConfig = {
  kernelName: FROZEN_BN,
  inputsToSave: ['x', 'scale', 'mean', 'variance'],
  gradFunc: (dy, saved, attrs) => {
    const [x, scale, mean, variance] = saved;
    const epsilon = attrs.epsilon as number;
    // One native kernel for all three; the engine frees whichever the caller does not need after the backward pass.
    const [dx, dScale, dOffset] = run(FROZEN_BN_GRAD, { dy: dy as tf.Tensor, x, scale, mean, variance }, { epsilon }) as tf.Tensor[];
    // The statistics are inputs too: their gradients follow from the per-channel sums above (see TF.js's
    // FusedBatchNorm gradient), so that the op stays a drop-in for tf.batchNorm under any differentiation.
    return {
      x: () => dx,
      scale: () => dScale,
      offset: () => dOffset,
      mean: () => tf.neg(tf.mul(dOffset, tf.mul(scale, tf.rsqrt(tf.add(variance, epsilon))))),
      variance: () => tf.mul(tf.div(tf.mul(dScale, scale), tf.add(variance, epsilon)), -0.5),
    };
  },
};

let registered = false;

/**
 * Registers the native kernels for the 'tensorflow' backend and routes the ReLU gradient to them there. Safe to
 * call more than once and before that backend exists; other backends are unaffected.
 */
export function registerNativeGradients(): void {
  if (registered) return;
  const kernels: [string, (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]][] = [
    [RELU_GRAD, reluGradKernel],
    [FROZEN_BN, frozenBatchNormKernel],
    [FROZEN_BN_GRAD, frozenBatchNormGradKernel],
  ];
  for (const [kernelName, fn] of kernels) {
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc: fn as unknown as tf.KernelFunc });
  }
  tf.registerGradient(reluGradGradient);
  tf.registerGradient(frozenBatchNormGradient);
  tf.registerGradient(reluGradient);
  registered = true;
}

/**
 * Batch normalisation with given (moving) statistics, `(x − mean) / sqrt(variance + ε) · scale + offset`, as
 * tf.batchNorm computes it; differentiable in all five inputs. On native TensorFlow, for NHWC input with
 * per-channel parameters, forward and backward are each one TensorFlow kernel; elsewhere it is tf.batchNorm.
 */
export function batchNormInference(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, offset: tf.Tensor, scale: tf.Tensor, epsilon: number): tf.Tensor {
  const channels = x.shape[x.rank - 1];
  const perChannel = [mean, variance, offset, scale].every((t) => t.rank === 1 && t.shape[0] === channels && t.dtype === 'float32');
  if (onNative() && x.rank === 4 && x.dtype === 'float32' && perChannel) {
    return run(FROZEN_BN, { x, scale, offset, mean, variance }, { epsilon }) as tf.Tensor;
  }
  return tf.batchNorm(x, mean, variance, offset, scale, epsilon);
}
