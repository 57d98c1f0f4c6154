/**
 * A scanned dataset as a danfo.js DataFrame, one row per image, so notebook 01 can group, count and describe
 * it with the table library instead of hand-written loops. Importing this module loads native TensorFlow
 * (danfojs-node): notebooks only.
 */
import { DataFrame } from 'danfojs-node';
import type { Sample } from '../data/types';
import { SHORTCUT_ATTRIBUTES } from './dataset';

/**
 * danfo.js makes each column a property of its frame, so a column named like a DataFrame member would hide it:
 * the `size` property becomes the `size bin` column.
 */
const column = (name: string) => (name in DataFrame.prototype ? `${name} bin` : name);

/**
 * One row per image: `file`, `label`, `patient`, the stored `width`, `height` and `bytes`, then one column per
 * shortcut property (`age group`, `source`, `format`, `colour`, `size bin`, `aspect`), so that any of them can
 * be grouped by class.
 * @param samples The scanned images.
 * @example samplesFrame(samples).groupby(['label', 'source']).col(['file']).count()
 */
export function samplesFrame(samples: readonly Sample[]): DataFrame {
  const columns = ['file', 'label', 'patient', 'width', 'height', 'bytes', ...SHORTCUT_ATTRIBUTES.map((a) => column(a.name))];
  const rows = samples.map((s) => [s.file, s.label, s.patientId, s.width, s.height, s.bytes, ...SHORTCUT_ATTRIBUTES.map((a) => a.key(s))]);
  return new DataFrame(rows, { columns });
}
