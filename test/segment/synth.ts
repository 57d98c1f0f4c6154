/**
 * Synthetic "chest X-rays" for the segmentation tests: two dark ellipses (lungs) on a brighter body, with
 * their exact 0/255 masks. Tiny, so tests stay fast; never the shared images.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../../lib/random';

export interface Ellipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

/** 0/255 mask of the union of ellipses. */
export function ellipseMask(width: number, height: number, ellipses: readonly Ellipse[]): Uint8Array {
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ellipses.some((e) => ((x - e.cx) / e.rx) ** 2 + ((y - e.cy) / e.ry) ** 2 <= 1)) mask[y * width + x] = 255;
    }
  }
  return mask;
}

/** Two lung ellipses placed with a little seeded jitter. */
export function lungEllipses(width: number, height: number, seed: number): Ellipse[] {
  const r = mulberry32(seed);
  const j = (s: number) => (r() - 0.5) * s;
  const rx = width * (0.16 + j(0.04));
  const ry = height * (0.3 + j(0.06));
  const cy = height * (0.5 + j(0.06));
  return [
    { cx: width * (0.3 + j(0.04)), cy, rx, ry },
    { cx: width * (0.7 + j(0.04)), cy, rx, ry },
  ];
}

/** Grey image: body 170, lungs 60, seeded noise. */
export function chestImage(width: number, height: number, mask: Uint8Array, seed: number): Uint8Array {
  const r = mulberry32(seed + 1);
  return Uint8Array.from(mask, (m) => Math.max(0, Math.min(255, (m ? 60 : 170) + Math.round((r() - 0.5) * 30))));
}

/**
 * Writes a mask data folder (images/, masks/, manifest.csv) of `count` synthetic images, two per patient.
 * @returns the folder.
 */
export async function writeMaskDataset(dir: string, count: number, size: number): Promise<string> {
  fs.mkdirSync(path.join(dir, 'images'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'masks'), { recursive: true });
  const rows = ['file,mask,patient_id'];
  for (let i = 0; i < count; i++) {
    const mask = ellipseMask(size, size, lungEllipses(size, size, i));
    const grey = chestImage(size, size, mask, i);
    const name = `img${i}.png`;
    await sharp(grey, { raw: { width: size, height: size, channels: 1 } }).png().toFile(path.join(dir, 'images', name));
    await sharp(mask, { raw: { width: size, height: size, channels: 1 } }).png().toFile(path.join(dir, 'masks', name));
    rows.push(`images/${name},masks/${name},p${Math.floor(i / 2)}`);
  }
  fs.writeFileSync(path.join(dir, 'manifest.csv'), rows.join('\n') + '\n');
  return dir;
}
