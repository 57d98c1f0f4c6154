/**
 * The table of layer translators: for each TF.js layer class the backbones and heads use, one small function
 * that emits the TensorFlow nodes computing it (Keras's own op choices, so TensorFlow runs Keras's kernels). A
 * layer class without an entry, or an option a translator does not cover, raises UnsupportedGraphError naming the
 * layer; the caller then runs the model with TF.js. Adding a layer kind is adding one function and one row.
 */
import { attr, DT_INT32, FLOAT_T, UnsupportedGraphError, type MaskSource } from './builder';
import { activation, checkChannelsLast, layerActivation, pair, weight, type Emitter, type LayerCall, type Value } from './emitter';
import { batchNorm, conv, depthwiseConv } from './ops-conv';

/** Emits one layer call; returns its output value. */
type Translator = (e: Emitter, call: LayerCall) => Value;

const activationLayer: Translator = (e, call) => activation(e.g, call.layer, e.first(call), String(call.cfg.activation));

const relu: Translator = (e, call) => {
  if (call.cfg.maxValue != null) throw new UnsupportedGraphError(`${call.layer.name}: ReLU with maxValue`);
  return activation(e.g, call.layer, e.first(call), 'relu');
};

const zeroPadding: Translator = (e, { layer, cfg, inputs }) => {
  checkChannelsLast(layer, cfg);
  const p = cfg.padding as number[][];
  const pads = e.g.const(`${layer.name}/paddings`, Int32Array.from([0, 0, p[0][0], p[0][1], p[1][0], p[1][1], 0, 0]), [4, 2]);
  return e.g.node(layer.name, 'Pad', [e.materialize(inputs[0]), pads], { ...FLOAT_T, Tpaddings: attr.type(DT_INT32) }, { edges: [[0, 0], p[0], p[1], [0, 0]] });
};

const cropping: Translator = (e, call) => {
  const { layer, cfg, outShape } = call;
  const g = e.g;
  checkChannelsLast(layer, cfg);
  const c = cfg.cropping as number[][];
  const [, h, w] = outShape;
  return g.node(layer.name, 'Slice', [e.first(call), g.ints(`${layer.name}/begin`, [0, c[0][0], c[1][0], 0]), g.ints(`${layer.name}/size`, [-1, h, w, -1])], {
    ...FLOAT_T, Index: attr.type(DT_INT32),
  }, { edges: [[0, 0], c[0], c[1], [0, 0]] });
};

/** MaxPooling2D and AveragePooling2D. */
const pooling = (op: 'MaxPool' | 'AvgPool'): Translator => (e, call) => {
  const { layer, cfg } = call;
  checkChannelsLast(layer, cfg);
  const [ph, pw] = pair(cfg.poolSize, 'pool size', layer);
  const [sh, sw] = pair(cfg.strides ?? cfg.poolSize, 'strides', layer);
  return e.g.node(layer.name, op, [e.first(call)], {
    ...FLOAT_T, ksize: attr.ints([1, ph, pw, 1]), strides: attr.ints([1, sh, sw, 1]),
    padding: attr.string(String(cfg.padding).toUpperCase()), data_format: attr.string('NHWC'),
  });
};

/** GlobalAveragePooling2D and GlobalMaxPooling2D: a reduction over the spatial axes (the gradient needs H·W). */
const globalPooling = (op: 'Mean' | 'Max'): Translator => (e, call) => {
  const { layer, cfg, inShapes } = call;
  checkChannelsLast(layer, cfg);
  return e.g.node(layer.name, op, [e.first(call), e.g.ints(`${layer.name}/axes`, [1, 2])], {
    ...FLOAT_T, Tidx: attr.type(DT_INT32), keep_dims: attr.bool(false),
  }, { count: inShapes[0][1] * inShapes[0][2] });
};

/**
 * UpSampling2D: TF.js resizes with align_corners and half_pixel_centers both off, and so does this op; at an
 * integer factor, nearest-neighbour is then plain repetition, as Keras's layer computes it.
 */
const upSampling: Translator = (e, call) => {
  const { layer, cfg, inShapes, outShape } = call;
  checkChannelsLast(layer, cfg);
  const interpolation = String(cfg.interpolation ?? 'nearest');
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') throw new UnsupportedGraphError(`${layer.name}: interpolation '${interpolation}'`);
  const op = interpolation === 'nearest' ? 'ResizeNearestNeighbor' : 'ResizeBilinear';
  return e.g.node(layer.name, op, [e.first(call), e.g.ints(`${layer.name}/size`, [outShape[1], outShape[2]])], {
    ...FLOAT_T, align_corners: attr.bool(false), half_pixel_centers: attr.bool(false),
  }, { from: [inShapes[0][1], inShapes[0][2]] });
};

const add: Translator = (e, { layer, inputs }) => {
  let y = e.materialize(inputs[0]);
  for (let i = 1; i < inputs.length; i++) y = e.g.node(layer.name, 'AddV2', [y, e.materialize(inputs[i])], FLOAT_T);
  return y;
};

const concatenate: Translator = (e, { layer, cfg, inputs, inShapes, outShape }) => {
  let axis = Number(cfg.axis ?? -1);
  if (axis < 0) axis += outShape.length;
  const names = inputs.map((v) => e.materialize(v));
  return e.g.node(layer.name, 'ConcatV2', [...names, e.g.const(`${layer.name}/axis`, Int32Array.of(axis), [])], {
    ...FLOAT_T, N: attr.int(names.length), Tidx: attr.type(DT_INT32),
  }, { splits: inShapes.map((s) => s[axis]) });
};

/** InceptionResNetV2's scaled residual, in Keras's order: x + residual·scale, as the layer computes it. */
const customScale: Translator = (e, { layer, cfg, inputs }) => {
  const g = e.g;
  const scaled = g.node(`${layer.name}/mul`, 'Mul', [e.materialize(inputs[1]), g.scalar(`${layer.name}/scale`, Number(cfg.scale))], FLOAT_T);
  return g.node(layer.name, 'AddV2', [e.materialize(inputs[0]), scaled], FLOAT_T);
};

const dense: Translator = (e, call) => {
  const { layer, cfg, outShape } = call;
  const g = e.g;
  const k = weight(layer, 'kernel')!;
  if (outShape.length !== 2) throw new UnsupportedGraphError(`${layer.name}: Dense on a rank-${outShape.length} tensor`);
  const y = g.node(`${layer.name}/matmul`, 'MatMul', [e.first(call), g.weight(`${layer.name}/kernel`, k)], {
    ...FLOAT_T, transpose_a: attr.bool(false), transpose_b: attr.bool(false),
  });
  return layerActivation(g, call, g.biasAdd(layer.name, y, cfg.useBias ? weight(layer, 'bias') : undefined));
};

const flatten: Translator = (e, call) => {
  const { layer, outShape } = call;
  return e.g.node(layer.name, 'Reshape', [e.first(call), e.g.ints(`${layer.name}/shape`, [-1, outShape.slice(1).reduce((a, b) => a * b, 1)])], {
    ...FLOAT_T, Tshape: attr.type(DT_INT32),
  });
};

/** Dropout and SeededDropout: the identity for inference; in training, the input times a mask fed per step. */
const dropout: Translator = (e, call) => {
  const { layer, cls, cfg, inputs, outShape } = call;
  if (!e.training || Number(cfg.rate) === 0) return inputs[0];
  // TF.js's Dropout draws from its own generator; only SeededDropout's masks can be made outside the layer.
  if (cls !== 'SeededDropout') throw new UnsupportedGraphError(`${layer.name}: Dropout in training (only SeededDropout)`);
  return e.g.node(layer.name, 'Mul', [e.first(call), e.g.mask(layer as unknown as MaskSource, outShape)], FLOAT_T);
};

/** Every layer class translated, by `getClassName()`. */
const TRANSLATORS: Readonly<Record<string, Translator>> = {
  Conv2D: conv,
  SeparableConv2D: conv,
  DepthwiseConv2D: depthwiseConv,
  BatchNormalization: batchNorm,
  FrozenBatchNormalization: batchNorm,
  Activation: activationLayer,
  ReLU: relu,
  ZeroPadding2D: zeroPadding,
  Cropping2D: cropping,
  MaxPooling2D: pooling('MaxPool'),
  AveragePooling2D: pooling('AvgPool'),
  GlobalAveragePooling2D: globalPooling('Mean'),
  GlobalMaxPooling2D: globalPooling('Max'),
  UpSampling2D: upSampling,
  Add: add,
  Concatenate: concatenate,
  CustomScaleLayer: customScale,
  Dense: dense,
  Flatten: flatten,
  Dropout: dropout,
  SeededDropout: dropout,
};

/**
 * Emits one layer call through its translator.
 * @throws UnsupportedGraphError naming the layer, for a class without a translator or an option it does not cover
 * @example
 * values.set(t.id, translateLayer(e, { layer, cls: layer.getClassName(), cfg: layer.getConfig(), inputs, single, inShapes, outShape }));
 */
export function translateLayer(e: Emitter, call: LayerCall): Value {
  const translate = Object.hasOwn(TRANSLATORS, call.cls) ? TRANSLATORS[call.cls] : undefined;
  if (!translate) throw new UnsupportedGraphError(`${call.layer.name}: layer class ${call.cls}`);
  return translate(e, call);
}
