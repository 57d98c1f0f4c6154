/**
 * Where an image comes from and whom it shows, in a few canonical values. The confounds of public COVID
 * X-ray collections live in exactly these two properties (every COVID image adult and from paper figures,
 * every viral image a child from one hospital), so evaluation and the confound audit group by them; raw
 * manifest strings ("adult(age=80)", a 70-character dataset description) would split one group into many.
 */

/** Age groups the toolkit reports by. */
export type AgeGroup = 'adult' | 'paediatric' | 'unknown';

/** Age below which a patient counts as paediatric. */
const ADULT_AGE = 18;

/**
 * The age group a manifest value or a DICOM PatientAge stands for.
 * @param raw e.g. `adult(age=80)`, `pediatric`, `adult_or_unknown(age=65)`, `unknown(not stated)`, `045Y`, `007M`
 * @example ageGroupOf('adult_or_unknown(age=65)') // 'adult'
 */
export function ageGroupOf(raw: string | undefined): AgeGroup {
  if (!raw) return 'unknown';
  const text = raw.trim().toLowerCase();
  const age = text.match(/age\s*=\s*(\d+(?:\.\d+)?)/) ?? text.match(/^(\d{1,3})\s*y?$/);
  if (age) return Number(age[1]) >= ADULT_AGE ? 'adult' : 'paediatric';
  // DICOM AS values in months, weeks or days are always children.
  if (/^\d{1,3}[mwd]$/.test(text)) return 'paediatric';
  if (/^(paediatric|pediatric|child|infant|neonat)/.test(text)) return 'paediatric';
  if (/^adult/.test(text)) return 'adult';
  return 'unknown';
}

/**
 * A short, stable name for the collection an image comes from: a manifest's `source` when given, else
 * `source_dataset` cut at its first parenthesis or semicolon (the rest is a location or URL that would
 * split one collection into dozens of groups), else `source_repo`.
 * @example sourceOf({ source_dataset: 'NIH ChestX-ray14 (NIH Clinical Center, Bethesda MD, USA)' }) // 'NIH ChestX-ray14'
 */
export function sourceOf(row: Record<string, string | undefined>): string | undefined {
  const given = row.source?.trim();
  if (given) return given;
  const described = row.source_dataset?.split(/[(;]/)[0].trim().replace(/\s+/g, ' ');
  if (described) return described.length > 60 ? `${described.slice(0, 57)}...` : described;
  return row.source_repo?.trim() || undefined;
}
