/**
 * Keras's EarlyStopping and ReduceLROnPlateau, with their state serialisable so that a resumed run picks up
 * the patience counters and best values where the checkpoint left them.
 */
import type { EarlyStoppingConfig, ReduceLrConfig } from './config';

/** Metrics of one epoch (Keras names). */
export interface EpochLogs {
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
}

const better = (monitor: string, a: number, b: number, minDelta: number): boolean =>
  monitor === 'val_loss' ? a < b - minDelta : a > b + minDelta;

const worst = (monitor: string): number => (monitor === 'val_loss' ? Infinity : -Infinity);

/** What both callbacks keep: the best value of their monitor and the epochs waited since (restored on resume). */
abstract class PlateauWatch {
  best: number;
  wait = 0;

  constructor(monitor: string, state?: { best: number | null; wait: number }) {
    this.best = state?.best ?? worst(monitor);
    if (state) this.wait = state.wait;
  }

  protected bestForJson(): number | null {
    return Number.isFinite(this.best) ? this.best : null;
  }
}

/** Serialisable state of {@link EarlyStopping} (Infinity is stored as null in JSON). */
export interface EarlyStoppingState {
  best: number | null;
  bestEpoch: number;
  wait: number;
}

/**
 * Keras 3 EarlyStopping (min_delta 0, no baseline): counts epochs without strict improvement and stops
 * once `patience` of them have passed; `bestEpoch` says whose weights to restore at the end of the phase.
 */
export class EarlyStopping extends PlateauWatch {
  bestEpoch = -1;

  constructor(readonly cfg: EarlyStoppingConfig, state?: EarlyStoppingState) {
    super(cfg.monitor, state);
    if (state) this.bestEpoch = state.bestEpoch;
  }

  /** Records epoch `epoch` (0-based in the phase); says whether it is the new best and whether to stop. */
  update(epoch: number, logs: EpochLogs): { improved: boolean; stop: boolean } {
    const current = logs[this.cfg.monitor];
    this.wait += 1;
    if (better(this.cfg.monitor, current, this.best, 0)) {
      this.best = current;
      this.bestEpoch = epoch;
      this.wait = 0;
      return { improved: true, stop: false };
    }
    return { improved: false, stop: this.wait >= this.cfg.patience && epoch > 0 };
  }

  state(): EarlyStoppingState {
    return { best: this.bestForJson(), bestEpoch: this.bestEpoch, wait: this.wait };
  }
}

export interface ReduceLrState {
  best: number | null;
  wait: number;
}

/** Keras ReduceLROnPlateau (cooldown 0): after `patience` epochs without improvement, lr ← max(lr·factor, minLr). */
export class ReduceLrOnPlateau extends PlateauWatch {
  constructor(readonly cfg: ReduceLrConfig, state?: ReduceLrState) {
    super(cfg.monitor, state);
  }

  /** The learning rate for the next epoch. */
  update(logs: EpochLogs, lr: number): number {
    const current = logs[this.cfg.monitor];
    if (better(this.cfg.monitor, current, this.best, this.cfg.minDelta)) {
      this.best = current;
      this.wait = 0;
      return lr;
    }
    this.wait += 1;
    if (this.wait >= this.cfg.patience && lr > Math.fround(this.cfg.minLr)) {
      this.wait = 0;
      return Math.max(lr * this.cfg.factor, this.cfg.minLr);
    }
    return lr;
  }

  state(): ReduceLrState {
    return { best: this.bestForJson(), wait: this.wait };
  }
}
