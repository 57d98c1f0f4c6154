import * as tf from '@tensorflow/tfjs';
import { producerNode } from '../tfjs-internal';

/*
 * Cutting a functional model in two. Everything up to a layer is the frozen "prefix"; the rest, the
 * "suffix", is rebuilt on new inputs from the very same layer objects, so it shares their weights: training
 * the suffix trains the full model. The tensors crossing the cut are what the feature cache stores.
 */

type Layer = tf.layers.Layer;

export interface ModelCut {
  /** Model inputs → the tensors crossing the cut; null when the cut is at the inputs (nothing frozen). */
  prefix: tf.LayersModel | null;
  /** Crossing tensors → model outputs, sharing layers and weights with the full model. */
  suffix: tf.LayersModel;
  /** Shape of each crossing tensor, without the batch dimension. */
  boundary: number[][];
  /** Layers of the full model after the cut (what trains when the part after the cut is unfrozen). */
  suffixLayers: Layer[];
}

/**
 * Cuts `model` after layer `after` (`null`: before everything). Layers are in the model's topological
 * order (`model.layers`), so "after" is well defined for any functional graph; every tensor produced at
 * or before the cut and consumed after it becomes an input of the suffix (ResNet stages have one, NASNet
 * cells two).
 */
export function cutModel(model: tf.LayersModel, after: string | null): ModelCut {
  if (after === null) {
    return { prefix: null, suffix: model, boundary: model.inputs.map((t) => t.shape.slice(1) as number[]), suffixLayers: [...model.layers] };
  }
  const index = model.layers.findIndex((l) => l.name === after);
  if (index < 0) throw new Error(`cannot cut model '${model.name}' after '${after}': no such layer`);
  if (index === model.layers.length - 1) throw new Error(`cannot cut model '${model.name}' after its last layer '${after}'`);
  const prefixLayers = new Set(model.layers.slice(0, index + 1));
  const memo = new Map<number, tf.SymbolicTensor>();
  const crossing: tf.SymbolicTensor[] = [];
  const inputs: tf.SymbolicTensor[] = [];

  const rebuild = (t: tf.SymbolicTensor): tf.SymbolicTensor => {
    const known = memo.get(t.id);
    if (known) return known;
    if (prefixLayers.has(t.sourceLayer as Layer)) {
      const input = tf.input({ shape: t.shape.slice(1) as number[] });
      crossing.push(t);
      inputs.push(input);
      memo.set(t.id, input);
      return input;
    }
    const layer = t.sourceLayer as Layer;
    const node = producerNode(t);
    const args = node.inputTensors.map(rebuild);
    const result = layer.apply(args.length === 1 ? args[0] : args);
    const outs = Array.isArray(result) ? (result as tf.SymbolicTensor[]) : [result as tf.SymbolicTensor];
    node.outputTensors.forEach((o, i) => memo.set(o.id, outs[i]));
    return memo.get(t.id)!;
  };

  const outputs = model.outputs.map(rebuild);
  const prefix = tf.model({ inputs: model.inputs, outputs: crossing, name: `${model.name}_to_${after}` });
  const suffix = tf.model({ inputs, outputs, name: `${model.name}_after_${after}` });
  return { prefix, suffix, boundary: crossing.map((t) => t.shape.slice(1) as number[]), suffixLayers: model.layers.slice(index + 1) };
}

/** Makes exactly `trainable` (of the model's layers) trainable and freezes the others. */
export function setTrainableLayers(model: tf.LayersModel, trainable: readonly Layer[]): void {
  const set = new Set(trainable);
  for (const layer of model.layers) layer.trainable = set.has(layer);
}

/** The variables an optimizer updates for a set of layers, in a stable order. */
export function trainableVariables(layers: readonly Layer[]): tf.Variable[] {
  return layers.flatMap((l) => l.trainableWeights.map((w) => w.read() as tf.Variable));
}

/** Every weight of the given layers, keyed by position (`<layer index>/<weight index>`) so keys survive rebuilding the model. */
export function keyedWeights(model: tf.LayersModel, layers: readonly Layer[]): { key: string; name: string; variable: tf.Variable }[] {
  const wanted = new Set(layers);
  const out: { key: string; name: string; variable: tf.Variable }[] = [];
  model.layers.forEach((layer, i) => {
    if (!wanted.has(layer)) return;
    layer.weights.forEach((w, j) => out.push({ key: `${i}/${j}`, name: `${layer.name}/${w.originalName}`, variable: w.read() as tf.Variable }));
  });
  return out;
}
