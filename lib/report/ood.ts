/**
 * The report's section on the out-of-distribution gate of each run: its threshold, how many test X-rays it refuses
 * (false refusals) and how many synthetic images that are not X-rays it refuses, and why. Pure: from the stored
 * analyses.
 */
import { formatPercent } from '../eval/report-table';
import type { RunAnalysis } from './analysis';

type SectionBlock = { kind: 'heading'; level: 2 | 3; text: string } | { kind: 'paragraph'; text: string } | { kind: 'table'; header: string[]; rows: string[][] };

/** A run as this section needs it. */
export interface OodRun {
  label: string;
  ood: RunAnalysis['ood'] | undefined;
}

/**
 * A heading, what the gate does, one row per run, and a line per run without a gate summary.
 * @example doc.push(...oodBlocks(runs.map((r) => ({ label: r.label, ood: r.analysis?.ood }))));
 */
export function oodBlocks(runs: readonly OodRun[]): SectionBlock[] {
  if (runs.length === 0) return [];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const { label, ood } of runs) {
    if (!ood) notes.push(`${label}: no gate summary (analysis stored before it; \`cxr report\` recomputes it when the model changes).`);
    else if ('unavailable' in ood) notes.push(`${label}: no gate — ${ood.unavailable}.`);
    else {
      const refused = ood.nonCxr.filter((i) => i.refusal !== null);
      const passed = ood.nonCxr.filter((i) => i.refusal === null).map((i) => i.name);
      const byColour = refused.filter((i) => i.refusal === 'colour').length;
      rows.push([
        label,
        `${ood.threshold.toPrecision(4)} (${ood.margin}× val q${Math.round(ood.quantile * 100)})`,
        `${ood.test.refused} of ${ood.test.n} (${formatPercent(ood.test.n ? ood.test.refused / ood.test.n : NaN)})`,
        `${refused.length} of ${ood.nonCxr.length} (${byColour} by colour)`,
        passed.join(', ') || '—',
      ]);
    }
  }
  return [
    { kind: 'heading', level: 2, text: 'Out-of-distribution gate' },
    {
      kind: 'paragraph',
      text: 'The gate `cxr predict` and `cxr serve` apply before giving a diagnosis: an image is refused when it is a colour picture ' +
        'or when its pooled features lie farther from the training images than the threshold (squared Mahalanobis distance, ' +
        'a multiple of the val split\'s high quantile). Test X-rays refused are false refusals; the synthetic images are ' +
        'scenes, textures, a page of text and patterns made from a seed, none of them an X-ray.',
    },
    ...(rows.length > 0 ? [{ kind: 'table' as const, header: ['run', 'threshold', 'test X-rays refused', 'non-X-rays refused', 'non-X-rays passed'], rows }] : []),
    ...notes.map((text): SectionBlock => ({ kind: 'paragraph', text })),
  ];
}
