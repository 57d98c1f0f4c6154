/**
 * What `cxr serve` serves for a run: the page (HTML, CSS, the bundled script), /run.json (the run's settings, its
 * val-fitted temperature, Grad-CAM layer and OOD summary), the model folder's model.json and the weight files it
 * names, the OOD gate, and tfjs-backend-wasm's binaries — a fixed table, built once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputFileError } from '../errors';
import { runGradCamLayer } from '../eval/gradcam';
import { OOD_JSON, OOD_MATRIX, type OodFile } from '../eval/ood-run';
import { runTemperature } from '../eval/run-temperature';
import type { RunModel } from '../train/run-model';
import type { Asset } from './server';
import { bundlePage } from './bundle';

const PAGE_DIR = path.join(__dirname, 'page');

/** The run's settings the page needs (see lib/web/page/classify.ts RunInfo). */
export function runInfo(rm: RunModel, ood: OodFile): Record<string, unknown> {
  const c = rm.config;
  return {
    id: path.basename(rm.dir), model: c.model, task: c.task, classes: rm.classes, temperature: runTemperature(rm.dir).temperature,
    inputSize: c.inputSize, fit: c.fit, enhance: c.enhance, prep: c.prep, preprocess: c.preprocess, gradCamLayer: runGradCamLayer(rm),
    ood: { threshold: ood.threshold, quantile: ood.quantile, dim: ood.dim, train: ood.train, val: ood.val, test: ood.test },
  };
}

/**
 * The asset table of a run (its OOD gate already fitted).
 * @throws InputFileError when model.json names a weight file that is missing or outside the model folder
 */
export async function runAssets(rm: RunModel, ood: OodFile): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  const modelDir = path.join(rm.dir, 'model');
  const modelJson = path.join(modelDir, 'model.json');
  assets.set('/index.html', { type: 'text/html; charset=utf-8', file: path.join(PAGE_DIR, 'index.html') });
  assets.set('/style.css', { type: 'text/css; charset=utf-8', file: path.join(PAGE_DIR, 'style.css') });
  assets.set('/app.js', { type: 'text/javascript; charset=utf-8', body: (await bundlePage()).js });
  assets.set('/run.json', { type: 'application/json', body: JSON.stringify(runInfo(rm, ood)) });
  assets.set('/ood.json', { type: 'application/json', file: path.join(rm.dir, OOD_JSON) });
  assets.set('/ood.f32', { type: 'application/octet-stream', file: path.join(rm.dir, OOD_MATRIX) });
  assets.set('/model/model.json', { type: 'application/json', file: modelJson });
  const manifest = (JSON.parse(fs.readFileSync(modelJson, 'utf8')) as { weightsManifest?: { paths: string[] }[] }).weightsManifest ?? [];
  for (const name of manifest.flatMap((g) => g.paths)) {
    // Only plain names inside the model folder: a model.json cannot make the server read elsewhere.
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) throw new InputFileError(modelJson, `weight file name '${name}' is not a plain file name`);
    assets.set(`/model/${name}`, { type: 'application/octet-stream', file: path.join(modelDir, name) });
  }
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  for (const name of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    assets.set(`/wasm/${name}`, { type: 'application/wasm', file: path.join(wasmDir, name) });
  }
  return assets;
}
