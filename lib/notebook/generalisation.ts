/**
 * What notebook 07 (generalisation) calls: run folders read as the report's generalisation input, the
 * internal test split scored per source, study runs that held a source out, and Grad-CAM of adult normal
 * X-rays under several models side by side. Notebook cells stay a call and a display each.
 */
import * as path from 'node:path';
import type { ConfoundAudit } from '../data/confounds';
import { LABELS } from '../data/labels';
import { ageGroupOf } from '../data/provenance';
import type { Dataset, Sample } from '../data/types';
import { gradCamImages } from '../eval/gradcam';
import { groupMetrics } from '../eval/groups';
import { percentCell } from '../eval/groups-table';
import { encodePng } from '../plots/images';
import type { Figure } from '../plots/figure';
import type { Block } from '../report/document';
import { gradCamFigure, type GradCamCell } from '../report/figures';
import type { GeneralisationRun } from '../report/generalisation';
import { describeRecipe } from '../train/config';
import { listRunDirs, readRunFiles, runComplete, type RunFiles } from '../train/run-folder';
import { loadRunModel } from '../train/run-model';

/** A finished run and the name it is shown under (e.g. its recipe). */
export interface LabelledRun {
  label: string;
  dir: string;
}

/** First column of a cross-table: the property, named so that it can never be a DataFrame member (`size`). */
const valueColumn = (property: string) => `${property} (value)`;

/**
 * The confound audit as report blocks: per property asked for, its class × value cross-table (images, and the
 * largest class's share of each value) with how well the property alone gives the class; then the warnings.
 * @param properties audit rows to show, in this order (e.g. `['age group', 'source', 'format', 'size']`)
 */
export function confoundBlocks(audit: ConfoundAudit, properties: readonly string[]): Block[] {
  const pct = (x: number) => `${Math.round(100 * x)} %`;
  const blocks: Block[] = [];
  for (const name of properties) {
    const row = audit.rows.find((r) => r.property === name);
    if (!row) continue;
    blocks.push({ kind: 'paragraph', text: `**Class × ${name}** — the class from the ${name} alone: ${pct(row.predictability)} right (always the largest class: ${pct(audit.majority)}).` });
    const rows = Object.entries(row.table).map(([value, counts]) => {
      const n = LABELS.reduce((a, l) => a + counts[l], 0);
      const top = LABELS.reduce((a, l) => (counts[l] > counts[a] ? l : a), LABELS[0]);
      return [value, ...LABELS.map((l) => String(counts[l])), String(n), `${pct(counts[top] / n)} ${top}`];
    });
    blocks.push({ kind: 'table', header: [valueColumn(name), ...LABELS, 'images', 'largest class'], rows });
  }
  blocks.push(
    audit.warnings.length
      ? { kind: 'list', items: audit.warnings.map((w) => `⚠ ${w}`) }
      : { kind: 'paragraph', text: 'No class is confined to one value of these properties.' },
  );
  return blocks;
}

/**
 * The image → source map of a dataset, as the report's internal-test-by-source table needs it.
 * @example sourcesByFile(ds)['cxr-adult/normal/nih__00000002_000.jpg'] // 'NIH ChestX-ray14'
 */
export function sourcesByFile(dataset: Pick<Dataset, 'samples'>): Record<string, string> {
  return Object.fromEntries(dataset.samples.map((s) => [s.file, s.source]));
}

/**
 * A finished run folder as {@link generalisationSection} reads it: internal test, held-out images and the
 * sources it held out.
 * @throws InputFileError when the run is unfinished or a file is malformed
 */
export function generalisationRun(dir: string, sources: Record<string, string> = {}): GeneralisationRun {
  const run = readRunFiles(dir);
  const { model, task, holdout } = run.record.config;
  return { id: run.record.id, model, task, classes: run.classes, holdout, recipe: describeRecipe(run.record.config), test: run.test, held: run.holdout, sources };
}

/**
 * The internal test split of each run scored per source (accuracy, AUC, every class's sensitivity, with
 * patient-bootstrap CIs), as one table with the run's label in the first column.
 * @param sources image → source (see {@link sourcesByFile}); an image without one is grouped as 'unknown'
 */
export function internalTestBySource(runs: readonly LabelledRun[], sources: Record<string, string>, resamples = 2000): Block[] {
  const files = runs.map((r) => readRunFiles(r.dir));
  const classes = files[0]?.classes ?? [];
  const rows = files.flatMap((run, i) =>
    groupMetrics(run.test, (p) => sources[p.file] ?? 'unknown', { classes: run.classes, bootstrap: { resamples, seed: 0 } }).map((g) => [
      runs[i].label, g.group, String(g.n), String(g.patients), percentCell(g.accuracy), percentCell(g.auc),
      ...classes.map((c) => (g.perClass[c] ? percentCell(g.perClass[c].sensitivity) : '—')),
    ]),
  );
  return [{ kind: 'table', header: ['run', 'source', 'images', 'patients', 'accuracy %', 'AUC %', ...classes.map((c) => `sensitivity ${c} %`)], rows }];
}

/**
 * Finished runs of `cxr study` that held a source out (`study-<profile>-<model>-<task>-holdout-<slug>`), by name.
 * @example studyHoldoutDirs('runs') // ['runs/study-quick-resnet50-multiclass-holdout-chestx-ray-com', …]
 */
export function studyHoldoutDirs(runsDir: string): string[] {
  return listRunDirs(runsDir).filter((d) => /^study-.+-holdout-/.test(path.basename(d)) && runComplete(d));
}

/**
 * Adult normal X-rays none of the run's training saw: its internal test images and its held-out images that
 * are normal, not paediatric, and from a source `pattern` matches; the first `perSource` of each source by file.
 */
export function unseenAdultNormals(dataset: Pick<Dataset, 'samples'>, run: Pick<RunFiles, 'split' | 'holdout'>, pattern: RegExp, perSource = 3): Sample[] {
  const unseen = new Set([...run.split.filter((r) => r.split === 'test').map((r) => r.file), ...run.holdout.map((p) => p.file)]);
  const bySource = new Map<string, Sample[]>();
  for (const s of dataset.samples) {
    if (s.label !== 'normal' || ageGroupOf(s.ageGroup) === 'paediatric' || !pattern.test(s.source) || !unseen.has(s.file)) continue;
    const group = bySource.get(s.source) ?? bySource.set(s.source, []).get(s.source)!;
    if (group.length < perSource) group.push(s);
  }
  return [...bySource.keys()].sort().flatMap((k) => bySource.get(k)!);
}

/** Grad-CAM of the same images under several runs' models: one figure row per run, and how often each said normal. */
export interface GradCamComparison {
  figure: Figure;
  /** Per run: images it called normal, of `n`. */
  calledNormal: { label: string; normal: number; n: number }[];
}

/**
 * Grad-CAM (explaining each model's own prediction) of `samples` under every run, side by side; captions give
 * the image's source, the predicted class and its probability.
 * @throws InputFileError when a run has no saved model
 */
export async function compareGradCam(runs: readonly LabelledRun[], samples: readonly Sample[], title: string): Promise<GradCamComparison> {
  const rows: { label: string; cells: GradCamCell[] }[] = [];
  const calledNormal: GradCamComparison['calledNormal'] = [];
  for (const r of runs) {
    const rm = await loadRunModel(r.dir);
    try {
      const classes = rm.task.classes;
      const items = await gradCamImages(rm, samples);
      const cells: GradCamCell[] = [];
      for (const [i, it] of items.entries()) {
        const { png, width, height } = await encodePng({ data: it.overlay, width: it.size, height: it.size, channels: 3 }, 300);
        const source = samples[i].source.split(/[ /']/)[0];
        cells.push({ png, width, height, caption: `${source}: ${classes[it.predicted]} ${(100 * it.probs[it.predicted]).toFixed(0)} %` });
      }
      rows.push({ label: r.label, cells });
      calledNormal.push({ label: r.label, normal: items.filter((it) => classes[it.predicted] === 'normal').length, n: items.length });
    } finally {
      rm.dispose();
    }
  }
  return { figure: gradCamFigure(rows, title), calledNormal };
}
