/**
 * How a run's configuration maps onto its model: where each phase cuts the network, which feature cache
 * serves each frozen part, and which weights can differ from a freshly built model (what a checkpoint must
 * hold). Built the same way at start and at resume, so both find the same caches and weights.
 */
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/types';
import { enhanceKey } from '../enhance/pipeline';
import { cutModel, keyedWeights, type ModelCut } from '../models/cut';
import { PROJECT_ROOT } from '../paths';
import type { PhaseConfig, RunConfig } from './config';
import { FeatureStore, type FeatureKey } from './feature-cache';
import type { Example, FeatureRequest, ImageSettings } from './phase-data';
import type { RunRecord } from './run-folder';
import { taskSpec, type TaskSpec } from './tasks';

/** One phase of the plan: its settings and the cut between its frozen prefix and trainable suffix. */
export interface PlannedPhase {
  index: number;
  cfg: PhaseConfig;
  cut: ModelCut;
}

/** The examples of `samples` with the task's targets. */
export function examplesOf(samples: Split['train'], task: TaskSpec): Example[] {
  return samples.map((sample) => ({ sample, target: task.target(sample.label) }));
}

function paramCount(cut: ModelCut): number {
  return cut.suffixLayers.reduce((n, l) => n + l.trainableWeights.reduce((m, w) => m + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0), 0);
}

/** A run's phases on its model, with their feature caches. */
export class RunPlan {
  readonly config: RunConfig;
  readonly task: TaskSpec;
  readonly images: ImageSettings;
  readonly train: Example[];
  readonly val: Example[];
  readonly phases: PlannedPhase[];
  private readonly stores = new Map<string, FeatureStore>();

  /** Cuts `model` (the run's classifier, built or restored) at each phase's `trainAfter` layer. */
  constructor(readonly record: RunRecord, readonly split: Split, readonly model: tf.LayersModel) {
    const config = (this.config = record.config);
    this.task = taskSpec(config.task);
    this.images = { inputSize: config.inputSize, fit: config.fit, enhance: config.enhance, preprocess: config.preprocess, prep: config.prep };
    this.train = examplesOf(split.train, this.task);
    this.val = examplesOf(split.val, this.task);
    // Phases cutting after the same layer share one cut (and so one set of boundary tensors).
    const cuts = new Map<string | null, ModelCut>();
    this.phases = config.phases.map((cfg, index) => {
      if (!cuts.has(cfg.trainAfter)) cuts.set(cfg.trainAfter, cutModel(model, cfg.trainAfter));
      return { index, cfg, cut: cuts.get(cfg.trainAfter)! };
    });
  }

  /**
   * The feature cache of a phase's frozen prefix: plain (one unaugmented copy per image) or augmented views.
   * Opening a store writes its meta.json into the cache, so stores open only when a step needs them.
   */
  store(phase: PlannedPhase, views: boolean): FeatureStore {
    const id = `${phase.index}:${views}`;
    let store = this.stores.get(id);
    if (!store) {
      const c = this.config;
      const key: FeatureKey = {
        model: c.model, weightsId: this.record.runtime.weightsId, inputSize: c.inputSize, fit: c.fit, preprocess: c.preprocess,
        enhance: c.enhance ? enhanceKey(c.enhance) : 'none', cut: phase.cfg.trainAfter!,
        // Only when set, so the caches of runs without them keep their keys.
        ...(c.prep.border > 0 || c.prep.normalise ? { prep: `border${c.prep.border}${c.prep.normalise ? '-normalised' : ''}` } : {}),
        ...(c.prep.lungs ? { lungs: `${c.prep.lungs.mode}${c.prep.lungs.margin}@${this.record.runtime.segmenter?.id ?? 'none'}` } : {}),
        ...(views ? { views: { seed: c.seed, flip: c.augment.flip, rotation: c.augment.rotation, ...(c.jitter ? { jitter: c.jitter } : {}) } } : {}),
      };
      store = new FeatureStore(key, phase.cut.boundary);
      this.stores.set(id, store);
    }
    return store;
  }

  /** What config.json records of each phase: how its frozen part runs and where its features are cached. */
  runtimePhases(): RunRecord['runtime']['phases'] {
    return this.phases.map((p) => ({
      trainAfter: p.cfg.trainAfter,
      frozen: p.cfg.frozen,
      views: p.cfg.views,
      augment: p.cfg.augment,
      featureCache: p.cfg.frozen === 'stream' ? null : path.relative(PROJECT_ROOT, this.store(p, p.cfg.frozen === 'views').dir),
      trainableParams: paramCount(p.cut),
    }));
  }

  /** Features of every cached phase from `fromPhase` on, to compute in one pass over the images. */
  featureRequests(fromPhase: number): FeatureRequest[] {
    const { augment, jitter, seed } = this.config;
    const request = (store: FeatureStore, p: PlannedPhase, examples: Example[], views: number | null): FeatureRequest =>
      ({ store, prefix: p.cut.prefix!, examples, views, augment, jitter, viewSeed: seed });
    return this.phases.slice(fromPhase).flatMap((p) => {
      if (p.cfg.frozen === 'stream') return [];
      if (p.cfg.frozen === 'cache') return [request(this.store(p, false), p, [...this.train, ...this.val], null)];
      return [request(this.store(p, false), p, this.val, null), request(this.store(p, true), p, this.train, p.cfg.views)];
    });
  }

  /** Weights that can differ from the freshly built model: every layer trained in a phase up to `phase`. */
  trackedWeights(phase: number): { key: string; variable: tf.Variable }[] {
    const layers = new Set(this.phases.slice(0, Math.min(phase + 1, this.phases.length)).flatMap((p) => p.cut.suffixLayers));
    return keyedWeights(this.model, [...layers]);
  }
}
