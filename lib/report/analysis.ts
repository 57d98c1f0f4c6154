/**
 * The image-level analyses of one finished run that need its model (occlusion test and Grad-CAM on test
 * images). They cost minutes for a real backbone, so they are stored in `runs/<id>/analysis/` and reused while
 * the model, the predictions and these settings are unchanged.
 */
import { createHash } from 'node:crypto';
import { dataFilePath } from '../data/merge';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isLabel } from '../data/labels';
import type { ImageSample } from '../eval/evaluate';
import { gradCamImages, massInBox, runGradCamLayer, selectExamples } from '../eval/gradcam';
import { lungAttention, type LungAttention } from '../eval/lung-attention';
import { oodSummary, type OodSummary } from '../eval/ood-summary';
import { BORDER_FRACTION, LUNG_BOX, occlusionTest, type Box, type Fill } from '../eval/occlusion';
import { readRunFiles, readRunRecord, type RunFiles } from '../train/run-folder';
import { loadRunModel } from '../train/run-model';
import type { Estimate } from '../eval/types';
import { CxrError, InputFileError } from '../errors';
import { cachedMaskSource, ensureLungMasks, fileSha256 } from '../segment/mask-cache';
import type { RunModel } from '../train/run-model';
import { writeDirAtomic } from '../io/atomic';
import { encodePng } from '../plots/images';

// 2: the out-of-distribution gate's summary added.
const FORMAT = 'cxr-analysis/2';

/** One occlusion variant's outcome (no per-image predictions: those stay in memory only). */
export interface OcclusionRow {
  name: string;
  description: string;
  accuracy: Estimate;
  retained: number;
  retainedAboveChance: number;
}

/** One Grad-CAM example stored as PNG in the analysis folder. */
export interface GradCamExample {
  file: string;
  label: number;
  predicted: number;
  kind: 'correct' | 'wrong';
  confidence: number;
  /** PNG of the overlay, relative to the analysis folder. */
  png: string;
  size: number;
}

/** What `analysis.json` holds. */
export interface RunAnalysis {
  format: typeof FORMAT;
  key: string;
  occlusion: { n: number; chance: number; fill: Fill; lungBox: Box; border: number; rows: OcclusionRow[] };
  gradcam: {
    layer: string;
    /** Mean share of Grad-CAM mass inside the lung box over `n` test images (explaining the predicted class). */
    lungMass: number;
    /** Share of the image the lung box covers: the mass a uniform map would put there. */
    lungBoxArea: number;
    n: number;
    examples: GradCamExample[];
    /** Share of each map inside the image's segmented lungs (absent in analyses stored before it was measured). */
    lungs?: { segmenter: string; attention: LungAttention | null } | { unavailable: string };
  };
  /** The out-of-distribution gate: threshold, test false refusals, synthetic non-X-rays refused. */
  ood: OodSummary | { unavailable: string };
}

/** Options of {@link runAnalysis}. */
export interface AnalysisOptions {
  /** Recompute even when a stored analysis matches. */
  force?: boolean;
  /** Bootstrap resamples for the occlusion CIs (default 2,000). */
  resamples?: number;
  /** Test images whose Grad-CAM lung mass is averaged (default 60, stratified by class). */
  heatImages?: number;
  /** Grad-CAM examples per class and outcome (default 2). */
  examplesPerGroup?: number;
  quiet?: boolean;
}

function hashFiles(files: readonly string[], extra: string): string {
  const h = createHash('sha256');
  h.update(extra);
  for (const f of files) {
    h.update(path.basename(f));
    h.update(fs.readFileSync(f));
  }
  return h.digest('hex');
}

function analysisKey(dir: string, opts: AnalysisOptions): string {
  const modelDir = path.join(dir, 'model');
  const modelFiles = fs.readdirSync(modelDir).sort().map((f) => path.join(modelDir, f));
  const record = readRunRecord(dir);
  // A segmenter cached (or replaced) since the analysis was stored changes its lung scores.
  const segmenter = record.runtime.segmenter?.id ?? cachedMaskSource()?.id ?? null;
  const settings = JSON.stringify({ FORMAT, resamples: opts.resamples ?? 2000, heat: opts.heatImages ?? 60, per: opts.examplesPerGroup ?? 2, LUNG_BOX, BORDER_FRACTION, segmenter });
  return hashFiles([...modelFiles, path.join(dir, 'predictions.csv'), path.join(dir, 'split.csv')], settings);
}

/** The run's test images as scoring samples (paths under the run's data folder). */
export function testSamples(run: RunFiles): ImageSample[] {
  const { data } = run.record.config;
  return run.split
    .filter((r) => r.split === 'test')
    .map((r) => {
      if (!isLabel(r.label)) throw new InputFileError(path.join(run.dir, 'split.csv'), `${r.file}: unknown label '${r.label}'`);
      return { file: r.file, path: dataFilePath(data, r.file), label: r.label, patientId: r.patientId };
    });
}

/** Up to `n` files, the same share of each class, in file order. */
function stratified(samples: readonly ImageSample[], n: number): ImageSample[] {
  if (samples.length <= n) return [...samples];
  const byLabel = new Map<string, ImageSample[]>();
  for (const s of samples) byLabel.set(s.label, [...(byLabel.get(s.label) ?? []), s]);
  const out: ImageSample[] = [];
  for (const group of byLabel.values()) {
    const take = Math.max(1, Math.round((n * group.length) / samples.length));
    const step = group.length / take;
    for (let i = 0; i < take && i * step < group.length; i++) out.push(group[Math.floor(i * step)]);
  }
  return out;
}

/** Reads the stored analysis of a run if it matches the current model and settings. */
export function storedAnalysis(dir: string, opts: AnalysisOptions = {}): RunAnalysis | null {
  const file = path.join(dir, 'analysis', 'analysis.json');
  if (!fs.existsSync(file)) return null;
  try {
    const a = JSON.parse(fs.readFileSync(file, 'utf8')) as RunAnalysis;
    return a.format === FORMAT && a.key === analysisKey(dir, opts) ? a : null;
  } catch {
    return null;
  }
}

/** The run's analysis: the stored one when current, else computed (occlusion + Grad-CAM) and stored. */
export async function runAnalysis(dir: string, opts: AnalysisOptions = {}): Promise<RunAnalysis> {
  if (!opts.force) {
    const stored = storedAnalysis(dir, opts);
    if (stored) return stored;
  }
  const run = readRunFiles(dir);
  const samples = testSamples(run);
  if (samples.length === 0) throw new InputFileError(dir, 'the run has no test images to analyse');
  const log = (msg: string) => opts.quiet || console.error(msg);
  const rm = await loadRunModel(dir);
  try {
    log(`analysis: ${path.basename(dir)}: occlusion test on ${samples.length} test images`);
    const occ = await occlusionTest(rm, samples, { bootstrap: { resamples: opts.resamples ?? 2000, seed: 0 } });
    const rows: OcclusionRow[] = [occ.intact, ...occ.variants].map((v) => ({
      name: v.name,
      description: v.description,
      accuracy: v.summary.accuracy,
      retained: v.retained,
      retainedAboveChance: v.retainedAboveChance,
    }));

    const groups = selectExamples(run.test, run.classes.length, opts.examplesPerGroup ?? 2);
    const chosen = groups.flatMap((g) => g.predictions.map((p) => ({ file: p.file, kind: g.kind })));
    const byFile = new Map(samples.map((s) => [s.file, s]));
    const heatSet = stratified(samples, opts.heatImages ?? 60);
    const wanted = [...new Map([...chosen.map((c) => byFile.get(c.file)!), ...heatSet].map((s) => [s.file, s])).values()];
    log(`analysis: ${path.basename(dir)}: Grad-CAM of ${wanted.length} test images`);
    const lungMasks = await heatLungMasks(rm, heatSet);
    const items = await gradCamImages(rm, wanted, 'masks' in lungMasks ? { lungMasks: lungMasks.masks } : {});
    const heatFiles = new Set(heatSet.map((s) => s.file));
    const masses = items.filter((it) => heatFiles.has(it.file)).map((it) => massInBox(it.heat, it.size, it.size, LUNG_BOX)).filter(Number.isFinite);
    const itemByFile = new Map(items.map((it) => [it.file, it]));
    const examples: GradCamExample[] = [];
    const pngs: { name: string; data: Uint8Array }[] = [];
    for (const [i, c] of chosen.entries()) {
      const it = itemByFile.get(c.file)!;
      const name = `gradcam/${String(i).padStart(3, '0')}.png`;
      pngs.push({ name, data: (await encodePng({ data: it.overlay, width: it.size, height: it.size, channels: 3 }, 300)).png });
      examples.push({ file: it.file, label: it.label, predicted: it.predicted, kind: c.kind, confidence: Math.max(...it.probs), png: name, size: it.size });
    }
    log(`analysis: ${path.basename(dir)}: out-of-distribution gate (fitted once per run) on synthetic non-X-ray images`);
    const ood = await gateSummary(rm, log);
    const analysis: RunAnalysis = {
      format: FORMAT,
      key: analysisKey(dir, opts),
      occlusion: { n: occ.n, chance: occ.chance, fill: occ.fill, lungBox: { ...LUNG_BOX }, border: BORDER_FRACTION, rows },
      gradcam: {
        layer: runGradCamLayer(rm),
        lungMass: masses.length ? masses.reduce((a, b) => a + b, 0) / masses.length : NaN,
        lungBoxArea: (LUNG_BOX.right - LUNG_BOX.left) * (LUNG_BOX.bottom - LUNG_BOX.top),
        n: masses.length,
        examples,
        lungs: 'masks' in lungMasks
          ? {
            segmenter: lungMasks.segmenter,
            attention: lungAttention(
              items.filter((it) => heatFiles.has(it.file)).map((it) => ({ label: it.label, patientId: byFile.get(it.file)!.patientId, fraction: it.lungMass ?? NaN })),
              run.classes, { resamples: opts.resamples ?? 2000, seed: 0 },
            ),
          }
          : lungMasks,
      },
      ood,
    };
    await writeDirAtomic(path.join(dir, 'analysis'), (tmp) => {
      fs.mkdirSync(path.join(tmp, 'gradcam'));
      for (const p of pngs) fs.writeFileSync(path.join(tmp, p.name), p.data);
      fs.writeFileSync(path.join(tmp, 'analysis.json'), JSON.stringify(analysis, null, 1));
    });
    return analysis;
  } finally {
    rm.dispose();
  }
}

/** The gate's summary, or why there is none (e.g. a model without a pooling layer to fit it on). */
async function gateSummary(rm: RunModel, log: (line: string) => void): Promise<OodSummary | { unavailable: string }> {
  try {
    return await oodSummary(rm, log);
  } catch (err) {
    if (err instanceof CxrError) return { unavailable: err.message };
    throw err;
  }
}

/**
 * Lung masks of the images whose Grad-CAM is scored: the run's own segmenter's when it trained on lungs, else
 * the default segmenter's when one is cached. The report never trains a segmenter (minutes): it says so instead.
 */
async function heatLungMasks(rm: RunModel, samples: readonly ImageSample[]): Promise<{ segmenter: string; masks: Map<string, string> } | { unavailable: string }> {
  const own = rm.lungs ?? null;
  const source = own ?? cachedMaskSource();
  if (!source) return { unavailable: 'no lung segmenter is cached (`cxr segment train` makes one); the report does not train one' };
  try {
    const masks = await ensureLungMasks(samples.map((s) => ({ path: s.path, sha256: fileSha256(s.path) })), source, { quiet: true });
    return { segmenter: source.id, masks };
  } catch (err) {
    if (err instanceof CxrError) return { unavailable: err.message };
    throw err;
  } finally {
    if (!own) source.dispose();
  }
}

/** The PNG bytes of a stored Grad-CAM example (`png` as in {@link GradCamExample}). */
export function examplePng(runDir: string, png: string): Uint8Array {
  return fs.readFileSync(path.join(runDir, 'analysis', png));
}
