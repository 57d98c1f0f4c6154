/**
 * The run's model in the browser: TF.js on the best backend this browser offers, the pooled features and class
 * probabilities in one pass, the run's temperature, its out-of-distribution gate (lib/eval/ood.ts on the
 * served ood.json/ood.f32) and Grad-CAM (lib/eval/gradcam.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Registers the webgpu backend where the browser has WebGPU (navigator.gpu); elsewhere it stays unregistered.
import '@tensorflow/tfjs-backend-webgpu';
import { logitsFromProbs, softmax } from '../../eval/calibration';
import { gradCamMaps, gradCamModel } from '../../eval/gradcam';
import { mahalanobis2, type OodGate } from '../../eval/ood';
import { preprocessInput } from '../../models/preprocess';
// Custom layers of saved models (registered when loaded).
import '../../models/layers';
import '../../models/layers-bn';
import type { PreprocessMode } from '../../models/types';
import { HEAD_POOL_LAYER } from '../../train/head';
import { predictedClass, taskSpec, type TaskSpec } from '../../train/tasks';
import type { InputSettings } from './input';
import { loadServedModel, type LoadProgress } from './load-model';

/** What /run.json says about the run. */
export interface RunInfo extends InputSettings {
  id: string;
  model: string;
  task: 'binary' | 'multiclass';
  classes: string[];
  temperature: number;
  preprocess: PreprocessMode;
  gradCamLayer: string;
  /** The lung segmenter the run recorded (runs with `prep.lungs`), served at /segmenter/. */
  segmenter: { id: string } | null;
  ood: { threshold: number; quantile: number; margin: number; dim: number; train: number; val: number; test: { n: number; refused: number } };
}

/** Backends in order of preference. */
export const BACKEND_ORDER = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

/**
 * Whether this browser's WebGL is a software rasteriser (SwiftShader, llvmpipe): there the webgl backend compiles
 * and runs a ResNet's shaders on the CPU, minutes per image, and wasm is far faster.
 */
export function softwareWebGl(): boolean {
  try {
    const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
    if (!gl) return false;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    return /swiftshader|llvmpipe|software|softpipe/i.test(renderer);
  } catch {
    return false;
  }
}

/** Picks the first backend of {@link BACKEND_ORDER} that initialises here (webgl only on a real GPU). */
export async function selectBackend(): Promise<string> {
  setWasmPaths('/wasm/');
  const skipWebGl = softwareWebGl();
  for (const name of BACKEND_ORDER) {
    if (!tf.findBackendFactory(name) || (name === 'webgl' && skipWebGl)) continue;
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // not available in this browser: try the next one
    }
  }
  throw new Error('no TensorFlow.js backend works in this browser');
}

/** A loaded run: model, its pooled-feature output, the gate. */
export interface Classifier {
  info: RunInfo;
  task: TaskSpec;
  backend: string;
  classify(x: Float32Array): Promise<Classification>;
}

export interface Classification {
  label: string;
  /** Calibrated, in the task's class order. */
  probabilities: number[];
  /** Squared Mahalanobis distance of the pooled features (the gate's verdict is lib/eval/colour-gate.ts refusal). */
  distance: number;
  /** Grad-CAM of the predicted class on the feature map's grid, 0–1. */
  cam: { map: Float32Array; width: number; height: number };
}

async function fetchOk(url: string): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  return r;
}

/**
 * Loads the run served by `cxr serve`.
 * @param onProgress called as the model's files arrive (a ResNet-50 is about 90 MB)
 */
export async function loadClassifier(onProgress?: LoadProgress): Promise<Classifier> {
  const backend = await selectBackend();
  const info = (await (await fetchOk('/run.json')).json()) as RunInfo;
  const model = await loadServedModel('/model/model.json', onProgress);
  const pool = model.getLayer(HEAD_POOL_LAYER);
  const both = tf.model({ inputs: model.inputs, outputs: [pool.output as tf.SymbolicTensor, model.outputs[0]] });
  const oodFile = (await (await fetchOk('/ood.json')).json()) as { dim: number; mean: number[]; threshold: number; quantile: number; margin: number; shrinkage: number };
  const precision = new Float32Array(await (await fetchOk('/ood.f32')).arrayBuffer());
  const gate: OodGate = { dim: oodFile.dim, mean: Float64Array.from(oodFile.mean), precision, threshold: oodFile.threshold, quantile: oodFile.quantile, margin: oodFile.margin, shrinkage: oodFile.shrinkage };
  const gc = gradCamModel(model, info.gradCamLayer);
  const task = taskSpec(info.task);
  const size = info.inputSize;
  return {
    info, task, backend,
    async classify(pixels) {
      const x = tf.tidy(() => preprocessInput(tf.tensor4d(pixels, [1, size, size, 3]), info.preprocess));
      const [feat, out] = both.predict(x) as tf.Tensor[];
      const features = (await feat.data()) as Float32Array;
      const raw = task.probabilities((await out.data()) as Float32Array);
      tf.dispose([feat, out]);
      const probabilities = softmax(logitsFromProbs(raw), info.temperature);
      const label = predictedClass(task, probabilities);
      const maps = gradCamMaps(gc, x, [task.classes.indexOf(label)]);
      x.dispose();
      const distance = mahalanobis2(gate, features);
      return { label, probabilities, distance, cam: { map: maps.maps[0], width: maps.width, height: maps.height } };
    },
  };
}
