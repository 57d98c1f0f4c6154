import * as tf from '@tensorflow/tfjs';

/**
 * Convolution gradient kernels the wasm backend lacks, composed from kernels it has, so that models can be
 * trained (not only run) without native TensorFlow. All three take NHWC tensors, as the wasm convolutions do.
 *
 * - Conv2DBackpropFilter: for each filter tap (kh, kw) the strided window of the padded input that the tap
 *   saw, as an [N, inC] matrix, times dy as [N, outC] (one BatchMatMul per tap, N = batch·outH·outW).
 * - DepthwiseConv2dNativeBackpropFilter: the same windows, multiplied channel-wise with dy and summed over N.
 * - DepthwiseConv2dNativeBackpropInput: the transposed convolution — dy with (stride − 1) zeros between
 *   samples, padded by (filter extent − 1 − pad), convolved (stride 1) with the spatially flipped filter.
 */

type Info = tf.TensorInfo;
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type KernelArgs = { inputs: Record<string, Info>; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };

const BACKEND = 'wasm';

/** Runs other wasm kernels on TensorInfos, keeping the intermediates to free them in one place. */
class Composer {
  private readonly temps: Info[] = [];
  constructor(private readonly backend: tf.KernelBackend) {}

  run(kernel: string, inputs: tf.NamedTensorInfoMap | Info[], attrs: object = {}): Info {
    const config = tf.getKernel(kernel, BACKEND);
    if (!config) throw new Error(`wasm backend has no ${kernel} kernel`);
    const out = config.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend: this.backend, attrs: attrs as tf.NamedAttrMap }) as Info;
    this.temps.push(out);
    return out;
  }

  reshape(x: Info, shape: number[]): Info {
    return this.run('Reshape', { x }, { shape });
  }

  /** Pads (positive) or crops (negative) each axis by [before, after]. */
  padOrCrop(x: Info, amounts: [number, number][]): Info {
    let y = x;
    if (amounts.some(([b, a]) => b > 0 || a > 0)) {
      y = this.run('PadV2', { x: y }, { paddings: amounts.map(([b, a]) => [Math.max(b, 0), Math.max(a, 0)]), constantValue: 0 });
    }
    if (amounts.some(([b, a]) => b < 0 || a < 0)) {
      const begin = amounts.map(([b]) => Math.max(-b, 0));
      const size = y.shape.map((n, i) => n - begin[i] - Math.max(-amounts[i][1], 0));
      y = this.run('Slice', { x: y }, { begin, size });
    }
    return y;
  }

  /**
   * Frees every intermediate except `keep` (the kernel's output). Each kernel output holds one reference to its
   * data (Reshape adds one to its input's), so this releases views and their sources alike.
   */
  finish(keep: Info): Info {
    for (const t of this.temps) if (t !== keep) this.backend.disposeData(t.dataId);
    return keep;
  }
}

/** The [batch, outH, outW, C] window of the padded input `xp` that filter tap (kh, kw) multiplies. */
function tapWindow(c: Composer, xp: Info, info: tf.backend_util.Conv2DInfo, kh: number, kw: number): Info {
  const [b, , , ch] = xp.shape;
  const top = kh * info.dilationHeight;
  const left = kw * info.dilationWidth;
  return c.run('StridedSlice', { x: xp }, {
    begin: [0, top, left, 0],
    end: [b, top + (info.outHeight - 1) * info.strideHeight + 1, left + (info.outWidth - 1) * info.strideWidth + 1, ch],
    strides: [1, info.strideHeight, info.strideWidth, 1],
    beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
  });
}

function padInput(c: Composer, x: Info, info: tf.backend_util.Conv2DInfo): Info {
  const p = info.padInfo;
  return c.padOrCrop(x, [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]]);
}

/** Neither tfjs's gradients nor TensorFlow's CPU kernels support dilated depthwise convolutions: nothing to match. */
function checkUndilated(kernel: string, info: tf.backend_util.Conv2DInfo): void {
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) throw new Error(`wasm ${kernel} supports only dilation 1`);
}

function checkNhwc(kernel: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`wasm ${kernel} supports only NHWC data, got ${String(dataFormat)}`);
  }
}

function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): Info {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number; pad: Pad; dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
  };
  checkNhwc('Conv2DBackpropFilter', dataFormat);
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  const [kh, kw, inC, outC] = filterShape;
  const c = new Composer(backend);
  const xp = padInput(c, x, info);
  const n = info.batchSize * info.outHeight * info.outWidth;
  const dy2 = c.reshape(dy, [1, n, outC]);
  const taps: Info[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const win = c.reshape(tapWindow(c, xp, info, i, j), [1, n, inC]);
      taps.push(c.run('BatchMatMul', { a: win, b: dy2 }, { transposeA: true, transposeB: false }));
    }
  }
  const stacked = taps.length === 1 ? taps[0] : c.run('Concat', taps, { axis: 0 });
  return c.finish(c.reshape(stacked, filterShape));
}

function depthwiseBackpropFilter({ inputs, backend, attrs }: KernelArgs): Info {
  const { x, dy } = inputs;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number; dilations: [number, number] | number; pad: Pad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
  };
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, dilations ?? 1, pad, dimRoundingMode, true);
  checkUndilated('DepthwiseConv2dNativeBackpropFilter', info);
  const [kh, kw, inC, mult] = filterShape;
  const c = new Composer(backend);
  const xp = padInput(c, x, info);
  const n = info.batchSize * info.outHeight * info.outWidth;
  const dy3 = c.reshape(dy, [n, inC, mult]);
  const taps: Info[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const win = c.reshape(tapWindow(c, xp, info, i, j), [n, inC, 1]);
      const prod = c.run('Multiply', { a: win, b: dy3 });
      taps.push(c.run('Sum', { x: prod }, { axis: [0], keepDims: true }));
    }
  }
  const stacked = taps.length === 1 ? taps[0] : c.run('Concat', taps, { axis: 0 });
  return c.finish(c.reshape(stacked, filterShape));
}

/** dy with (s − 1) zeros after every sample along H and W: [b, oh·sh, ow·sw, ch]. */
function spreadByStride(c: Composer, dy: Info, sh: number, sw: number): Info {
  const [b, oh, ow, ch] = dy.shape;
  let y = dy;
  if (sh > 1) {
    y = c.padOrCrop(c.reshape(y, [b, oh, 1, ow * ch]), [[0, 0], [0, 0], [0, sh - 1], [0, 0]]);
  }
  if (sw > 1) {
    y = c.padOrCrop(c.reshape(y, [b * oh * sh, ow, 1, ch]), [[0, 0], [0, 0], [0, sw - 1], [0, 0]]);
  }
  return c.reshape(y, [b, oh * sh, ow * sw, ch]);
}

function depthwiseBackpropInput({ inputs, backend, attrs }: KernelArgs): Info {
  const { dy, filter } = inputs;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: [number, number] | number; dilations: [number, number] | number; pad: Pad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number];
  };
  const filterShape = filter.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, strides, dilations ?? 1, pad, dimRoundingMode, true);
  checkUndilated('DepthwiseConv2dNativeBackpropInput', info);
  const [kh, kw, inC, mult] = filterShape;
  const [b, h, w] = inputShape;
  const c = new Composer(backend);
  const spread = spreadByStride(c, dy, info.strideHeight, info.strideWidth);
  // A stride-1 'valid' correlation over the spread dy must yield h rows: it needs h + (kh − 1)·dh rows in all.
  const extentH = (kh - 1) * info.dilationHeight;
  const extentW = (kw - 1) * info.dilationWidth;
  const beforeH = extentH - info.padInfo.top;
  const beforeW = extentW - info.padInfo.left;
  const padded = c.padOrCrop(spread, [
    [0, 0],
    [beforeH, h + extentH - beforeH - spread.shape[1]],
    [beforeW, w + extentW - beforeW - spread.shape[2]],
    [0, 0],
  ]);
  const flipped = c.reshape(c.run('Reverse', { x: filter }, { dims: [0, 1] }), [kh, kw, inC * mult, 1]);
  const dx = c.run('DepthwiseConv2dNative', { x: padded, filter: flipped }, {
    strides: [1, 1], pad: 'valid', dilations: [info.dilationHeight, info.dilationWidth],
  });
  if (mult === 1) return c.finish(dx);
  return c.finish(c.run('Sum', { x: c.reshape(dx, [b, h, w, inC, mult]) }, { axis: [4], keepDims: false }));
}

const KERNELS: [string, (args: KernelArgs) => Info][] = [
  ['Conv2DBackpropFilter', conv2DBackpropFilter],
  ['DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter],
  ['DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput],
];

/** Registers the missing gradient kernels on the wasm backend (once; kernels the backend has are left alone). */
export function registerWasmGradients(): void {
  for (const [kernelName, fn] of KERNELS) {
    if (tf.getKernel(kernelName, BACKEND)) continue;
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc: fn as unknown as tf.KernelFunc });
  }
}
