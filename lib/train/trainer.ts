/**
 * One training phase, Keras-style: shuffled epochs through the compiled training step, validation after each,
 * early stopping and learning-rate reduction on validation metrics, the best weights restored at the end.
 * Where the batches come from and where checkpoints go is the caller's (lib/train/run.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { CxrError } from '../errors';
import { progress } from '../io/progress';
import { EarlyStopping, ReduceLrOnPlateau, type EarlyStoppingState, type EpochLogs, type ReduceLrState } from './callbacks';
import type { PhaseConfig } from './config';
import type { ModelCut } from '../models/cut';
import { adamInternals } from '../graph/adam-state';
import { disposeBatch, type Batch } from './phase-data';
import { hashSeed } from '../random';
import { compileTrainingStep, type TrainingStep } from './step';
import type { TaskSpec } from './tasks';

/** One row of history.csv. */
export interface HistoryRow extends EpochLogs {
  /** 1-based over the whole run. */
  epoch: number;
  /** 1-based phase number. */
  phase: number;
  /** Learning rate used during the epoch. */
  lr: number;
  seconds: number;
}

/** Where a phase stands; saved in every checkpoint. */
export interface PhaseState {
  /** Epochs completed in this phase. */
  epoch: number;
  /** Learning rate for the next epoch. */
  lr: number;
  earlyStopping: EarlyStoppingState | null;
  reduceLr: ReduceLrState | null;
  /** Early stopping asked to stop: the phase ends (restoring the best weights) without more epochs. */
  stop: boolean;
}

/** A non-finite loss: the run stops, and the last good checkpoint stays as it is. */
export class NonFiniteLossError extends CxrError {}

export interface PhaseRun {
  /** 0-based phase index. */
  index: number;
  config: PhaseConfig;
  cut: ModelCut;
  task: TaskSpec;
  seed: number;
  optimizer: tf.AdamOptimizer;
  /** Variables that train in this phase (the optimizer's variable order). */
  vars: tf.Variable[];
  /** Weights of the best epoch so far (same order as `vars`), owned by the caller's state. */
  best: { values: tf.Tensor[] | null };
  /** Global epoch number (1-based) of this phase's first epoch. */
  firstEpoch: number;
  trainBatchCount: number;
  trainBatches(epoch: number): AsyncIterable<Batch>;
  valBatches(): AsyncIterable<Batch>;
  /** Called after each epoch with the new state: checkpoint and history. */
  epochEnd(state: PhaseState, row: HistoryRow): Promise<void>;
  /** The last good checkpoint, for the non-finite loss message. */
  lastCheckpoint(): string | null;
  quiet?: boolean;
}

export function initialPhaseState(config: PhaseConfig): PhaseState {
  return { epoch: 0, lr: config.learningRate, earlyStopping: null, reduceLr: null, stop: false };
}

const fmt = (v: number) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2));

/** Mean loss and accuracy of the current weights over the validation batches. */
async function evaluate(run: PhaseRun, steps: TrainingStep): Promise<{ loss: number; accuracy: number }> {
  let loss = 0;
  let correct = 0;
  let n = 0;
  for await (const batch of run.valBatches()) {
    const [l, c] = tf.tidy(() => {
      const out = steps.predict(batch.inputs) as tf.Tensor2D;
      return [run.task.loss(batch.y, out).mul(batch.n), run.task.correct(batch.y, out).sum()];
    });
    loss += (await l.data())[0];
    correct += (await c.data())[0];
    n += batch.n;
    tf.dispose([l, c]);
    disposeBatch(batch);
  }
  return n === 0 ? { loss: NaN, accuracy: NaN } : { loss: loss / n, accuracy: correct / n };
}

function nonFinite(run: PhaseRun, where: string, value: number): NonFiniteLossError {
  const ckpt = run.lastCheckpoint();
  return new NonFiniteLossError(
    `phase ${run.index + 1} ${where}: the loss is ${value}; training stopped. ` +
      (ckpt ? `The last good checkpoint is kept at ${ckpt}` : 'No epoch had completed, so there is no checkpoint') +
      ' (a lower learning rate or checking the inputs usually helps).',
  );
}

/**
 * Trains one phase from `state` (0 epochs done, or a checkpoint's state) to its end: Keras-style epochs
 * (shuffled batches, dropout on, metrics averaged over samples), validation after each epoch, early
 * stopping and learning-rate reduction on validation metrics, then the best weights restored.
 */
export async function trainPhase(run: PhaseRun, state: PhaseState): Promise<void> {
  const steps = compileTrainingStep(run.cut.suffix, {
    vars: run.vars,
    optimizer: run.optimizer,
    loss: run.task.activation === 'sigmoid' ? 'binaryCrossentropy' : 'categoricalCrossentropy',
    lossFn: (y, out) => run.task.loss(y as tf.Tensor2D, out as tf.Tensor2D),
  });
  if (!run.quiet) console.error(`phase ${run.index + 1}: training steps ${steps.engine === 'tensorflow-graph' ? 'run as one TensorFlow graph each' : `run as TF.js eager ops (${steps.reason})`}`);
  try {
    await trainEpochs(run, state, steps);
  } finally {
    steps.dispose();
  }
  const es = run.config.earlyStopping;
  if (es?.restoreBest && run.best.values) {
    run.vars.forEach((v, i) => v.assign(run.best.values![i]));
  }
}

async function trainEpochs(run: PhaseRun, state: PhaseState, steps: TrainingStep): Promise<void> {
  const cfg = run.config;
  const es = cfg.earlyStopping ? new EarlyStopping(cfg.earlyStopping, state.earlyStopping ?? undefined) : null;
  const rlr = cfg.reduceLr ? new ReduceLrOnPlateau(cfg.reduceLr, state.reduceLr ?? undefined) : null;
  let lr = state.lr;
  for (let epoch = state.epoch; epoch < cfg.epochs && !state.stop; epoch++) {
    const started = Date.now();
    adamInternals(run.optimizer).learningRate = lr;
    const bar = progress({ label: `phase ${run.index + 1} epoch ${epoch + 1}/${cfg.epochs}`, total: run.trainBatchCount, unit: 'batch', silent: run.quiet });
    let lossSum = 0;
    let correctSum = 0;
    let n = 0;
    let b = 0;
    for await (const batch of run.trainBatches(epoch)) {
      const { loss, output } = await steps.step(batch.inputs, batch.y, hashSeed(run.seed, 'noise', run.index, epoch, b));
      const correct = tf.tidy(() => run.task.correct(batch.y, output as tf.Tensor2D).sum());
      const c = (await correct.data())[0];
      tf.dispose([output, correct]);
      disposeBatch(batch);
      if (!Number.isFinite(loss)) throw nonFinite(run, `epoch ${epoch + 1} batch ${b + 1}`, loss);
      lossSum += loss * batch.n;
      correctSum += c;
      n += batch.n;
      b++;
      bar.tick(1, `loss ${fmt(lossSum / n)} acc ${fmt(correctSum / n)}`);
    }
    // Weights and optimizer state back into TF.js: the best-weights snapshot and the checkpoint read them.
    await steps.sync();
    const val = await evaluate(run, steps);
    if (!Number.isFinite(val.loss)) throw nonFinite(run, `epoch ${epoch + 1} validation`, val.loss);
    const logs: EpochLogs = { loss: lossSum / n, accuracy: correctSum / n, val_loss: val.loss, val_accuracy: val.accuracy };
    if (es) {
      const { improved, stop } = es.update(epoch, logs);
      if (improved && es.cfg.restoreBest) {
        tf.dispose(run.best.values ?? []);
        run.best.values = run.vars.map((v) => tf.clone(v));
      }
      state.stop = stop;
    }
    const usedLr = lr;
    if (rlr) lr = rlr.update(logs, lr);
    state.epoch = epoch + 1;
    state.lr = lr;
    state.earlyStopping = es ? es.state() : null;
    state.reduceLr = rlr ? rlr.state() : null;
    const seconds = (Date.now() - started) / 1000;
    const row: HistoryRow = { epoch: run.firstEpoch + epoch, phase: run.index + 1, ...logs, lr: usedLr, seconds };
    bar.done(
      `loss ${fmt(logs.loss)} acc ${fmt(logs.accuracy)} val_loss ${fmt(logs.val_loss)} val_acc ${fmt(logs.val_accuracy)} lr ${usedLr.toExponential(1)}` +
        (lr !== usedLr ? ` → ${lr.toExponential(1)}` : '') +
        (state.stop ? ' (early stop)' : ''),
    );
    await run.epochEnd(state, row);
  }
}
