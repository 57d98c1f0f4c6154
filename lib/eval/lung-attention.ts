/**
 * How much of a model's Grad-CAM attention falls inside the lungs (DeGrave et al. 2021's test of shortcut
 * learning): per true class, the mean share of each map's mass inside that image's segmented lungs, with a
 * patient-bootstrap CI. A model that puts less than half of its attention on the lungs is flagged.
 */
import { bootstrapCi, type BootstrapCi, type BootstrapOptions } from './bootstrap';

/** Below this mean share of attention inside the lungs a model is flagged. */
export const LUNG_ATTENTION_FLOOR = 0.5;

/** One scored Grad-CAM: the image's true class (index), its patient, and the map's share inside the lungs. */
export interface LungMassRecord {
  label: number;
  patientId: string;
  fraction: number;
}

/** Mean share inside the lungs of one group of maps. */
export interface LungAttentionRow {
  /** Class name, or `all`. */
  label: string;
  n: number;
  mean: BootstrapCi;
  /** The mean is below {@link LUNG_ATTENTION_FLOOR}. */
  flagged: boolean;
}

/** Per class and over all maps; `flagged` when the overall mean is below the floor. */
export interface LungAttention {
  rows: LungAttentionRow[];
  overall: LungAttentionRow;
  flagged: boolean;
}

const mean = (rs: readonly LungMassRecord[]) => rs.reduce((a, r) => a + r.fraction, 0) / rs.length;

function row(label: string, records: readonly LungMassRecord[], opts: BootstrapOptions): LungAttentionRow {
  const ci = bootstrapCi(records, (r) => r.patientId, mean, opts);
  return { label, n: records.length, mean: ci, flagged: ci.point < LUNG_ATTENTION_FLOOR };
}

/**
 * Mean lung share per true class (classes with no finite record are left out) and overall, each with a
 * patient-bootstrap CI; records with a NaN share (all-zero maps) are dropped first.
 * @param classes class names in label-index order.
 * @returns null when no record has a finite share.
 * @example lungAttention([{ label: 0, patientId: 'p1', fraction: 0.8 }, …], ['covid', 'normal'])
 */
export function lungAttention(records: readonly LungMassRecord[], classes: readonly string[], opts: BootstrapOptions = {}): LungAttention | null {
  const finite = records.filter((r) => Number.isFinite(r.fraction));
  if (finite.length === 0) return null;
  const rows = classes
    .map((name, c) => ({ name, rs: finite.filter((r) => r.label === c) }))
    .filter((g) => g.rs.length > 0)
    .map((g) => row(g.name, g.rs, opts));
  const overall = row('all', finite, opts);
  return { rows, overall, flagged: overall.flagged };
}
