import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { CxrError, InputFileError, UsageError } from '../errors';
import { loadKerasH5Weights } from './h5-weights';
import { inceptionResNetV2Spec } from './inception-resnet-v2';
import { fileModelArtifacts } from './io';
import { nasnetMobileSpec } from './nasnet-mobile';
import { resnet101, resnet50 } from './resnet';
import { loadResNet50NpmWeights } from './resnet50-npm';
import { assignWeightsInOrder, weightedLayers } from './assign-weights';
import { offlineInstructions, weightsCached, weightsPath } from './weights';
import type { BackboneName, BackboneSpec, BuildOptions } from './types';

/** Every backbone, in the study's order. */
export const BACKBONES: Record<BackboneName, BackboneSpec> = {
  nasnetmobile: nasnetMobileSpec,
  resnet101,
  inceptionresnetv2: inceptionResNetV2Spec,
  resnet50,
};

export const BACKBONE_NAMES = Object.keys(BACKBONES) as BackboneName[];

/** The spec for `name` (case-insensitive); a UsageError lists the valid names. */
export function getBackbone(name: string): BackboneSpec {
  const spec = BACKBONES[name.toLowerCase() as BackboneName];
  if (!spec) throw new UsageError(`unknown backbone "${name}" (choose one of: ${BACKBONE_NAMES.join(', ')})`);
  return spec;
}

/** Whether the backbone's ImageNet weights are in the cache (existence only; the MD5 is checked on load). */
export function weightsAvailable(name: string): boolean {
  return fs.existsSync(weightsPath(getBackbone(name)));
}

export interface LoadBackboneOptions extends BuildOptions {
  /**
   * `'imagenet'` (from the cache), `'none'` (random initialisation), or a path to a legacy Keras `.h5`
   * weights file or a TF.js `model.json` of the same architecture.
   */
  weights: 'imagenet' | 'none' | string;
}

/** Copies the weights of a TF.js model of the same architecture (matched in order, shapes checked). */
async function loadTfjsWeights(model: tf.LayersModel, modelJson: string): Promise<void> {
  const src = await tf.loadLayersModel(fileModelArtifacts(modelJson));
  try {
    assignWeightsInOrder(
      model,
      weightedLayers(src).map((l) => {
        const values = l.getWeights();
        return {
          layer: l.name,
          weights: l.weights.map((w, i) => ({ name: w.originalName, shape: w.shape as number[], values: values[i].dataSync() as Float32Array })),
        };
      }),
      modelJson,
    );
  } finally {
    src.dispose();
  }
}

/**
 * Builds a backbone and loads its weights. ImageNet weights must be in the cache: otherwise a CxrError
 * says exactly which file to place where (see `cxr weights fetch`). Weight shapes are always checked.
 */
export async function loadBackbone(name: string, opts: LoadBackboneOptions): Promise<tf.LayersModel> {
  const spec = getBackbone(name);
  const { weights, ...build } = opts;
  const model = spec.build(build);
  try {
    if (weights === 'none') return model;
    if (weights === 'imagenet') {
      const file = weightsPath(spec);
      if (!(await weightsCached(spec))) {
        throw new CxrError(`ImageNet weights for ${spec.displayName} are not available offline: ${offlineInstructions(spec)}`);
      }
      if (spec.weights.kind === 'keras-h5') await loadKerasH5Weights(model, file);
      else await loadResNet50NpmWeights(model, file);
      return model;
    }
    if (!fs.existsSync(weights)) throw new InputFileError(weights, 'weights file not found');
    if (weights.endsWith('.json')) await loadTfjsWeights(model, weights);
    else if (/\.(h5|hdf5)$/i.test(weights)) await loadKerasH5Weights(model, weights);
    else throw new InputFileError(weights, 'unknown weights format (expected a Keras .h5 file or a TF.js model.json)');
    return model;
  } catch (err) {
    model.dispose();
    throw err;
  }
}
