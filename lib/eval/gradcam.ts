/**
 * Grad-CAM (Selvaraju et al. 2017) for any backbone: the class score's gradient with respect to the feature map
 * of the last convolutional block, averaged over space, weights that map's channels; the ReLU of the weighted
 * sum shows where in the image evidence for the class lies. The class score is the pre-activation output
 * (logit) of the classifier, not the probability, so saturated predictions still give a map.
 */
import * as tf from '@tensorflow/tfjs';
import { getBackbone } from '../models/registry';
import { cutModel } from '../models/cut';
import { HEAD_POOL_LAYER } from '../train/head';
import { modelInput, runImageBatches, runLungMaskView, type RunModel } from '../train/run-model';
import type { ImageSample } from './evaluate';
import { argmax, type Prediction } from './types';
import { taskLabelIndex } from '../data/labels';
import { producerNode } from '../tfjs-internal';

type Layer = tf.layers.Layer;

/**
 * The Grad-CAM layer of a model: `preferred` when the model has it (e.g. a backbone spec's `lastConvLayer`),
 * else the layer feeding the head's pooling, else the last layer with a 4-D output.
 */
export function gradCamLayer(model: tf.LayersModel, preferred?: string): string {
  if (preferred && model.layers.some((l) => l.name === preferred)) return preferred;
  const pool = model.layers.find((l) => l.name === HEAD_POOL_LAYER);
  if (pool) {
    const input = pool.getInputAt(0) as tf.SymbolicTensor;
    return input.sourceLayer.name;
  }
  const last = [...model.layers].reverse().find((l) => {
    const out = l.getOutputAt(0) as tf.SymbolicTensor | tf.SymbolicTensor[];
    return !Array.isArray(out) && out.shape.length === 4;
  });
  if (!last) throw new Error(`model '${model.name}' has no 4-D feature map for Grad-CAM`);
  return last.name;
}

/** A model split at the Grad-CAM layer: image → feature map, and feature map → class scores (logits). */
export interface GradCam {
  layer: string;
  /** Number of classes scored. */
  classes: number;
  /** Feature map of preprocessed images. */
  features(x: tf.Tensor4D): tf.Tensor4D;
  /** Class scores (`[batch, classes]`) from a feature map; differentiable. */
  scores(features: tf.Tensor4D): tf.Tensor2D;
}

/**
 * Splits `model` at `layer` (default {@link gradCamLayer}). The final Dense layer's activation is undone
 * analytically: softmax and linear outputs give their logits; a single sigmoid unit p = σ(z) for two classes
 * (class 0 = the unit, class 1 = its complement, as the binary task) gives scores [z, −z]; any other output
 * layer scores log p. The parts share their layers (and weights) with `model`: nothing to dispose.
 */
export function gradCamModel(model: tf.LayersModel, layer?: string): GradCam {
  const name = layer ?? gradCamLayer(model);
  const cut = cutModel(model, name);
  if (cut.boundary.length !== 1 || cut.boundary[0].length !== 3) {
    throw new Error(`Grad-CAM layer '${name}' is not a single 4-D cut of model '${model.name}' (${cut.boundary.length} tensors cross it)`);
  }
  const suffix = cut.suffix;
  const out = suffix.outputs[0];
  const last = out.sourceLayer as Layer;
  const config = last.getConfig() as { activation?: string; units?: number };
  const dense = last.getClassName() === 'Dense' && ['softmax', 'sigmoid', 'linear'].includes(String(config.activation));
  let penultimate: tf.LayersModel | null = null;
  if (dense) {
    penultimate = tf.model({ inputs: suffix.inputs, outputs: producerNode(out).inputTensors[0] });
  }
  const units = out.shape[out.shape.length - 1] as number;
  const sigmoidPair = dense && config.activation === 'sigmoid' && units === 1;
  return {
    layer: name,
    classes: sigmoidPair ? 2 : units,
    features: (x) => cut.prefix!.predict(x) as tf.Tensor4D,
    scores: (f) =>
      tf.tidy(() => {
        if (!penultimate) return (suffix.apply(f) as tf.Tensor2D).clipByValue(1e-12, 1).log() as tf.Tensor2D;
        const [kernel, bias] = last.getWeights();
        let z = tf.matMul(penultimate.apply(f) as tf.Tensor2D, kernel as tf.Tensor2D);
        if (bias) z = z.add(bias);
        return (sigmoidPair ? tf.concat([z, z.neg()], 1) : z) as tf.Tensor2D;
      }),
  };
}

/** Grad-CAM maps of a batch. */
export interface GradCamMaps {
  /** Feature-map size. */
  height: number;
  width: number;
  /** One map per image, `height × width`, scaled so its maximum is 1 (all zeros when no evidence). */
  maps: Float32Array[];
  /** The explained class's score (logit) per image. */
  scores: number[];
}

/**
 * Grad-CAM of preprocessed images `x` for `classIndex[i]` of each image: ReLU(Σ_k α_k A_k) with α_k the
 * spatial mean of ∂score/∂A_k, normalised by its maximum.
 */
export function gradCamMaps(gc: GradCam, x: tf.Tensor4D, classIndex: readonly number[]): GradCamMaps {
  const n = x.shape[0];
  if (classIndex.length !== n) throw new RangeError(`${classIndex.length} class indices for ${n} images`);
  for (const c of classIndex) if (!(Number.isInteger(c) && c >= 0 && c < gc.classes)) throw new RangeError(`class index ${c} out of range 0..${gc.classes - 1}`);
  const [cams, scores] = tf.tidy(() => {
    const features = gc.features(x);
    const onehot = tf.oneHot(tf.tensor1d([...classIndex], 'int32'), gc.classes).toFloat();
    const selected = (f: tf.Tensor4D) => gc.scores(f).mul(onehot).sum(1);
    const grads = tf.grad((f) => selected(f as tf.Tensor4D).sum())(features);
    const alpha = grads.mean([1, 2], true); // [n, 1, 1, k]
    const cam = features.mul(alpha).sum(3).relu(); // [n, h, w]
    const max = cam.max([1, 2], true);
    const norm = tf.where(max.greater(0), cam.div(max.maximum(1e-30)), tf.zerosLike(cam));
    return [norm as tf.Tensor3D, selected(features) as tf.Tensor1D];
  });
  const [, h, w] = cams.shape;
  const flat = cams.dataSync() as Float32Array;
  const s = Array.from(scores.dataSync());
  tf.dispose([cams, scores]);
  return { height: h, width: w, maps: Array.from({ length: n }, (_, i) => flat.slice(i * h * w, (i + 1) * h * w)), scores: s };
}

/**
 * Bilinear upsampling of a map to `outW × outH` with half-pixel centres (as OpenCV's `resize`), clamped at
 * the edges.
 */
export function upsampleMap(map: Float32Array, width: number, height: number, outW: number, outH: number): Float32Array {
  if (map.length !== width * height) throw new RangeError(`map has ${map.length} values for ${width}×${height}`);
  const out = new Float32Array(outW * outH);
  const sx = width / outW;
  const sy = height / outH;
  for (let y = 0; y < outH; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    for (let x = 0; x < outW; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, width - 1);
      const wx = fx - x0;
      const top = map[y0 * width + x0] * (1 - wx) + map[y0 * width + x1] * wx;
      const bottom = map[y1 * width + x0] * (1 - wx) + map[y1 * width + x1] * wx;
      out[y * outW + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/** The "jet" colour map (blue → cyan → yellow → red) of a value in [0, 1], as 0–255 RGB. */
export function jet(v: number): [number, number, number] {
  const t = Math.min(1, Math.max(0, v));
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * t - x))));
  return [c(3), c(2), c(1)];
}

/**
 * The heat map coloured and alpha-blended over an image: out = (1 − α)·image + α·jet(heat). `image` is
 * grey (1 channel) or RGB (3), `heat` one value in [0, 1] per pixel. Returns RGB.
 */
export function overlayHeatmap(
  image: Uint8Array,
  width: number,
  height: number,
  channels: 1 | 3,
  heat: Float32Array,
  opts: { alpha?: number } = {},
): Uint8Array {
  const pixels = width * height;
  if (image.length !== pixels * channels) throw new RangeError(`image has ${image.length} values for ${width}×${height}×${channels}`);
  if (heat.length !== pixels) throw new RangeError(`heat map has ${heat.length} values for ${width}×${height}`);
  const alpha = opts.alpha ?? 0.4;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const colour = jet(heat[p]);
    for (let c = 0; c < 3; c++) {
      const v = image[channels === 1 ? p : p * 3 + c];
      out[p * 3 + c] = Math.round((1 - alpha) * v + alpha * colour[c]);
    }
  }
  return out;
}

/** Share of a map's total mass inside a box (fractions of the side, pixel centres); NaN for an all-zero map. */
export function massInBox(map: Float32Array, width: number, height: number, box: { left: number; top: number; right: number; bottom: number }): number {
  let inside = 0;
  let total = 0;
  for (let y = 0; y < height; y++) {
    const cy = (y + 0.5) / height;
    for (let x = 0; x < width; x++) {
      const cx = (x + 0.5) / width;
      const v = map[y * width + x];
      total += v;
      if (cx >= box.left && cx < box.right && cy >= box.top && cy < box.bottom) inside += v;
    }
  }
  return total > 0 ? inside / total : NaN;
}

/**
 * Share of a map's total mass on the pixels a mask marks (nonzero), the map and the mask the same size: the
 * fraction of a Grad-CAM's attention that lies inside the lungs. NaN for an all-zero map.
 * @throws RangeError when the map and the mask differ in length.
 * @example lungMassFraction(item.heat, await runLungMaskView(rm, file, maskFile)) // 0.83
 */
export function lungMassFraction(map: Float32Array, mask: Uint8Array): number {
  if (map.length !== mask.length) throw new RangeError(`lungMassFraction: map has ${map.length} values, mask ${mask.length}`);
  let inside = 0;
  let total = 0;
  for (let i = 0; i < map.length; i++) {
    total += map[i];
    if (mask[i] !== 0) inside += map[i];
  }
  return total > 0 ? inside / total : NaN;
}

/** One explained image. */
export interface GradCamItem {
  file: string;
  /** True and predicted class indices (task order). */
  label: number;
  predicted: number;
  /** Class explained (the predicted one unless asked otherwise). */
  explained: number;
  probs: number[];
  /** The network's view of the image (after enhancement and resizing, before preprocessing): RGB, `size`². */
  image: Uint8Array;
  /** Grad-CAM at the input size, 0–1. */
  heat: Float32Array;
  /** `heat` over `image` (RGB). */
  overlay: Uint8Array;
  size: number;
  /** Share of `heat` inside the image's lungs (with `lungMasks`; NaN for an all-zero map). */
  lungMass?: number;
}

/** Options of {@link gradCamImages}. */
export interface GradCamOptions {
  /** Layer to explain (default: the backbone's `lastConvLayer`, else the head's input). */
  layer?: string;
  /** Which class to explain: the model's prediction (default) or the true label. */
  explain?: 'predicted' | 'label';
  alpha?: number;
  batchSize?: number;
  workers?: number;
  /** Image path → cached lung mask (lib/segment/mask-cache.ts): scores each map's mass inside the lungs. */
  lungMasks?: ReadonlyMap<string, string>;
}

/** The Grad-CAM layer of a run's model (the backbone spec's `lastConvLayer` when the backbone is registered). */
export function runGradCamLayer(rm: RunModel): string {
  let preferred: string | undefined;
  try {
    preferred = getBackbone(rm.config.model).lastConvLayer;
  } catch {
    preferred = undefined; // a backbone outside the registry (tests): fall back to the head's input
  }
  return gradCamLayer(rm.model, preferred);
}

/** Grad-CAM of a run's model for each sample, with the overlays. */
export async function gradCamImages(rm: RunModel, samples: readonly ImageSample[], opts: GradCamOptions = {}): Promise<GradCamItem[]> {
  const gc = gradCamModel(rm.model, opts.layer ?? runGradCamLayer(rm));
  const size = rm.config.inputSize;
  const items: GradCamItem[] = [];
  for await (const batch of runImageBatches(rm, samples.map((s) => s.path), { batchSize: opts.batchSize ?? 8, workers: opts.workers ?? 0 })) {
    const x = modelInput(rm, batch.x, batch.n);
    const out = tf.tidy(() => rm.inference.predict(x) as tf.Tensor2D);
    const probs = ((await out.array()) as number[][]).map((r) => rm.task.probabilities(r));
    out.dispose();
    const labels = probs.map((_, i) => taskLabelIndex(samples[batch.offset + i].label, rm.config.task));
    const predicted = probs.map((p) => argmax(p));
    const explained = opts.explain === 'label' ? labels : predicted;
    const maps = gradCamMaps(gc, x, explained);
    x.dispose();
    for (let i = 0; i < batch.n; i++) {
      const image = Uint8Array.from(batch.x.subarray(i * size * size * 3, (i + 1) * size * size * 3), (v) => Math.max(0, Math.min(255, Math.round(v))));
      const heat = upsampleMap(maps.maps[i], maps.width, maps.height, size, size);
      const sample = samples[batch.offset + i];
      const maskFile = opts.lungMasks?.get(sample.path);
      const lungMass = maskFile ? lungMassFraction(heat, await runLungMaskView(rm, sample.path, maskFile)) : undefined;
      items.push({
        file: samples[batch.offset + i].file,
        label: labels[i],
        predicted: predicted[i],
        explained: explained[i],
        probs: probs[i],
        image,
        heat,
        overlay: overlayHeatmap(image, size, size, 3, heat, { alpha: opts.alpha }),
        size,
        ...(lungMass !== undefined ? { lungMass } : {}),
      });
    }
  }
  return items;
}

/** A group of examples to explain: one true class, correctly or wrongly predicted. */
export interface ExampleGroup {
  label: number;
  kind: 'correct' | 'wrong';
  predictions: Prediction[];
}

/**
 * Up to `perGroup` correct and `perGroup` wrong predictions of each class: the most confident of each
 * (confidently wrong predictions are the most telling); ties broken by file name, so the choice is stable.
 */
export function selectExamples(preds: readonly Prediction[], classes: number, perGroup = 2): ExampleGroup[] {
  const groups: ExampleGroup[] = [];
  for (let c = 0; c < classes; c++) {
    for (const kind of ['correct', 'wrong'] as const) {
      const chosen = preds
        .filter((p) => p.label === c && (argmax(p.probs) === c) === (kind === 'correct'))
        .sort((a, b) => Math.max(...b.probs) - Math.max(...a.probs) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
        .slice(0, perGroup);
      groups.push({ label: c, kind, predictions: chosen });
    }
  }
  return groups;
}
