import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import type { BackboneSource } from '../../lib/train/backbone-source';
import { Rng } from '../../lib/random';
import { tinyBackbone } from './tiny-backbone';

/**
 * A small learnable data set: per class, `perClass` 48×40 PNGs with a class-specific pattern (covid: a
 * bright disc, viral: vertical stripes, normal: a horizontal gradient) plus seeded noise, in class folders.
 */
export async function makeSyntheticDataset(dir: string, perClass: number, seed = 1): Promise<string> {
  const w = 48;
  const h = 40;
  for (const label of ['covid', 'viral', 'normal']) {
    fs.mkdirSync(path.join(dir, label), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const rng = new Rng(seed, label, i);
      const px = Buffer.alloc(w * h * 3);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let v: number;
          if (label === 'covid') v = (x - w / 2) ** 2 + (y - h / 2) ** 2 < 120 ? 220 : 40;
          else if (label === 'viral') v = Math.floor(x / 4) % 2 ? 200 : 50;
          else v = Math.round((y / h) * 200);
          v = Math.max(0, Math.min(255, v + Math.round((rng.next() - 0.5) * 60)));
          px[(y * w + x) * 3] = v;
          px[(y * w + x) * 3 + 1] = v;
          px[(y * w + x) * 3 + 2] = v;
        }
      }
      await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(dir, label, `${label}_${String(i).padStart(3, '0')}.png`));
    }
  }
  return dir;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The tiny test backbone as a training backbone ('tf' preprocessing, default input 32). */
export function tinySource(): BackboneSource {
  return {
    name: 'tiny',
    defaultInputSize: 32,
    minInputSize: 16,
    preprocess: 'tf',
    load: async (inputSize, _weights, seed) => tinyBackbone(inputSize, seed % 1000 + 1),
    weightsId: async (_weights, seed) => `tiny:seed${seed}`,
  };
}
