/**
 * The report as a list of blocks (headings, text, tables, figures), built from {@link StudyData}; rendered to
 * HTML and Markdown by ./render. All numbers come from the run files.
 */
import { formatSummary, type DataSummary } from '../data/summary';
import { LABELS } from '../data/labels';
import { formatEstimate, formatPercent, summaryHeader, summaryCells } from '../eval/report-table';
import type { Estimate } from '../eval/types';
import type { Figure } from '../plots/figure';
import { runVariant, type RunResult, type ShortcutEntry, type StudyData } from './collect';
import { comparisonSection } from './comparison';
import { crossValidationSection } from './cross-validation';
import { generalisationSection } from './generalisation';
import { lungAttentionBlocks } from './lung-attention';
import { oodBlocks } from './ood';
import { confusionFigure, gradCamFigure, historyFigure, occlusionFigure, reliabilityFigure, rocFigure, type GradCamCell } from './figures';
import { BACKBONE_DISPLAY, STUDY_CAVEAT, STUDY_REPORTED, TASK_DISPLAY } from './study-numbers';

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; header: string[]; rows: string[][] }
  | { kind: 'figure'; name: string; figure: Figure; caption: string }
  | { kind: 'code'; text: string }
  | { kind: 'details'; summary: string; blocks: Block[] };

/** Reads a stored Grad-CAM PNG of a run (injected so the document stays free of file I/O). */
export type PngReader = (run: RunResult, png: string) => Uint8Array;

const h = (level: 1 | 2 | 3, text: string): Block => ({ kind: 'heading', level, text });
const p = (text: string): Block => ({ kind: 'paragraph', text });
const table = (lines: { header: string[]; rows: string[][] }): Block => ({ kind: 'table', ...lines });
const est = (e: Estimate) => formatEstimate(e);
const pct = (x: number) => formatPercent(x);

function slug(r: RunResult): string {
  return `${r.task}-${r.model}-${r.id}`.replace(/[^A-Za-z0-9._-]+/g, '-');
}

function resultsSection(data: StudyData): Block[] {
  const blocks: Block[] = [h(2, 'Results')];
  const rows: string[][] = [];
  for (const task of ['binary', 'multiclass'] as const) {
    const ours = data.runs.filter((r) => r.task === task);
    const models = [...new Set([...ours.map((r) => r.model), ...Object.keys(STUDY_REPORTED[task])])];
    for (const model of models) {
      const reported = STUDY_REPORTED[task][model];
      const study = reported === undefined ? '—' : `${reported} %`;
      const mine = ours.filter((r) => r.model === model);
      if (mine.length === 0) {
        rows.push([TASK_DISPLAY[task], BACKBONE_DISPLAY[model] ?? model, 'no finished run (ImageNet weights not cached, or not trained yet)', '', '', '', '', study]);
        continue;
      }
      for (const r of mine) {
        rows.push([
          TASK_DISPLAY[task],
          (BACKBONE_DISPLAY[model] ?? model) + runVariant(r.run.record.config),
          `${r.test.n} (${r.test.patients} patients)`,
          est(r.test.accuracy),
          est(r.test.macroF1),
          formatEstimate(r.test.auc, { percent: false }),
          pct(r.val.accuracy.point),
          study,
        ]);
      }
    }
  }
  blocks.push(
    table({
      header: ['Task', 'Backbone', 'Test images', 'Test accuracy (95 % CI)', 'Macro F1 (95 % CI)', 'AUC (95 % CI)', 'Our val accuracy', 'Study (reported, val)'],
      rows,
    }),
    p(STUDY_CAVEAT),
    p(
      `Confidence intervals: percentile bootstrap over patients (${data.runs[0]?.test.bootstrap?.resamples ?? 'n/a'} resamples, seed 0), so images of one patient move together. AUC is the ROC AUC of the COVID class for the binary task and the macro one-vs-rest AUC for 3 classes.`,
    ),
  );
  for (const task of ['binary', 'multiclass'] as const) {
    const ours = data.runs.filter((r) => r.task === task);
    if (ours.length === 0) continue;
    blocks.push(
      h(3, `Per-class test results, ${TASK_DISPLAY[task]}`),
      table({ header: ['Backbone', ...summaryHeader(ours[0].test.classes)], rows: ours.map((r) => [(BACKBONE_DISPLAY[r.model] ?? r.model) + runVariant(r.run.record.config), ...summaryCells(r.test)]) }),
    );
  }
  return blocks;
}

function runSection(r: RunResult): Block[] {
  const name = slug(r);
  const c = r.calibration;
  return [
    h(3, `${r.label} (${r.id})`),
    table({
      header: ['Split', ...summaryHeader(r.test.classes)],
      rows: [
        ['validation', ...summaryCells(r.val)],
        ['test', ...summaryCells(r.test)],
      ],
    }),
    { kind: 'figure', name: `confusion-${name}`, figure: confusionFigure(r.test, `Test confusion matrix: ${r.label}`), caption: `Test confusion matrix of ${r.label} (counts and % of each true class).` },
    { kind: 'figure', name: `roc-${name}`, figure: rocFigure(r.run.test, r.run.classes, `Test ROC: ${r.label}`), caption: `Test ROC curves of ${r.label} (one-vs-rest).` },
    p(
      `Calibration: temperature T = ${c.fit.temperature.toFixed(3)} fitted on the validation split (NLL ${c.fit.nllBefore.toFixed(3)} → ${c.fit.nllAfter.toFixed(3)}${c.fit.atBound ? '; at the search bound: the validation predictions are separable' : ''}). Test expected calibration error (15 bins, top label): ${c.before.ece.toFixed(3)} before, ${c.after.ece.toFixed(3)} after.`,
    ),
    { kind: 'figure', name: `reliability-${name}`, figure: reliabilityFigure(c.before, c.after, c.fit.temperature, `Test reliability: ${r.label}`), caption: `Reliability diagram of ${r.label} on test, before and after temperature scaling.` },
    ...(r.run.history.length
      ? [{ kind: 'figure', name: `history-${name}`, figure: historyFigure(r.run.history, `Training: ${r.label}`), caption: `Accuracy per epoch (training and validation; every phase) of ${r.label}.` } as Block]
      : []),
  ];
}

function gradCamSection(data: StudyData, readPng: PngReader): Block[] {
  const blocks: Block[] = [
    h(2, 'Grad-CAM'),
    p('Grad-CAM of the last convolutional block, explaining the predicted class, on test images: for each true class the most confident correct and the most confident wrong predictions. Red is where the evidence for the predicted class lies.'),
  ];
  for (const r of data.runs) {
    const a = r.analysis;
    if (!a) {
      // Held-out-source and cross-validation runs are not analysed on purpose; say only why others are not.
      const { holdout, fold } = r.run.record.config;
      if (r.analysisError || (holdout.length === 0 && !fold)) blocks.push(p(`${r.label}: no Grad-CAM (${r.analysisError ?? 'analysis not computed'}).`));
      continue;
    }
    // One row per true class: correct predictions first, then wrong ones.
    const rows = r.run.classes.map((cls, k) => ({
      label: cls,
      cells: (['correct', 'wrong'] as const).flatMap((kind) =>
        a.gradcam.examples
          .filter((e) => e.label === k && e.kind === kind)
          .map((e): GradCamCell => ({
            png: readPng(r, e.png),
            width: e.size,
            height: e.size,
            caption: `${kind === 'correct' ? '✓' : '✗'} ${r.run.classes[e.predicted]} ${(100 * e.confidence).toFixed(0)} %`,
          })),
      ),
    }));
    if (rows.some((row) => row.cells.length > 0)) {
      blocks.push({ kind: 'figure', name: `gradcam-${slug(r)}`, figure: gradCamFigure(rows, `Grad-CAM: ${r.label}`), caption: `Grad-CAM (layer ${a.gradcam.layer}) overlays of ${r.label}; one row per true class; captions: ✓ right or ✗ wrong, the predicted class and its probability.` });
    }
    blocks.push(
      p(
        `${r.label}: on ${a.gradcam.n} test images, ${pct(a.gradcam.lungMass)} of the Grad-CAM mass lies inside the central lung box, which covers ${pct(a.gradcam.lungBoxArea)} of the image (what a uniform map would give).`,
      ),
    );
  }
  blocks.push(...lungAttentionBlocks(data.runs.filter((r) => r.analysis).map((r) => ({ label: r.label, lungs: r.analysis!.gradcam.lungs }))));
  return blocks;
}

function bestMetadata(s: ShortcutEntry): number {
  return Math.max(s.audit.test.logistic.accuracy, s.audit.test.tree.accuracy);
}

/** Plain statements of what the models may be using, derived from the audit numbers. */
export function shortcutFindings(data: StudyData): string[] {
  const out: string[] = [];
  for (const s of data.shortcuts) {
    const best = bestMetadata(s);
    const gap = best - s.audit.majorityTestAccuracy;
    const strength = gap >= 0.15 ? 'far above' : gap >= 0.05 ? 'above' : 'about at';
    out.push(
      `${TASK_DISPLAY[s.task]}: file metadata alone (format, size, aspect ratio, file size, colour, bit depth; no pixel) predicts the test labels with ${pct(best)} accuracy, ${strength} the ${pct(s.audit.majorityTestAccuracy)} of always answering the majority class${gap >= 0.05 ? ': the classes come from sources whose files differ, and a CNN can see many of those differences (resolution, compression, borders, contrast)' : ''}. The strongest single feature is ${s.audit.singleFeature[0]?.feature ?? 'n/a'} (${pct(s.audit.singleFeature[0]?.testAccuracy ?? NaN)} on test).`,
    );
  }
  for (const r of data.runs) {
    const a = r.analysis;
    if (!a) continue;
    const row = (name: string) => a.occlusion.rows.find((x) => x.name === name);
    const hidden = row('lungs-hidden');
    const border = row('border-only');
    const lungs = row('lungs-only');
    const parts: string[] = [];
    const intact = row('intact');
    if (intact && !(intact.accuracy.point > a.occlusion.chance)) {
      out.push(`${r.label}: no better than always answering the majority class even on intact test images (${pct(intact.accuracy.point)}, chance ${pct(a.occlusion.chance)}), so the occlusion test says nothing about it.`);
      continue;
    }
    if (hidden) {
      parts.push(
        hidden.retainedAboveChance >= 0.5
          ? `with the lung region hidden it keeps ${pct(hidden.retainedAboveChance)} of its margin over chance (${pct(hidden.accuracy.point)} accuracy): it draws much of its decision from outside the lungs`
          : hidden.retainedAboveChance >= 0.2
            ? `with the lung region hidden it keeps ${pct(hidden.retainedAboveChance)} of its margin over chance (${pct(hidden.accuracy.point)} accuracy): part of its decision comes from outside the lungs`
            : `with the lung region hidden it falls to ${pct(hidden.accuracy.point)} (chance ${pct(a.occlusion.chance)})`,
      );
    }
    if (border && border.retainedAboveChance >= 0.3) {
      parts.push(`from a ${pct(a.occlusion.border)} frame at the image edges alone it still reaches ${pct(border.accuracy.point)}: the edges (collimation, markers, padding, text) carry class information`);
    }
    if (lungs) parts.push(`with only the central region it reaches ${pct(lungs.accuracy.point)}`);
    if (hidden && lungs && hidden.retainedAboveChance < 0.2 && lungs.retainedAboveChance < 0.5) {
      parts.push('both masks take the images far from anything seen in training, so this test cannot tell here which region the model relies on');
    }
    if (Number.isFinite(a.gradcam.lungMass)) {
      parts.push(
        a.gradcam.lungMass < a.gradcam.lungBoxArea + 0.05
          ? `Grad-CAM puts ${pct(a.gradcam.lungMass)} of its weight on the lung box, no more than a uniform map (${pct(a.gradcam.lungBoxArea)})`
          : `Grad-CAM puts ${pct(a.gradcam.lungMass)} of its weight on the lung box (uniform: ${pct(a.gradcam.lungBoxArea)})`,
      );
    }
    if (parts.length) out.push(`${r.label}: ${parts.join('; ')}.`);
  }
  const ages = data.data.map((d) => d.summary).filter((s): s is DataSummary => s !== null);
  for (const s of ages) {
    const groups = Object.entries(s.ageGroups);
    const confounded = LABELS.filter((l) => s.perClass[l].images > 0).map((l) => {
      const [top, counts] = groups.reduce((best, g) => (g[1][l] > best[1][l] ? g : best), groups[0]);
      return { l, top, share: counts[l] / s.perClass[l].images };
    });
    if (confounded.length > 1 && new Set(confounded.map((c) => c.top)).size > 1 && confounded.every((c) => c.share >= 0.9)) {
      out.push(
        `Age: ${confounded.map((c) => `${pct(c.share)} of ${c.l} images are ${c.top}`).join(', ')}. A model can separate the classes by the patients' age (a child's chest looks different from an adult's) without seeing any sign of disease.`,
      );
    }
  }
  out.push(
    'In plain words: high accuracy here does not show that the models recognise COVID-19 pneumonia. They may be using the image source (file format, size, compression, borders and markers) and the patients’ age, which differ between the classes in this data set, as much as anything in the lungs.',
  );
  return out;
}

function shortcutSection(data: StudyData): Block[] {
  const blocks: Block[] = [h(2, 'Shortcut audit'), h(3, 'Metadata-only baseline')];
  if (data.shortcuts.length === 0) blocks.push(p('No metadata baseline: the runs’ data folders could not be read.'));
  for (const s of data.shortcuts) {
    const cnn = data.runs.filter((r) => s.runs.includes(r.id));
    blocks.push(
      table({
        header: ['Task', 'Majority class (test)', 'Metadata logistic regression (test)', 'Metadata tree, depth 2 (test)', ...cnn.map((r) => `CNN ${BACKBONE_DISPLAY[r.model] ?? r.model} (test)`)],
        rows: [[TASK_DISPLAY[s.task], pct(s.audit.majorityTestAccuracy), pct(s.audit.test.logistic.accuracy), pct(s.audit.test.tree.accuracy), ...cnn.map((r) => est(r.test.accuracy))]],
      }),
      p(`The tree (trained on the training split, ${TASK_DISPLAY[s.task]}):`),
      { kind: 'code', text: s.audit.treeText.join('\n') },
      table({
        header: ['Single feature (depth-2 tree)', 'Train accuracy', 'Test accuracy'],
        rows: s.audit.singleFeature.slice(0, 5).map((f) => [f.feature, pct(f.trainAccuracy), pct(f.testAccuracy)]),
      }),
    );
  }
  blocks.push(h(3, 'Occlusion test'));
  const analysed = data.runs.filter((r) => r.analysis);
  if (analysed.length === 0) blocks.push(p('No occlusion results (the analyses were not computed).'));
  else {
    const a0 = analysed[0].analysis!.occlusion;
    const box = a0.lungBox;
    blocks.push(
      p(
        `Each test image is scored as the network sees it (enhanced and resized) and again with parts hidden (filled with the image's mean value): lungs-hidden fills the central box (${box.left}–${box.right} of the width, ${box.top}–${box.bottom} of the height), border-only keeps nothing but a frame of ${pct(a0.border)} of the side, lungs-only keeps only the central box. "Kept" is the share of the intact accuracy's margin over chance (always answering the majority class) that survives.`,
      ),
      table({
        header: ['Run', ...a0.rows.map((x) => x.name), 'Chance'],
        rows: analysed.map((r) => [
          r.label,
          ...r.analysis!.occlusion.rows.map((x) => (x.name === 'intact' ? est(x.accuracy) : `${est(x.accuracy)}; ${x.retainedAboveChance < 0 ? 'below chance' : `kept ${pct(x.retainedAboveChance)}`}`)),
          pct(r.analysis!.occlusion.chance),
        ]),
      }),
      {
        kind: 'figure',
        name: 'occlusion',
        figure: occlusionFigure(
          analysed.map((r) => ({ label: r.label, rows: r.analysis!.occlusion.rows.map((x) => ({ name: x.name, accuracy: x.accuracy.point })) })),
          'Test accuracy on intact and occluded images',
        ),
        caption: 'Test accuracy of each run on intact images and with parts of the image hidden.',
      },
    );
  }
  blocks.push(h(3, 'What the models may be using'), { kind: 'list', items: shortcutFindings(data) });
  return blocks;
}

function dataSection(data: StudyData): Block[] {
  const blocks: Block[] = [h(2, 'Data')];
  for (const d of data.data) {
    if (!d.summary) {
      blocks.push(p(`${d.dataDir}: not summarised (${d.error}).`));
      continue;
    }
    const s = d.summary;
    const perClassTable = (title: string, rows: Record<string, Record<string, number>>) =>
      table({ header: [title, ...LABELS, 'total'], rows: Object.entries(rows).map(([k, v]) => [k, ...LABELS.map((l) => String(v[l])), String(LABELS.reduce((a, l) => a + v[l], 0))]) });
    blocks.push(
      p(`${d.dataDir}: ${s.images} images of ${s.patients} patients${s.skipped ? `, ${s.skipped} files skipped` : ''}.`),
      perClassTable('Source', s.perSource),
      perClassTable('Format', s.perFormat),
      perClassTable('Age group', s.ageGroups),
      { kind: 'details', summary: 'Full data summary', blocks: [{ kind: 'code', text: formatSummary(s) }] },
    );
  }
  blocks.push(h(2, 'Split'));
  for (const sp of data.splits) {
    blocks.push(
      p(`Runs: ${sp.runs.join(', ')}. Grouped by patient id and identical image content, stratified by class: no patient id is in two splits (how the ids were found is in the data notes above).`),
      table({
        header: ['Split', ...LABELS, 'Images', 'Patients'],
        rows: sp.rows.map((r) => [r.split, ...LABELS.map((l) => String(r.images[l])), String(r.imagesTotal), String(r.patients)]),
      }),
    );
  }
  return blocks;
}

function configSection(data: StudyData): Block[] {
  return [
    h(2, 'Run configurations'),
    ...data.runs.map(
      (r): Block => ({
        kind: 'details',
        summary: `${r.label} (${r.id})`,
        blocks: [
          p(`Backend: ${r.run.record.runtime.backend.name} (tfjs ${r.run.record.runtime.backend.tfjsVersion}); weights ${r.run.record.runtime.weightsId}; created ${r.run.record.runtime.createdAt}${r.run.record.runtime.resumes.length ? `; resumed ${r.run.record.runtime.resumes.length}×` : ''}.`),
          { kind: 'code', text: JSON.stringify(r.run.record.config, null, 2) },
        ],
      }),
    ),
  ];
}

function limitationsSection(data: StudyData): Block[] {
  const items = [
    'Confounded classes: the COVID-19 images are adults from COVID collections, while the viral-pneumonia and normal images are children from the Guangzhou paediatric set (via the Kaggle collections). Age and source predict the label; see the shortcut audit.',
    'Sources and formats differ between classes (repositories, JPEG vs PNG, sizes, crops, text markers, compression), so "COVID vs not" is partly "this collection vs that one".',
    'Small data: a few hundred patients per class; the confidence intervals above are wide accordingly, and one hospital or device can dominate a class.',
    'No external validation: every image comes from the same public collections; there is no test on another hospital, another device or a prospective cohort (use `cxr evaluate --data` on such a folder).',
    'The labels come from the public collections, not from RT-PCR results or a radiologist reading made for this study; some images may be mislabelled or duplicated under other names.',
    'The quick profile trains fewer epochs at a smaller input size than the study; the paper profile reproduces the study’s schedule.',
  ];
  if (data.skipped.length) items.push(`Runs left out of this report: ${data.skipped.map((s) => `${s.dir} (${s.reason})`).join('; ')}.`);
  return [h(2, 'Limitations'), { kind: 'list', items }];
}

/** The whole report. */
export function reportDocument(data: StudyData, readPng: PngReader): Block[] {
  const blocks: Block[] = [
    h(1, 'COVID-19 chest X-ray classification: study report'),
    p(`Generated ${data.generatedAt} from ${data.runs.length} finished run(s) in ${data.runsDir}. Every number below is computed from the run folders (predictions.csv, split.csv, config.json, history.csv, the saved models) and the data folder.`),
  ];
  if (data.runs.length === 0) {
    blocks.push(p('No finished runs yet: train with `npx cxr train` or run the whole study with `npm start`.'));
    return [...blocks, ...limitationsSection(data)];
  }
  return [
    ...blocks,
    ...resultsSection(data),
    ...comparisonSection(data),
    ...generalisationSection(data.generalisation),
    ...crossValidationSection(data.runs.map((r) => ({ model: r.model, task: r.task, fold: r.run.record.config.fold, test: r.test }))),
    h(2, 'Per-run results'),
    ...data.runs.flatMap(runSection),
    ...gradCamSection(data, readPng),
    ...shortcutSection(data),
    ...oodBlocks(data.runs.filter((r) => r.analysis).map((r) => ({ label: r.label, ood: r.analysis!.ood }))),
    ...dataSection(data),
    ...configSection(data),
    ...limitationsSection(data),
  ];
}

