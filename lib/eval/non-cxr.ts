/**
 * Synthetic images that are not chest X-rays, to measure how many of them a run's out-of-distribution gate refuses:
 * colour and greyscale scenes, textures, a page of text lines, patterns. Made here from a seed (no image is
 * downloaded or committed); pure functions returning RGB bytes.
 */
import { mulberry32 } from '../random';

/** One synthetic non-X-ray image, RGB interleaved. */
export interface NonCxrImage {
  name: string;
  rgb: Uint8Array;
  width: number;
  height: number;
}

type Painter = (x: number, y: number, rand: () => number) => [number, number, number];

const SIDE = 256;
const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
const grey = (v: number): [number, number, number] => [clamp(v), clamp(v), clamp(v)];

/** Each kind: how one pixel is painted (x, y in 0–1). */
const KINDS: Record<string, Painter> = {
  'colour landscape': (x, y, rand) => {
    if ((x - 0.75) ** 2 + (y - 0.2) ** 2 < 0.006) return [250, 220, 40];
    return y < 0.5 ? [60 + 80 * y, 130 + 60 * y, 235] : [40 + 50 * rand(), 110 + 70 * rand(), 30 + 30 * rand()];
  },
  'colour noise': (_x, _y, rand) => [255 * rand(), 255 * rand(), 255 * rand()],
  'colour stripes': (x) => ([[200, 30, 40], [250, 250, 250], [30, 60, 170]] as [number, number, number][])[Math.min(2, Math.floor(x * 3))],
  'grey face': (x, y, rand) => {
    const face = ((x - 0.5) / 0.22) ** 2 + ((y - 0.5) / 0.32) ** 2 < 1;
    const eye = [0.42, 0.58].some((ex) => ((x - ex) / 0.04) ** 2 + ((y - 0.42) / 0.025) ** 2 < 1);
    return grey(eye ? 40 : face ? 190 + 20 * rand() : 90 + 40 * Math.sin(8 * x + 5 * y) + 20 * rand());
  },
  'document': (x, y) => {
    const line = Math.floor(y * 24);
    const inText = y * 24 - line > 0.55 && line % 2 === 1 && x > 0.08 && x < 0.3 + 0.6 * ((line * 37) % 10) / 10;
    const gap = Math.floor(x * 60) % 7 === 0;
    return grey(inText && !gap ? 25 : 245);
  },
  'brick wall': (x, y, rand) => {
    const row = Math.floor(y * 12);
    const mortar = y * 12 - row < 0.1 || ((x * 6 + (row % 2) * 0.5) % 1) < 0.05;
    return grey((mortar ? 70 : 150) + 30 * (rand() - 0.5));
  },
  'checkerboard': (x, y) => grey((Math.floor(x * 8) + Math.floor(y * 8)) % 2 ? 230 : 20),
  'grey ramp': (x) => grey(255 * x),
};

/**
 * The synthetic set, `SIDE`² each, the same for a given seed.
 * @example nonCxrImages().map((i) => i.name) // ['colour landscape', …]
 */
export function nonCxrImages(seed = 7): NonCxrImage[] {
  return Object.entries(KINDS).map(([name, paint], k) => {
    const rand = mulberry32(seed * 1000 + k);
    const rgb = new Uint8Array(SIDE * SIDE * 3);
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) rgb.set(paint(x / SIDE, y / SIDE, rand).map(clamp), (y * SIDE + x) * 3);
    }
    return { name, rgb, width: SIDE, height: SIDE };
  });
}
