/**
 * The page `cxr serve` serves: choose or drop an image → the run's input steps (input.ts) → the model, gate and
 * Grad-CAM (classify.ts) → calibrated probabilities, the overlay, or a refusal when the image is not like the
 * training X-rays. The result is also written as JSON into `[data-testid=prediction]` for tests and scripts.
 */
import { overlayHeatmap, upsampleMap } from '../../eval/gradcam';
import { useCodecsWasmUrl } from '../../data/dicom/codecs';
import { describeError } from '../../errors';
import { colourShare, refusal } from '../../eval/colour-gate';
import { loadClassifier, type Classifier, type Classification } from './classify';
import { decodeFile, prepareInput } from './input';
import { loadPageSegmenter, type PageSegmenter } from './lungs';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function showRun(c: Classifier): void {
  const i = c.info;
  const lungs = i.prep.lungs ? `lungs ${i.prep.lungs.mode}${i.prep.lungs.mode === 'crop' ? ` (margin ${Math.round(i.prep.lungs.margin * 100)} %)` : ''}, segmenter ${i.segmenter?.id}` : '';
  const prep = [lungs, i.prep.border > 0 ? `border crop ${Math.round(i.prep.border * 100)} %` : '', i.prep.normalise ? 'format normalisation' : ''].filter(Boolean).join(', ');
  $('run').textContent =
    `Run ${i.id}: ${i.model}, ${i.task} (${i.classes.join(' / ')}), input ${i.inputSize} px` +
    `${i.enhance ? ', white balance + CLAHE' : ''}${prep ? `, ${prep}` : ''}; temperature ${i.temperature.toFixed(3)}; ` +
    `TF.js backend: ${c.backend}. Out-of-distribution gate: refuses ${i.ood.test.refused} of ${i.ood.test.n} test X-rays.`;
}

function drawOverlay(shown: { data: Uint8Array; width: number; height: number }, r: Classification): void {
  const { width, height } = shown;
  const heat = upsampleMap(r.cam.map, r.cam.width, r.cam.height, width, height);
  const rgb = overlayHeatmap(shown.data, width, height, 1, heat, { alpha: 0.35 });
  const c = $<HTMLCanvasElement>('overlay');
  c.width = width;
  c.height = height;
  const ctx = c.getContext('2d')!;
  const img = ctx.createImageData(width, height);
  for (let p = 0; p < width * height; p++) img.data.set([rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2], 255], p * 4);
  ctx.putImageData(img, 0, 0);
}

function showProbabilities(c: Classifier, r: Classification): void {
  const table = $<HTMLTableElement>('probabilities');
  table.replaceChildren();
  c.task.classes.forEach((name, k) => {
    const row = table.insertRow();
    row.insertCell().textContent = name;
    row.insertCell().textContent = `${(100 * r.probabilities[k]).toFixed(1)} %`;
    const bar = document.createElement('span');
    bar.style.width = `${Math.round(200 * r.probabilities[k])}px`;
    const cell = row.insertCell();
    cell.className = 'bar';
    cell.append(bar);
  });
}

async function run(c: Classifier, segmenter: PageSegmenter | null, file: File): Promise<void> {
  const status = $('status');
  status.textContent = `Reading ${file.name}…`;
  $('prediction').textContent = '';
  const img = await decodeFile(file, file.name);
  const colour = colourShare(img.data, img.width * img.height);
  const input = await prepareInput(img, c.info, segmenter);
  const r = await c.classify(input.x);
  const why = refusal(colour, r.distance, c.info.ood.threshold);
  const ood = why !== null;
  const box = $('refusal');
  box.hidden = !ood;
  box.textContent =
    why === 'colour'
      ? `Refused: this is a colour picture (${(100 * colour).toFixed(0)} % of its pixels coloured); chest X-rays are grey. No diagnosis is given.`
      : why === 'distance'
        ? `Refused: this image does not look like the chest X-rays the model was trained on (distance ${r.distance.toFixed(1)} > ${c.info.ood.threshold.toFixed(1)}). ` +
          'It may be a photo, a document, another body part or a lateral view. No diagnosis is given.'
        : '';
  $('probabilities').hidden = ood;
  showProbabilities(c, r);
  drawOverlay(input.shown, r);
  $('result').hidden = false;
  const notes = img.warnings.length > 0 ? ` (${img.warnings.join('; ')})` : '';
  status.textContent = `${ood ? `${file.name}: refused (out of distribution)` : `${file.name}: ${r.label}`}${notes}`;
  const probabilities = Object.fromEntries(c.task.classes.map((name, k) => [name, r.probabilities[k]]));
  const lungBox = input.lungBox ? { lungBox: input.lungBox } : {};
  $('prediction').textContent = JSON.stringify({ file: file.name, label: r.label, probabilities, ood, refusal: why, distance: r.distance, colour, backend: c.backend, ...lungBox });
}

async function start(): Promise<void> {
  const status = $('status');
  useCodecsWasmUrl('/wasm/dcmjs-native-codecs.wasm');
  let c: Classifier;
  let segmenter: PageSegmenter | null;
  try {
    const loading = $('run');
    c = await loadClassifier((n, total) => (loading.textContent = `Loading the model… ${n} of ${total} files`));
    // The run's own segmenter, when its inputs are restricted to the lungs (served from the folder it recorded).
    segmenter = c.info.prep.lungs ? await loadPageSegmenter() : null;
  } catch (err) {
    $('run').textContent = `Cannot load the model: ${describeError(err)}`;
    return;
  }
  showRun(c);
  document.body.dataset.ready = 'true';
  const handle = (file: File | undefined) => {
    if (!file) return;
    run(c, segmenter, file).catch((err) => {
      console.error(err);
      status.textContent = `Cannot classify ${file.name}: ${describeError(err)}`;
      $('prediction').textContent = JSON.stringify({ file: file.name, error: describeError(err), backend: c.backend });
    });
  };
  const input = $<HTMLInputElement>('file');
  input.addEventListener('change', () => handle(input.files?.[0]));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    handle(e.dataTransfer?.files[0]);
  });
}

void start();
