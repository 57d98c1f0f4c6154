import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InputFileError } from '../errors';
import { writeDirAtomic } from '../io/atomic';
// Custom layers must be registered before a saved model is deserialised.
import './layers-bn';
import './layers';

/** Weight shard size: small enough for browsers and static hosting, as the TF.js converter does. */
const SHARD_BYTES = 4 * 1024 * 1024;

/**
 * Saves a model in the TensorFlow.js layers format (`model.json` + `group1-shardNofM.bin`), which both
 * {@link loadModel} and `tf.loadLayersModel` in a browser read (with this project's custom layers
 * registered). The folder is written under a temporary name and renamed into place.
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await writeDirAtomic(dir, async (tmp) => {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const data = artifacts.weightData ? new tf.io.CompositeArrayBuffer(artifacts.weightData).slice() : new ArrayBuffer(0);
        const count = Math.max(1, Math.ceil(data.byteLength / SHARD_BYTES));
        const paths: string[] = [];
        for (let i = 0; i < count; i++) {
          const name = `group1-shard${i + 1}of${count}.bin`;
          fs.writeFileSync(path.join(tmp, name), new Uint8Array(data, i * SHARD_BYTES, Math.min(SHARD_BYTES, data.byteLength - i * SHARD_BYTES)));
          paths.push(name);
        }
        const json: tf.io.ModelJSON = {
          modelTopology: artifacts.modelTopology as object,
          format: artifacts.format ?? 'layers-model',
          generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
          convertedBy: null,
          weightsManifest: [{ paths, weights: artifacts.weightSpecs ?? [] }],
        };
        if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
        if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
        fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(json));
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(json) };
      }),
    );
  });
}

/** Reads `model.json` and its shards from disk as TF.js model artifacts (no tfjs-node needed). */
export function fileModelArtifacts(modelJson: string): tf.io.IOHandler {
  return {
    load: async () => {
      if (!fs.existsSync(modelJson)) throw new InputFileError(modelJson, 'model file not found');
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(fs.readFileSync(modelJson, 'utf8')) as tf.io.ModelJSON;
      } catch (err) {
        throw new InputFileError(modelJson, `not a TensorFlow.js model.json (${(err as Error).message})`);
      }
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
        throw new InputFileError(modelJson, 'not a TensorFlow.js layers model (no modelTopology or weightsManifest)');
      }
      const dir = path.dirname(modelJson);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const buffers = manifest.flatMap((g) =>
          g.paths.map((p) => {
            const file = path.join(dir, p);
            if (!fs.existsSync(file)) throw new InputFileError(file, `weight shard listed in ${modelJson} is missing`);
            const b = fs.readFileSync(file);
            return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
          }),
        );
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

/**
 * Loads a model saved by {@link saveModel} (or any TF.js layers model): `dir` is the folder or its
 * `model.json`.
 */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const modelJson = dir.endsWith('.json') ? dir : path.join(dir, 'model.json');
  return tf.loadLayersModel(fileModelArtifacts(modelJson));
}
