/**
 * The training loss as graph nodes, with its gradient written out by hand: Keras's binary and categorical
 * cross-entropy with predictions clipped to [ε, 1 − ε], as TF.js computes them in lib/train/tasks.ts, so that a
 * graph step's loss and gradient are the eager step's. The gradient is seeded into the backward pass
 * (gradients.ts) at the model's output.
 */
import { attr, DT_FLOAT, DT_INT32, FLOAT_T, type GraphBuilder } from './builder';
import type { Message } from './protobuf';

/** The losses a training step computes (Keras's, with predictions clipped to [ε, 1 − ε]). */
export type LossKind = 'binaryCrossentropy' | 'categoricalCrossentropy';

/** Keras `backend.epsilon()`, the clipping of predictions before the logarithm (as lib/train/tasks.ts clips them). */
const EPSILON = 1e-7;

export interface LossNodes {
  loss: string;
  /** Gradient of the loss with respect to the model output. */
  grad: string;
}

/**
 * Adds the mean loss of predictions `p` against labels `y` (node names, same shape) and its gradient with
 * respect to `p`.
 * @example
 * const { loss, grad } = lossGraph(g, 'categoricalCrossentropy', output, labels);
 */
export function lossGraph(g: GraphBuilder, kind: LossKind, p: string, y: string): LossNodes {
  const T = FLOAT_T;
  const n = (base: string, op: string, inputs: string[], attrs: Record<string, Message> = T) => g.node(`loss/${base}`, op, inputs, attrs);
  const reduce = (base: string, op: 'Sum' | 'Mean', x: string, axes: number[], keep: boolean) =>
    n(base, op, [x, g.ints(`loss/${base}_axes`, axes)], { ...T, Tidx: attr.type(DT_INT32), keep_dims: attr.bool(keep) });
  const one = g.scalar('loss/one', 1);
  const lo = g.scalar('loss/eps', EPSILON);
  const hi = g.scalar('loss/one_minus_eps', 1 - EPSILON);
  // Gradient of clipByValue (TF.js's): passes where lo ≤ x ≤ hi.
  const clipped = (x: string, dx: string) => {
    const inside = n('inside', 'LogicalAnd', [n('ge', 'GreaterEqual', [x, lo]), n('le', 'LessEqual', [x, hi])], {});
    return n('clip_grad', 'SelectV2', [inside, dx, n('zeros', 'ZerosLike', [dx])]);
  };
  const count = (x: string) => n('count', 'Cast', [n('size', 'Size', [x], { ...T, out_type: attr.type(DT_INT32) })], {
    SrcT: attr.type(DT_INT32), DstT: attr.type(DT_FLOAT), Truncate: attr.bool(false),
  });
  if (kind === 'binaryCrossentropy') {
    // −mean(y·log p + (1 − y)·log(1 − p)), p clipped.
    const pc = n('clip', 'ClipByValue', [p, lo, hi]);
    const notY = n('one_minus_y', 'Sub', [one, y]);
    const notP = n('one_minus_p', 'Sub', [one, pc]);
    const ll = n('ll', 'AddV2', [n('pos', 'Mul', [y, n('log_p', 'Log', [pc])]), n('neg', 'Mul', [notY, n('log_not_p', 'Log', [notP])])]);
    const loss = n('loss', 'Neg', [reduce('mean', 'Mean', ll, [0, 1], false)]);
    const dpc = n('dp', 'RealDiv', [n('dll', 'Sub', [n('d_neg', 'RealDiv', [notY, notP]), n('d_pos', 'RealDiv', [y, pc])]), count(p)]);
    return { loss, grad: clipped(p, dpc) };
  }
  // −mean over rows of Σ y·log q, q = p / Σp clipped.
  const s = reduce('sum_p', 'Sum', p, [-1], true);
  const q = n('q', 'RealDiv', [p, s]);
  const qc = n('clip', 'ClipByValue', [q, lo, hi]);
  const rows = reduce('rows', 'Sum', n('ll', 'Mul', [y, n('log_q', 'Log', [qc])]), [-1], false);
  const loss = n('loss', 'Neg', [reduce('mean', 'Mean', rows, [0], false)]);
  const dq = clipped(q, n('dq', 'RealDiv', [n('neg_y_q', 'Neg', [n('y_q', 'RealDiv', [y, qc])]), count(rows)]));
  // Through q = p / Σp: dp = (dq − Σ dq·q) / Σp.
  const dot = reduce('dot', 'Sum', n('dq_q', 'Mul', [dq, q]), [-1], true);
  return { loss, grad: n('grad', 'RealDiv', [n('dq_centred', 'Sub', [dq, dot]), s]) };
}
