/**
 * Reverse-mode differentiation of the forward graphs def.ts emits, as more GraphDef nodes: each forward
 * op has the gradient TensorFlow's own Python registry gives it (Conv2D → Conv2DBackpropInput/Filter,
 * FusedBatchNormV3 → FusedBatchNormGradV3, ReLU → ReluGrad, …), so the training step runs the same kernels as
 * Keras's compiled train_step, in one graph that TensorFlow schedules in parallel. Only tensors that depend on
 * a variable being trained get gradients: nothing flows into the input images.
 */
import { attr, DT_BOOL, DT_FLOAT, DT_INT32, FLOAT_T, UnsupportedGraphError, type GraphBuilder, type OpRecord } from './builder';
import type { Message } from './protobuf';

type Grad = string | undefined;
/** Gradients of a node's inputs from the gradients of its outputs (`dy[k]` for output k); `need[i]`: input i wants one. */
type Rule = (g: GraphBuilder, r: OpRecord, dy: Grad[], need: boolean[]) => Grad[];

const pick = (r: OpRecord, keys: string[]): Record<string, Message> => {
  const out: Record<string, Message> = {};
  for (const k of keys) if (r.attrs[k]) out[k] = r.attrs[k];
  return out;
};
/** A Mean or Max node of global pooling (ops.ts gives those a count); anything else has no rule here. */
function spatial(r: OpRecord): { count?: number } {
  if (!r.meta?.count) throw new UnsupportedGraphError(`${r.name}: ${r.op} over other axes than the spatial ones`);
  return r.meta;
}

/** [N, C] → [N, 1, 1, C], to broadcast a pooled tensor against the map it was pooled from. */
function expand(g: GraphBuilder, r: OpRecord, x: string): string {
  for (const k of [1, 2]) x = g.node(`${r.name}/grad_expand`, 'ExpandDims', [x, g.const(`${r.name}/grad_dim`, Int32Array.of(k), [])], { ...FLOAT_T, Tdim: attr.type(DT_INT32) });
  return x;
}

const CONV_ATTRS = ['T', 'strides', 'padding', 'dilations', 'data_format'];
const POOL_ATTRS = ['T', 'ksize', 'strides', 'padding', 'data_format'];
const RESIZE_ATTRS = ['T', 'align_corners', 'half_pixel_centers'];

/** Output k of node `name`, as an input reference. */
const out = (name: string, k: number) => (k === 0 ? name : `${name}:${k}`);

function convRule(inputOp: string, filterOp: string): Rule {
  return (g, r, [dy], need) => {
    const [x, w] = r.inputs;
    const a = pick(r, CONV_ATTRS);
    return [
      need[0] ? g.node(`${r.name}/grad_input`, inputOp, [g.shapeOf(x), w, dy!], a) : undefined,
      need[1] ? g.node(`${r.name}/grad_filter`, filterOp, [x, g.shapeOf(w), dy!], a) : undefined,
    ];
  };
}
const conv2dBackprop = convRule('Conv2DBackpropInput', 'Conv2DBackpropFilter');

const reshape = (g: GraphBuilder, base: string, t: string, shape: number[] | string) =>
  g.node(base, 'Reshape', [t, typeof shape === 'string' ? shape : g.ints(`${base}_shape`, shape)], { ...FLOAT_T, Tshape: attr.type(DT_INT32) });
const matmul = (g: GraphBuilder, base: string, a: string, b: string, ta: boolean, tb: boolean) =>
  g.node(base, 'MatMul', [a, b], { ...FLOAT_T, transpose_a: attr.bool(ta), transpose_b: attr.bool(tb) });

/**
 * Conv2D's gradients. TensorFlow's CPU Conv2DBackpropInput ran 2–5× slower than a Conv2D or MatMul of the same
 * work here (a ResNet-50 step at batch 8 spent 42 % of its op time in it), so the input gradient is written with
 * those where that is exact; measured pairwise in one process, a ResNet-50 step went from 6.9 to 8.8 img/s. The
 * filter gradient stays Conv2DBackpropFilter: as a MatMul it was no faster in the whole step.
 * - 1×1 kernels: the input gradient is dy·Wᵀ over the positions. With a stride that gives it at the positions
 *   the convolution read; reshape, pad and reshape spread it onto the input grid with zeros between (cropped
 *   where the grid overhangs an odd size).
 * - Stride 1, an odd kernel, SAME padding: the SAME convolution of dy with the kernel flipped in space and its
 *   in/out channels swapped.
 * - Anything else (dilation, even kernels, VALID or strided wider than 1×1): Conv2DBackpropInput.
 */
const conv2dRule: Rule = (g, r, [dy], need) => {
  const conv = r.meta?.conv;
  if (!conv) return conv2dBackprop(g, r, [dy], need);
  const [x, w] = r.inputs;
  const n = r.name;
  const [kh, kw, cin, cout] = conv.kernel;
  const [sh, sw] = conv.strides;
  const stride1 = sh === 1 && sw === 1;
  const dw = () => conv2dBackprop(g, r, [dy], [false, need[1]])[1];
  if (kh === 1 && kw === 1 && (stride1 || conv.size)) {
    if (!need[0]) return [undefined, dw()];
    const cells = matmul(g, `${n}/grad_input_rows`, reshape(g, `${n}/grad_dy_rows`, dy!, [-1, cout]), reshape(g, `${n}/grad_kernel_matrix`, w, [cin, cout]), false, true);
    if (stride1) return [reshape(g, `${n}/grad_input`, cells, g.shapeOf(x)), dw()];
    const [h, wd] = conv.size!;
    const [oh, ow] = [Math.ceil(h / sh), Math.ceil(wd / sw)];
    const spaced = g.node(`${n}/grad_spread`, 'Pad', [reshape(g, `${n}/grad_cells`, cells, [-1, oh, 1, ow, 1, cin]),
      g.const(`${n}/grad_spread_paddings`, Int32Array.from([0, 0, 0, 0, 0, sh - 1, 0, 0, 0, sw - 1, 0, 0]), [6, 2])], { ...FLOAT_T, Tpaddings: attr.type(DT_INT32) });
    const grid = reshape(g, `${n}/grad_grid`, spaced, [-1, oh * sh, ow * sw, cin]);
    if (oh * sh === h && ow * sw === wd) return [grid, dw()];
    return [g.node(`${n}/grad_crop`, 'Slice', [grid, g.ints(`${n}/grad_crop_begin`, [0, 0, 0, 0]), g.ints(`${n}/grad_crop_size`, [-1, h, wd, cin])], { ...FLOAT_T, Index: attr.type(DT_INT32) }), dw()];
  }
  if (!stride1 || conv.padding !== 'SAME' || kh % 2 === 0 || kw % 2 === 0 || !need[0]) return conv2dBackprop(g, r, [dy], need);
  const flipped = g.node(`${n}/grad_flip`, 'ReverseV2', [w, g.ints(`${n}/grad_flip_axes`, [0, 1])], { ...FLOAT_T, Tidx: attr.type(DT_INT32) });
  const swapped = g.node(`${n}/grad_swap`, 'Transpose', [flipped, g.ints(`${n}/grad_swap_perm`, [0, 1, 3, 2])], { ...FLOAT_T, Tperm: attr.type(DT_INT32) });
  const dx = g.node(`${n}/grad_input`, 'Conv2D', [dy!, swapped], {
    ...FLOAT_T, strides: attr.ints([1, 1, 1, 1]), padding: attr.string('SAME'), dilations: attr.ints([1, 1, 1, 1]), data_format: attr.string('NHWC'),
  });
  return [dx, dw()];
};

/** y = f(x) whose gradient TensorFlow computes from (dy, y) in one kernel. */
const fromOutput = (op: string): Rule => (g, r, [dy]) => [g.node(`${r.name}/grad`, op, [dy!, r.name], FLOAT_T)];

const RULES: Record<string, Rule> = {
  Identity: (_g, _r, [dy]) => [dy],
  Conv2D: conv2dRule,
  DepthwiseConv2dNative: convRule('DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'),
  BiasAdd: (g, r, [dy], need) => [dy, need[1] ? g.node(`${r.name}/grad_bias`, 'BiasAddGrad', [dy!], pick(r, ['T', 'data_format'])) : undefined],
  MatMul: (g, r, [dy], need) => {
    const [a, b] = r.inputs;
    return [need[0] ? matmul(g, `${r.name}/grad_a`, dy!, b, false, true) : undefined, need[1] ? matmul(g, `${r.name}/grad_b`, a, dy!, true, false) : undefined];
  },
  Relu: fromOutput('ReluGrad'),
  Relu6: fromOutput('Relu6Grad'),
  Elu: fromOutput('EluGrad'),
  Selu: fromOutput('SeluGrad'),
  // SigmoidGrad and TanhGrad take (y, dy).
  Sigmoid: (g, r, [dy]) => [g.node(`${r.name}/grad`, 'SigmoidGrad', [r.name, dy!], FLOAT_T)],
  Tanh: (g, r, [dy]) => [g.node(`${r.name}/grad`, 'TanhGrad', [r.name, dy!], FLOAT_T)],
  Softplus: (g, r, [dy]) => [g.node(`${r.name}/grad`, 'SoftplusGrad', [dy!, r.inputs[0]], FLOAT_T)],
  Softmax: (g, r, [dy]) => {
    // dx = (dy − Σ dy·y) · y over the last axis.
    const dot = g.node(`${r.name}/grad_dot`, 'Sum', [g.node(`${r.name}/grad_mul`, 'Mul', [dy!, r.name], FLOAT_T), g.ints(`${r.name}/grad_axis`, [-1])], {
      ...FLOAT_T, Tidx: attr.type(DT_INT32), keep_dims: attr.bool(true),
    });
    return [g.node(`${r.name}/grad`, 'Mul', [g.node(`${r.name}/grad_sub`, 'Sub', [dy!, dot], FLOAT_T), r.name], FLOAT_T)];
  },
  FusedBatchNormV3: (g, r, [dy]) => {
    // With is_training=false, reserve spaces 1 and 2 are the moving mean and variance, as in TensorFlow's own gradient.
    const [x, scale, , mean, variance] = r.inputs;
    const n = g.node(`${r.name}/grad`, 'FusedBatchNormGradV3', [dy!, x, scale, mean, variance, out(r.name, 5)], pick(r, ['T', 'U', 'epsilon', 'data_format', 'is_training']));
    return [n, out(n, 1), out(n, 2)];
  },
  MaxPool: (g, r, [dy]) => [g.node(`${r.name}/grad`, 'MaxPoolGrad', [r.inputs[0], r.name, dy!], pick(r, POOL_ATTRS))],
  AvgPool: (g, r, [dy]) => [g.node(`${r.name}/grad`, 'AvgPoolGrad', [g.shapeOf(r.inputs[0]), dy!], pick(r, POOL_ATTRS))],
  Mean: (g, r, [dy]) => {
    // Global average pooling: every input position gets dy / (H·W).
    const count = spatial(r).count!;
    const wide = g.node(`${r.name}/grad_broadcast`, 'BroadcastTo', [expand(g, r, dy!), g.shapeOf(r.inputs[0])], { ...FLOAT_T, Tidx: attr.type(DT_INT32) });
    return [g.node(`${r.name}/grad`, 'Mul', [wide, g.scalar(`${r.name}/grad_scale`, 1 / count)], FLOAT_T)];
  },
  Max: (g, r, [dy]) => {
    // Global max pooling: dy goes to every position equal to the maximum (TF.js's gradient for max).
    spatial(r);
    const x = r.inputs[0];
    const hit = g.node(`${r.name}/grad_hit`, 'Cast', [g.node(`${r.name}/grad_eq`, 'Equal', [x, expand(g, r, r.name)], { ...FLOAT_T, incompatible_shape_error: attr.bool(true) })], {
      SrcT: attr.type(DT_BOOL), DstT: attr.type(DT_FLOAT), Truncate: attr.bool(false),
    });
    return [g.node(`${r.name}/grad`, 'Mul', [hit, expand(g, r, dy!)], FLOAT_T)];
  },
  // Same-shaped operands only: the translators emit no broadcasting AddV2 or Mul in a training graph, except by
  // constants and dropout masks, which get no gradient, and a folded BatchNorm's scale, whose Mul says what to sum.
  AddV2: (_g, _r, [dy]) => [dy, dy],
  Mul: (g, r, [dy], need) => {
    const [a, b] = r.inputs;
    let db = need[1] ? g.node(`${r.name}/grad_b`, 'Mul', [dy!, a], FLOAT_T) : undefined;
    // A per-channel factor (a folded BatchNorm's scale) broadcast over a kernel: its gradient is summed back.
    if (db && r.meta?.reduce) {
      db = g.node(`${r.name}/grad_b_sum`, 'Sum', [db, g.ints(`${r.name}/grad_axes`, r.meta.reduce)], { ...FLOAT_T, Tidx: attr.type(DT_INT32), keep_dims: attr.bool(false) });
    }
    return [need[0] ? g.node(`${r.name}/grad_a`, 'Mul', [dy!, b], FLOAT_T) : undefined, db];
  },
  ConcatV2: (g, r, [dy]) => {
    const splits = r.meta!.splits!;
    const axis = r.inputs[r.inputs.length - 1];
    const n = g.node(`${r.name}/grad`, 'SplitV', [dy!, g.ints(`${r.name}/grad_sizes`, splits), axis], {
      ...FLOAT_T, num_split: attr.int(splits.length), Tlen: attr.type(DT_INT32),
    });
    return splits.map((_, k) => out(n, k));
  },
  Pad: (g, r, [dy]) => {
    const edges = r.meta!.edges!;
    return [g.node(`${r.name}/grad`, 'Slice', [dy!, g.ints(`${r.name}/grad_begin`, edges.map((e) => e[0])), g.shapeOf(r.inputs[0])], {
      ...FLOAT_T, Index: attr.type(DT_INT32),
    })];
  },
  Slice: (g, r, [dy]) => {
    const edges = r.meta!.edges!;
    return [g.node(`${r.name}/grad`, 'Pad', [dy!, g.const(`${r.name}/grad_paddings`, Int32Array.from(edges.flat()), [edges.length, 2])], {
      ...FLOAT_T, Tpaddings: attr.type(DT_INT32),
    })];
  },
  ResizeNearestNeighbor: (g, r, [dy]) => [g.node(`${r.name}/grad`, 'ResizeNearestNeighborGrad', [dy!, g.ints(`${r.name}/grad_size`, r.meta!.from!)], pick(r, RESIZE_ATTRS))],
  ResizeBilinear: (g, r, [dy]) => [g.node(`${r.name}/grad`, 'ResizeBilinearGrad', [dy!, r.inputs[0]], pick(r, RESIZE_ATTRS))],
  Reshape: (g, r, [dy]) => [reshape(g, `${r.name}/grad`, dy!, g.shapeOf(r.inputs[0]))],
};

/** Splits `node:k` into its node and output index. */
function parseRef(ref: string): [string, number] {
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? [m[1], Number(m[2])] : [ref, 0];
}

/**
 * Adds the backward pass to `g`: given the gradients `seeds` of some forward tensors (tensor name → gradient
 * node), returns the gradient node of each tensor in `wrt` (undefined where `wrt` does not affect the seeds).
 * `forward` is the forward pass in the order it was emitted.
 * @throws UnsupportedGraphError for an op without a gradient rule on the path
 * @example
 * const [dw] = addGradients(g, forward, new Map([[output, dLoss]]), [weight.read]);
 */
export function addGradients(g: GraphBuilder, forward: readonly OpRecord[], seeds: ReadonlyMap<string, string>, wrt: readonly string[]): Grad[] {
  const targets = new Set(wrt);
  // Nodes whose value depends on a target: only they pass gradients on.
  const depends = new Set<string>();
  for (const r of forward) {
    if (targets.has(r.name) || r.inputs.some((i) => depends.has(parseRef(i)[0]))) depends.add(r.name);
  }
  const pending = new Map<string, string[]>();
  const add = (ref: string, grad: string) => {
    const [node, k] = parseRef(ref);
    const key = out(node, k);
    const list = pending.get(key);
    if (list) list.push(grad);
    else pending.set(key, [grad]);
  };
  const total = (key: string): Grad => {
    const list = pending.get(key);
    if (!list) return undefined;
    if (list.length === 1) return list[0];
    const [node] = parseRef(key);
    const sum = g.node(`${node}/grad_sum`, 'AddN', list, { ...FLOAT_T, N: attr.int(list.length) });
    pending.set(key, [sum]);
    return sum;
  };
  for (const [ref, grad] of seeds) add(ref, grad);

  for (let i = forward.length - 1; i >= 0; i--) {
    const r = forward[i];
    if (!depends.has(r.name) || targets.has(r.name)) continue;
    // Forward graphs only consume output 0 of every node (FusedBatchNormV3's others feed only its gradient).
    const dy = total(r.name);
    if (dy === undefined) continue;
    const rule = RULES[r.op];
    if (!rule) throw new UnsupportedGraphError(`no gradient for ${r.op} (${r.name})`);
    const need = r.inputs.map((ref) => depends.has(parseRef(ref)[0]));
    rule(g, r, [dy], need).forEach((grad, k) => {
      if (grad !== undefined && need[k]) add(r.inputs[k], grad);
    });
  }
  return wrt.map((w) => total(w));
}
