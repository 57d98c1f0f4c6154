/**
 * What `cxr serve` serves for a run: the page (HTML, CSS, the bundled script), /run.json (the run's settings, its
 * val-fitted temperature, Grad-CAM layer and OOD summary), the model folder's model.json and the weight files it
 * names, for a run restricted to the lungs the same of the segmenter it recorded, the OOD gate, and
 * tfjs-backend-wasm's and the DICOM codecs' binaries — a fixed table, built once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CxrError, InputFileError } from '../errors';
import { runGradCamLayer } from '../eval/gradcam';
import { OOD_JSON, OOD_MATRIX, type OodFile } from '../eval/ood-run';
import { runTemperature } from '../eval/run-temperature';
import { PROJECT_ROOT } from '../paths';
import { modelId } from '../segment/store';
import type { RunModel } from '../train/run-model';
import type { Asset } from './server';
import { bundlePage } from './bundle';

const PAGE_DIR = path.join(__dirname, 'page');
/** dcmjs-codecs' WebAssembly module, next to its script. */
const DICOM_CODECS_WASM = 'dcmjs-native-codecs.wasm';

/** The run's settings the page needs (see lib/web/page/classify.ts RunInfo). */
export function runInfo(rm: RunModel, ood: OodFile): Record<string, unknown> {
  const c = rm.config;
  return {
    id: path.basename(rm.dir), model: c.model, task: c.task, classes: rm.classes, temperature: runTemperature(rm.dir).temperature,
    inputSize: c.inputSize, fit: c.fit, enhance: c.enhance, prep: c.prep, preprocess: c.preprocess, gradCamLayer: runGradCamLayer(rm),
    segmenter: rm.lungs ? { id: rm.lungs.id } : null,
    ood: { threshold: ood.threshold, quantile: ood.quantile, margin: ood.margin, dim: ood.dim, train: ood.train, val: ood.val, test: ood.test },
  };
}

/** Adds a TF.js model folder's model.json and the weight files it names under the URL prefix `url`. */
function addModel(assets: Map<string, Asset>, url: string, modelDir: string): void {
  const modelJson = path.join(modelDir, 'model.json');
  assets.set(`${url}/model.json`, { type: 'application/json', file: modelJson });
  const manifest = (JSON.parse(fs.readFileSync(modelJson, 'utf8')) as { weightsManifest?: { paths: string[] }[] }).weightsManifest ?? [];
  for (const name of manifest.flatMap((g) => g.paths)) {
    // Only plain names inside the model folder: a model.json cannot make the server read elsewhere.
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) throw new InputFileError(modelJson, `weight file name '${name}' is not a plain file name`);
    assets.set(`${url}/${name}`, { type: 'application/octet-stream', file: path.join(modelDir, name) });
  }
}

/**
 * The model folder of the segmenter a lung-restricted run recorded, checked to hold that same model (the lung
 * boxes would differ from `cxr predict`'s otherwise).
 * @throws CxrError when the folder holds no model or another one
 */
function recordedSegmenterDir(rm: RunModel): string {
  const { id, dir } = rm.lungs!;
  const folder = path.resolve(PROJECT_ROOT, dir);
  const found = modelId(folder);
  if (found !== id) throw new CxrError(`${folder}: lung segmenter ${found} is not the one the run recorded (${id}); train the run again or restore that segmenter`);
  return path.join(folder, 'model');
}

/**
 * The asset table of a run (its OOD gate already fitted).
 * @throws InputFileError when a model.json names a weight file that is not a plain file name
 * @throws CxrError when the run is restricted to the lungs and its recorded segmenter is missing or replaced
 */
export async function runAssets(rm: RunModel, ood: OodFile): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  assets.set('/index.html', { type: 'text/html; charset=utf-8', file: path.join(PAGE_DIR, 'index.html') });
  assets.set('/style.css', { type: 'text/css; charset=utf-8', file: path.join(PAGE_DIR, 'style.css') });
  assets.set('/app.js', { type: 'text/javascript; charset=utf-8', body: (await bundlePage()).js });
  assets.set('/run.json', { type: 'application/json', body: JSON.stringify(runInfo(rm, ood)) });
  assets.set('/ood.json', { type: 'application/json', file: path.join(rm.dir, OOD_JSON) });
  assets.set('/ood.f32', { type: 'application/octet-stream', file: path.join(rm.dir, OOD_MATRIX) });
  addModel(assets, '/model', path.join(rm.dir, 'model'));
  // Only the folder the run recorded, resolved here once: nothing in a request names a path.
  if (rm.lungs) addModel(assets, '/segmenter', recordedSegmenterDir(rm));
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  for (const name of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    assets.set(`/wasm/${name}`, { type: 'application/wasm', file: path.join(wasmDir, name) });
  }
  // DICOM's compressed transfer syntaxes (lib/data/dicom/codecs.ts), fetched on the first such file.
  assets.set(`/wasm/${DICOM_CODECS_WASM}`, { type: 'application/wasm', file: path.join(path.dirname(require.resolve('dcmjs-codecs')), DICOM_CODECS_WASM) });
  return assets;
}
