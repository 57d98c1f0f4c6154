import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type * as H5 from 'h5wasm';
import { CxrError, InputFileError } from '../errors';
import { assignWeightsInOrder, weightedLayers, type SourceLayer } from './assign-weights';

type H5Lib = typeof H5;
let h5lib: Promise<H5Lib> | undefined;

/** h5wasm's Node build (ESM, host filesystem), loaded once. */
async function h5(): Promise<H5Lib> {
  // A variable specifier: the Node entry is an `exports` subpath that CommonJS type resolution cannot see.
  const spec = 'h5wasm/node';
  h5lib ??= (import(spec) as Promise<H5Lib>).then(async (lib) => {
    await lib.ready;
    return lib;
  });
  return h5lib;
}

/** Keras splits long attributes into `name0`, `name1`, ... (HDF5 caps attribute size at 64 KiB). */
function stringListAttr(obj: H5.Group, name: string): string[] | undefined {
  const read = (key: string): string[] | undefined => {
    const a = obj.attrs[key];
    if (!a) return undefined;
    const v = a.value;
    return (Array.isArray(v) ? v : [v]).map((x) => (x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : String(x)));
  };
  const whole = read(name);
  if (whole) return whole;
  const parts: string[] = [];
  for (let i = 0; ; i++) {
    const part = read(`${name}${i}`);
    if (!part) break;
    parts.push(...part);
  }
  return parts.length > 0 ? parts : undefined;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** HDF5 puts its signature at byte 0, 512, 1024, 2048, ...; checked first so libhdf5 never prints its error stack. */
function hasHdf5Signature(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(8);
    for (let offset = 0; offset <= 1 << 20; offset = offset === 0 ? 512 : offset * 2) {
      if (fs.readSync(fd, buf, 0, 8, offset) < 8) return false;
      if (buf.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

function openH5(lib: H5Lib, file: string): H5.File {
  if (!fs.existsSync(file)) throw new InputFileError(file, 'weights file not found');
  if (!hasHdf5Signature(file)) throw new InputFileError(file, 'not an HDF5 file (no HDF5 signature)');
  try {
    return new lib.File(file, 'r');
  } catch (err) {
    throw new InputFileError(file, `not a readable HDF5 file (${(err as Error).message})`, { cause: err });
  }
}

/** The group holding `layer_names`: the root (weights-only files) or `model_weights` (full-model files). */
function weightsRoot(f: H5.File, file: string): H5.Group {
  if (stringListAttr(f, 'layer_names')) return f;
  const mw = f.get('model_weights');
  if (mw instanceof Object && 'attrs' in mw && stringListAttr(mw as H5.Group, 'layer_names')) return mw as H5.Group;
  throw new InputFileError(
    file,
    'not a legacy Keras HDF5 weights file (no "layer_names" attribute at the root or under "model_weights")',
  );
}

/**
 * Reads a legacy Keras HDF5 weights file (`layer_names` / `weight_names` attributes, as written by Keras 2
 * and by Keras 3's legacy `.h5` saving): the layers that have weights, in the file's order, with their
 * arrays in `weight_names` order. `withValues: false` reads only names and shapes.
 */
async function readKerasH5(file: string, withValues: boolean): Promise<SourceLayer[]> {
  const lib = await h5();
  const f = openH5(lib, file);
  try {
    const root = weightsRoot(f, file);
    const out: SourceLayer[] = [];
    for (const layer of stringListAttr(root, 'layer_names') ?? []) {
      const g = root.get(layer);
      if (!(g instanceof lib.Group)) throw new InputFileError(file, `layer "${layer}" is listed in layer_names but has no group`);
      const names = (stringListAttr(g, 'weight_names') ?? []).filter((n) => n !== '');
      if (names.length === 0) continue;
      const weights = names.map((name) => {
        const d = g.get(name);
        if (!(d instanceof lib.Dataset)) throw new InputFileError(file, `weight "${name}" of layer "${layer}" is missing`);
        const shape = d.shape ?? [];
        let values: Float32Array = new Float32Array(0);
        if (withValues) {
          const v = d.value;
          if (v instanceof Float32Array) values = v;
          else if (v instanceof Float64Array || v instanceof Uint16Array) values = Float32Array.from(v as ArrayLike<number>);
          else throw new InputFileError(file, `weight "${name}" of layer "${layer}" has unsupported type ${String(d.dtype)}`);
        }
        return { name, shape, values };
      });
      out.push({ layer, weights });
    }
    return out;
  } catch (err) {
    if (err instanceof CxrError) throw err;
    throw new InputFileError(file, `cannot read as Keras HDF5 weights (${(err as Error).message})`, { cause: err });
  } finally {
    f.close();
  }
}

/** Names and shapes of the weights in a legacy Keras `.h5` file, layer by layer (only layers with weights). */
export async function listH5Weights(file: string): Promise<{ layer: string; weights: { name: string; shape: number[] }[] }[]> {
  const layers = await readKerasH5(file, false);
  return layers.map((l) => ({ layer: l.layer, weights: l.weights.map(({ name, shape }) => ({ name, shape })) }));
}

/**
 * Loads a legacy Keras HDF5 weights file into `model` the way Keras `load_weights` does for `.h5`:
 * weighted layers matched in topological order, weights in layer order, every shape checked first
 * (a CxrError names the layer and both shapes; the model is left unchanged).
 */
export async function loadKerasH5Weights(model: tf.LayersModel, file: string): Promise<void> {
  assignWeightsInOrder(model, await readKerasH5(file, true), file);
}

/**
 * Writes `model`'s weights as a legacy Keras HDF5 weights file (loadable by Keras 2/3 `load_weights`
 * and by {@link loadKerasH5Weights}); written to a temporary file and renamed into place.
 */
export async function saveKerasH5Weights(model: tf.LayersModel, file: string): Promise<void> {
  const lib = await h5();
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.tmp-${process.pid}`);
  try {
    const f = new lib.File(tmp, 'w');
    try {
      f.create_attribute('layer_names', model.layers.map((l) => l.name));
      f.create_attribute('backend', 'tensorflow');
      f.create_attribute('keras_version', '2.15.0');
      const weighted = new Set(weightedLayers(model));
      for (const layer of model.layers) {
        const g = f.create_group(layer.name);
        // Layers without weights get no weight_names attribute, which Keras reads as an empty list.
        if (!weighted.has(layer)) continue;
        const inner = g.create_group(layer.name);
        const kinds = layer.weights.map((v) => `${v.originalName.split('/').pop()}:0`);
        g.create_attribute('weight_names', kinds.map((k) => `${layer.name}/${k}`));
        layer.weights.forEach((v, i) => {
          const data = v.read().dataSync() as Float32Array;
          inner.create_dataset({ name: kinds[i], data, shape: v.shape as number[], dtype: '<f' });
        });
      }
    } finally {
      f.close();
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw new CxrError(`${file}: cannot write weights (${(err as Error).message})`, { cause: err });
  }
}
