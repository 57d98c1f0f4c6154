import type { DicomSafeFields } from './parse';

/** View Position values (PS3.3 C.8.11.5) of lateral and decubitus views; the models take frontal chest views. */
const LATERAL = /^(LL|RL|LLD|RLD|LAT|LATERAL|LEFT LATERAL|RIGHT LATERAL|XTABLE LATERAL|LATERAL DECUBITUS)$/i;
/** Body Part Examined values (PS3.16 Annex L) that are clearly not a chest. */
const NOT_CHEST = /^(SKULL|HEAD|BRAIN|FACE|NECK|CSPINE|TSPINE|LSPINE|SSPINE|SPINE|ABDOMEN|PELVIS|HIP|SHOULDER|CLAVICLE|ARM|ELBOW|FOREARM|WRIST|HAND|FINGER|LEG|KNEE|ANKLE|FOOT|TOE|BREAST|EXTREMITY)$/i;
/** Modalities that never hold a chest radiograph. */
const NOT_RADIOGRAPH = /^(CT|MR|US|NM|PT|MG|XA|RF|OT_VIDEO|ECG|SR|KO|PR|SEG|RTSTRUCT|RTPLAN|RTDOSE)$/i;

/**
 * Why a DICOM image must not be classified (no pixels, a lateral view, not a chest, not a radiograph), or
 * undefined: the scan excludes such files from data sets, single-image commands and the page refuse them.
 * @example dicomExclusion({ viewPosition: 'LL' }, true) // 'lateral view (View Position LL): excluded, …'
 */
export function dicomExclusion(safe: Pick<DicomSafeFields, 'viewPosition' | 'bodyPart' | 'modality'>, hasPixels: boolean): string | undefined {
  if (!hasPixels) return 'DICOM without pixel data (e.g. a structured report): not an image';
  if (safe.viewPosition && LATERAL.test(safe.viewPosition.trim())) {
    return `lateral view (View Position ${safe.viewPosition}): excluded, the models take frontal chest X-rays`;
  }
  if (safe.bodyPart && NOT_CHEST.test(safe.bodyPart.trim())) return `not a chest (Body Part Examined ${safe.bodyPart}): excluded`;
  if (safe.modality && NOT_RADIOGRAPH.test(safe.modality.trim())) return `not a radiograph (Modality ${safe.modality}): excluded`;
  return undefined;
}
