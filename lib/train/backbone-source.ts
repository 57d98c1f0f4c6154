import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { InputFileError } from '../errors';
import { getBackbone, loadBackbone } from '../models/registry';
import type { PreprocessMode } from '../models/types';
import { withSeededMathRandom } from '../random';

/** What training needs from a backbone: how to build it with its weights, and how to name those weights. */
export interface BackboneSource {
  name: string;
  defaultInputSize: number;
  /** Smallest input side the backbone accepts. */
  minInputSize: number;
  preprocess: PreprocessMode;
  /** The backbone with pooling 'none' and its weights; the same model every call for the same arguments. */
  load(inputSize: number, weights: string, seed: number): Promise<tf.LayersModel>;
  /** Identity of the weights, for feature-cache keys and the run record. */
  weightsId(weights: string, seed: number): Promise<string>;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  } catch (err) {
    throw new InputFileError(file, `cannot read weights (${(err as NodeJS.ErrnoException).code ?? err})`, { cause: err });
  }
  return hash.digest('hex');
}

/** A backbone of lib/models (nasnetmobile, resnet101, inceptionresnetv2, resnet50). */
export function registryBackbone(name: string): BackboneSource {
  const spec = getBackbone(name);
  return {
    name: spec.name,
    defaultInputSize: spec.defaultInputSize,
    minInputSize: spec.minInputSize,
    preprocess: spec.preprocess,
    load: async (inputSize, weights, seed) =>
      weights === 'none'
        ? // Random initialisation drawn from the run seed, so a resumed run rebuilds the same backbone.
          withSeededMathRandom(seed, () => spec.build({ inputSize, pooling: 'none' }))
        : loadBackbone(spec.name, { inputSize, pooling: 'none', weights }),
    weightsId: async (weights, seed) => {
      if (weights === 'none') return `none:seed${seed}`;
      if (weights === 'imagenet') {
        const w = spec.weights;
        return w.kind === 'keras-h5' ? `imagenet:md5:${w.md5}` : `imagenet:${w.package}@${w.version}`;
      }
      return `file:sha256:${await sha256File(weights)}`;
    },
  };
}
