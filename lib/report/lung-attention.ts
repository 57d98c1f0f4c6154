/**
 * The report's lines on how much Grad-CAM attention falls inside the segmented lungs (per run and true class,
 * with patient-bootstrap CIs), flagging models below half. Pure: from the stored analyses.
 */
import { LUNG_ATTENTION_FLOOR, type LungAttentionRow } from '../eval/lung-attention';
import { formatCi, formatPercent } from '../eval/report-table';
import type { RunAnalysis } from './analysis';

/** The blocks this section uses (declared here so no import cycle with the document forms). */
type SectionBlock = { kind: 'paragraph'; text: string } | { kind: 'table'; header: string[]; rows: string[][] };

/** A run as this section needs it: its label and its stored Grad-CAM lung scores (if any). */
export interface LungAttentionRun {
  label: string;
  lungs: RunAnalysis['gradcam']['lungs'];
}

const cells = (label: string, r: LungAttentionRow, segmenter: string): string[] => [
  label, r.label, String(r.n), formatCi(r.mean.point, [r.mean.lo, r.mean.hi]), r.flagged ? `below ${formatPercent(LUNG_ATTENTION_FLOOR, 0)}` : '', segmenter,
];

/**
 * A paragraph on the measure, one table (run × true class and all), a flag line per model whose overall mean is
 * below the floor, and a line per run that could not be scored (e.g. no segmenter cached).
 * @example doc.push(...lungAttentionBlocks(runs.map((r) => ({ label: r.label, lungs: r.analysis?.gradcam.lungs }))));
 */
export function lungAttentionBlocks(runs: readonly LungAttentionRun[]): SectionBlock[] {
  if (runs.length === 0) return [];
  const rows: string[][] = [];
  const notes: string[] = [];
  const flagged: string[] = [];
  for (const run of runs) {
    const l = run.lungs;
    if (!l) notes.push(`${run.label}: lungs not scored (analysis stored before this measure; \`cxr report\` recomputes it when the model or segmenter changes).`);
    else if ('unavailable' in l) notes.push(`${run.label}: lungs not scored — ${l.unavailable}.`);
    else if (!l.attention) notes.push(`${run.label}: every Grad-CAM map was empty; nothing to score.`);
    else {
      for (const r of [...l.attention.rows, l.attention.overall]) rows.push(cells(run.label, r, l.segmenter));
      if (l.attention.flagged) flagged.push(`${run.label} (${formatPercent(l.attention.overall.mean.point)})`);
    }
  }
  const blocks: SectionBlock[] = [
    {
      kind: 'paragraph',
      text: `Attention inside the lungs: for each scored test image, the share of its Grad-CAM mass that lies inside the lungs the segmenter found (the mask carried through the same crop and resize as the image); mean per true class with a patient-bootstrap 95 % CI. A model that looks at the lungs should put most of its attention there; below ${formatPercent(LUNG_ATTENTION_FLOOR, 0)} it is flagged.`,
    },
  ];
  if (rows.length) blocks.push({ kind: 'table', header: ['run', 'true class', 'images', 'mean share inside lungs (95 % CI)', 'flag', 'segmenter'], rows });
  if (flagged.length) {
    blocks.push({ kind: 'paragraph', text: `⚠ Flagged: less than half of the attention falls inside the lungs for ${flagged.join(', ')}: these models rely largely on what lies outside the lungs.` });
  }
  for (const n of notes) blocks.push({ kind: 'paragraph', text: n });
  return blocks;
}
