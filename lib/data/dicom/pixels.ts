import type { DicomImageHeader, Lut, VoiWindow } from './parse';

/**
 * The DICOM greyscale display pipeline (PS3.3 C.11, PS3.4 N.2) as pure functions over typed arrays:
 * stored values → Modality LUT (rescale or LUT) → VOI LUT (window or LUT, else min–max) →
 * MONOCHROME1 inversion → 8-bit grey. The same steps and formulas as pydicom's
 * `apply_modality_lut` + `apply_voi_lut`, scaled to 0–255.
 */

/** How stored samples sit in their allocated bits (PS3.5 8.1.1). */
export type SampleLayout = Pick<DicomImageHeader, 'bitsAllocated' | 'bitsStored' | 'highBit' | 'pixelRepresentation' | 'littleEndian'>;

/**
 * The stored values of `count` samples: the `bitsStored` bits ending at `highBit`, sign-extended
 * when `pixelRepresentation` is 1; bits outside them (overlays, garbage) are ignored.
 * @param bytes the frame's bytes as stored (after any codec)
 * @throws RangeError for Bits Allocated other than 8, 16 or 32, or too few bytes
 * @example storedValues(new Uint8Array([0xff, 0x0f]), 1, { bitsAllocated: 16, bitsStored: 12, highBit: 11, pixelRepresentation: 1, littleEndian: true }) // [-1]
 */
export function storedValues(bytes: Uint8Array, count: number, layout: SampleLayout): Float64Array {
  const { bitsAllocated, bitsStored, highBit, pixelRepresentation, littleEndian } = layout;
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) throw new RangeError(`Bits Allocated ${bitsAllocated} is not supported`);
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit >= bitsAllocated || highBit + 1 < bitsStored) {
    throw new RangeError(`Bits Stored ${bitsStored} / High Bit ${highBit} do not fit Bits Allocated ${bitsAllocated}`);
  }
  const size = bitsAllocated / 8;
  if (bytes.length < count * size) throw new RangeError(`${bytes.length} bytes for ${count} samples of ${bitsAllocated} bits`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shift = highBit + 1 - bitsStored;
  const range = 2 ** bitsStored;
  const signBit = 2 ** (bitsStored - 1);
  const signed = pixelRepresentation === 1;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const raw = size === 1 ? bytes[i] : size === 2 ? view.getUint16(2 * i, littleEndian) : view.getUint32(4 * i, littleEndian);
    // Arithmetic instead of bit operators: those are 32-bit signed in JavaScript.
    const v = Math.floor(raw / 2 ** shift) % range;
    out[i] = signed && v >= signBit ? v - range : v;
  }
  return out;
}

/** A LUT lookup as PS3.3 C.11.1.1 defines it: inputs below the first mapped value take the first entry, above the last the last. */
export function lookUp(lut: Lut, x: number): number {
  const i = Math.min(Math.max(Math.floor(x - lut.firstMapped), 0), lut.data.length - 1);
  return lut.data[i];
}

/** The Modality LUT stage: the LUT when there is one, else the rescale, else the value itself. */
export function modalityValue(header: Pick<DicomImageHeader, 'modalityLut' | 'rescale'>, stored: number): number {
  if (header.modalityLut) return lookUp(header.modalityLut, stored);
  if (header.rescale) return stored * header.rescale.slope + header.rescale.intercept;
  return stored;
}

/**
 * A window (PS3.3 C.11.2.1.2) mapping `x` onto 0..255 (not rounded).
 * @throws RangeError for a width the function does not allow (LINEAR: < 1; others: ≤ 0)
 * @example windowValue({ center: 2048, width: 4096, func: 'LINEAR_EXACT', count: 1 }, 2048) // 127.5
 */
export function windowValue(w: VoiWindow, x: number): number {
  if (w.func === 'SIGMOID') {
    if (w.width <= 0) throw new RangeError(`Window Width ${w.width} must be > 0 for SIGMOID`);
    return 255 / (1 + Math.exp((-4 * (x - w.center)) / w.width));
  }
  // LINEAR shifts the centre by ½ and narrows the width by 1, so that integer inputs fill the window exactly.
  const [c, width] = w.func === 'LINEAR' ? [w.center - 0.5, w.width - 1] : [w.center, w.width];
  if (w.func === 'LINEAR' ? w.width < 1 : w.width <= 0) throw new RangeError(`Window Width ${w.width} is too small for ${w.func}`);
  if (x <= c - width / 2) return 0;
  if (x > c + width / 2) return 255;
  return ((x - c) / width + 0.5) * 255;
}

/** The VOI stage for the whole image, as a function of a modality value, onto 0..255 (not rounded). */
export type VoiFunction = (x: number) => number;

/**
 * The VOI LUT to apply: a VOI LUT Sequence first (as pydicom prefers), else the first window,
 * else a linear stretch of the modality values' range [min, max] (as a viewer does without a window).
 */
export function voiFunction(header: Pick<DicomImageHeader, 'voiLut' | 'window'>, min: number, max: number): VoiFunction {
  const { voiLut, window } = header;
  if (voiLut) {
    const top = 2 ** voiLut.bits - 1;
    return (x) => (lookUp(voiLut, x) / top) * 255;
  }
  if (window) return (x) => windowValue(window, x);
  const span = max - min;
  return span > 0 ? (x) => ((x - min) / span) * 255 : () => 0;
}

/** Largest stored-value range mapped through a table rather than pixel by pixel. */
const TABLE_LIMIT = 1 << 20;

/**
 * Stored values → 8-bit grey through the whole display pipeline. Every pixel with the same stored
 * value gets the same grey, so for ranges up to 2^20 the pipeline runs once per value into a table.
 * @param stored from `storedValues`
 * @param header modality/VOI settings and the photometric interpretation (MONOCHROME1 is inverted)
 * @example displayGrey(Float64Array.of(0, 4095), { photometric: 'MONOCHROME1' }) // [255, 0]
 */
export function displayGrey(stored: Float64Array, header: Pick<DicomImageHeader, 'modalityLut' | 'rescale' | 'voiLut' | 'window' | 'photometric'>): Uint8Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of stored) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Uint8Array(stored.length);
  if (stored.length === 0) return out;
  const invert = header.photometric === 'MONOCHROME1';
  const toGrey = (voi: VoiFunction, x: number) => {
    const g = Math.round(Math.min(255, Math.max(0, voi(x))));
    return invert ? 255 - g : g;
  };
  if (hi - lo < TABLE_LIMIT) {
    const present = new Uint8Array(hi - lo + 1);
    for (const v of stored) present[v - lo] = 1;
    const modality = new Float64Array(present.length);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < present.length; i++) {
      modality[i] = modalityValue(header, lo + i);
      if (present[i]) {
        min = Math.min(min, modality[i]);
        max = Math.max(max, modality[i]);
      }
    }
    const voi = voiFunction(header, min, max);
    const table = new Uint8Array(present.length);
    for (let i = 0; i < present.length; i++) if (present[i]) table[i] = toGrey(voi, modality[i]);
    for (let p = 0; p < stored.length; p++) out[p] = table[stored[p] - lo];
    return out;
  }
  const modality = stored.map((v) => modalityValue(header, v));
  let min = Infinity;
  let max = -Infinity;
  for (const x of modality) {
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const voi = voiFunction(header, min, max);
  for (let p = 0; p < modality.length; p++) out[p] = toGrey(voi, modality[p]);
  return out;
}

/** One line per step of the pipeline `displayGrey` applies with this header, for `cxr dicom info`. */
export function describePipeline(h: DicomImageHeader): string[] {
  const fmt = (x: number) => String(Number(x.toPrecision(10)));
  const steps = [
    `stored values: ${h.bitsStored} of ${h.bitsAllocated} bits (high bit ${h.highBit}), ${h.pixelRepresentation === 1 ? 'signed' : 'unsigned'}`,
  ];
  if (h.modalityLut) {
    steps.push(`modality: Modality LUT Sequence (${h.modalityLut.data.length} entries from ${h.modalityLut.firstMapped}, ${h.modalityLut.bits}-bit)`);
  } else if (h.rescale) {
    const { slope, intercept } = h.rescale;
    steps.push(`modality: value × ${fmt(slope)} ${intercept < 0 ? '−' : '+'} ${fmt(Math.abs(intercept))} (Rescale Slope/Intercept)`);
  } else {
    steps.push('modality: none (stored values used as they are)');
  }
  if (h.voiLut) {
    steps.push(`VOI: VOI LUT Sequence (${h.voiLut.data.length} entries from ${h.voiLut.firstMapped}, ${h.voiLut.bits}-bit), scaled to 0–255`);
  } else if (h.window) {
    const which = h.window.count > 1 ? `, the first of ${h.window.count} windows` : '';
    steps.push(`VOI: window centre ${fmt(h.window.center)} width ${fmt(h.window.width)}, ${h.window.func}${which}, onto 0–255`);
  } else {
    steps.push('VOI: none in the header: the modality values\' min–max stretched onto 0–255');
  }
  if (h.photometric === 'MONOCHROME1') steps.push('MONOCHROME1: inverted (255 − grey) so that bone is bright');
  steps.push('output: 8-bit grey, rounded');
  return steps;
}
