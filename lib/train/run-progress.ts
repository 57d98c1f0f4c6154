/**
 * Where a run's training stands, and how that survives a kill: the state (phase, epoch, callbacks, history),
 * the best weights so far and Adam's moments are checkpointed after every epoch and restored into a freshly
 * built model on resume, so a resumed run continues bit for bit like an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs';
import { CxrError } from '../errors';
import { adamInternals } from '../graph/adam-state';
import { keyedWeights } from '../models/cut';
import type { TensorGroup } from './checkpoint';
import { readRunCheckpoint, writeHistory, writeRunCheckpoint, type RunState } from './run-folder';
import type { RunPlan } from './run-plan';
import { initialPhaseState } from './trainer';

/** A run's training state, its best weights and its last checkpoint. */
export class RunProgress {
  /** Weights of the current phase's best epoch so far (the trainer fills it). */
  readonly best: { values: tf.Tensor[] | null } = { values: null };
  /** Folder of the last checkpoint written or restored. */
  lastCheckpoint: string | null = null;
  /** Adam's state saved mid-phase, waiting for the phase's optimizer. */
  private optimizerWeights: TensorGroup | null = null;

  private constructor(readonly dir: string, readonly plan: RunPlan, public state: RunState) {}

  /**
   * The run's latest checkpoint restored into `plan.model` (weights, best weights, Adam's state for the
   * phase's optimizer), or a fresh start when there is none.
   * @throws CxrError when a checkpointed weight does not fit the model.
   */
  static restore(dir: string, plan: RunPlan): RunProgress {
    const fresh: RunState = { format: 1, phase: 0, phaseState: initialPhaseState(plan.config.phases[0]), history: [], serial: 0, complete: false };
    const found = readRunCheckpoint(dir);
    if (!found) return new RunProgress(dir, plan, fresh);
    const progress = new RunProgress(dir, plan, found.data.state);
    progress.lastCheckpoint = found.folder;
    const weights = found.data.groups.weights ?? [];
    const byKey = new Map(keyedWeights(plan.model, plan.model.layers).map((w) => [w.key, w]));
    for (const { name, tensor } of weights) {
      const w = byKey.get(name);
      if (!w || w.variable.shape.join() !== tensor.shape.join()) throw new CxrError(`${found.folder}: checkpoint weight ${name} does not fit the model`);
      w.variable.assign(tensor);
    }
    progress.optimizerWeights = found.data.groups.optimizer ?? null;
    progress.best.values = found.data.groups.best ? found.data.groups.best.map((t) => t.tensor) : null;
    tf.dispose(weights.map((t) => t.tensor));
    return progress;
  }

  /** Puts Adam's checkpointed state into the phase's new optimizer (once; later phases start fresh). */
  async restoreOptimizer(optimizer: tf.AdamOptimizer): Promise<void> {
    if (!this.optimizerWeights) return;
    const acc = this.optimizerWeights.filter((w) => w.name.startsWith('acc_beta'));
    await optimizer.setWeights(this.optimizerWeights.filter((w) => !w.name.startsWith('acc_beta')));
    // setWeights recomputes beta^t with pow(); the running products differ in the last bit, so put
    // back the exact values: a resumed run then matches an uninterrupted one bit for bit.
    const powers = adamInternals(optimizer);
    for (const w of acc) (w.name === 'acc_beta1' ? powers.accBeta1 : powers.accBeta2).assign(w.tensor);
    this.optimizerWeights = null;
  }

  /** Writes the next checkpoint (with `optimizer`'s state while a phase is in progress) and history.csv. */
  async save(optimizer: tf.AdamOptimizer | null): Promise<void> {
    const s = this.state;
    s.serial += 1;
    const groups: Record<string, TensorGroup> = {
      weights: this.plan.trackedWeights(s.phase).map((w) => ({ name: w.key, tensor: w.variable })),
    };
    if (optimizer) {
      const slots = (await optimizer.getWeights()).map((w, i) => ({ name: i === 0 ? 'iter' : `slot_${i}`, tensor: w.tensor }));
      const acc = adamInternals(optimizer);
      groups.optimizer = [...slots, { name: 'acc_beta1', tensor: acc.accBeta1 }, { name: 'acc_beta2', tensor: acc.accBeta2 }];
    }
    if (this.best.values) groups.best = this.best.values.map((t, i) => ({ name: `best_${i}`, tensor: t }));
    this.lastCheckpoint = await writeRunCheckpoint(this.dir, { state: s, groups });
    writeHistory(this.dir, s.history);
  }

  /** Ends the phase in progress: drops its best weights and moves the state to the next phase's start. */
  nextPhase(): void {
    tf.dispose(this.best.values ?? []);
    this.best.values = null;
    const phases = this.plan.config.phases;
    this.state.phase += 1;
    this.state.phaseState = initialPhaseState(phases[Math.min(this.state.phase, phases.length - 1)]);
  }
}
