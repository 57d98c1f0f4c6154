import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CxrError } from '../errors';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic';
import { cacheDir } from '../paths';

/** Everything that changes what a frozen network part outputs for an image. */
export interface FeatureKey {
  model: string;
  /** Identity of the weights (e.g. `imagenet:md5:…`, `none:seed42`, `file:sha256:…`). */
  weightsId: string;
  inputSize: number;
  fit: string;
  preprocess: string;
  /** `enhanceKey(...)` or `none`. */
  enhance: string;
  /** Layer after which the model is cut: the cached tensors are the ones crossing this cut. */
  cut: string;
  /** Border crop and format normalisation, when any (see InputPrep). */
  prep?: string;
  /** Lung restriction and the segmenter whose masks it used, when set (e.g. `crop0.05@unet-…`). */
  lungs?: string;
  /** For augmented views: the augmentation settings and the seed the views are drawn from. */
  views?: { seed: number; flip: boolean; rotation: number; jitter?: object };
}

/** Stable text of a key (sorted fields), hashed for the folder name. */
export function featureKeyText(key: FeatureKey): string {
  const sort = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]))
      : v;
  return JSON.stringify(sort(key));
}

/**
 * Cached outputs of a frozen network part, one file per image (and view), named by the image's SHA-256:
 * `cacheDir('features', <model>-<size>-<cut>-<hash of key>)/<sha256>[.v<k>].f32`. Each file holds the
 * crossing tensors of one image concatenated (float32, little-endian); `meta.json` records the key and
 * shapes. Files are written atomically, so an interrupted extraction leaves only complete entries.
 */
export class FeatureStore {
  readonly dir: string;
  /** Shape of each cached tensor, without the batch dimension. */
  readonly shapes: number[][];
  /** Elements of each tensor per image. */
  readonly sizes: number[];
  /** Elements per image, all tensors. */
  readonly length: number;

  constructor(readonly key: FeatureKey, shapes: number[][], root = cacheDir('features')) {
    const hash = createHash('sha256').update(featureKeyText(key)).digest('hex').slice(0, 16);
    const safeCut = key.cut.replace(/[^A-Za-z0-9_.-]/g, '_');
    this.dir = path.join(root, `${key.model}-${key.inputSize}-${safeCut}${key.views ? '-views' : ''}-${hash}`);
    this.shapes = shapes.map((s) => [...s]);
    this.sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
    this.length = this.sizes.reduce((a, b) => a + b, 0);
    const meta = path.join(this.dir, 'meta.json');
    if (fs.existsSync(meta)) {
      const old = JSON.parse(fs.readFileSync(meta, 'utf8')) as { key: FeatureKey; shapes: number[][] };
      if (featureKeyText(old.key) !== featureKeyText(key) || JSON.stringify(old.shapes) !== JSON.stringify(this.shapes)) {
        throw new CxrError(`${this.dir}: feature cache holds other features (key or shapes differ); delete the folder`);
      }
    } else writeJsonAtomic(meta, { key, shapes: this.shapes });
  }

  private file(sha256: string, view: number | null): string {
    return path.join(this.dir, view === null ? `${sha256}.f32` : `${sha256}.v${view}.f32`);
  }

  has(sha256: string, view: number | null = null): boolean {
    try {
      return fs.statSync(this.file(sha256, view)).size === this.length * 4;
    } catch {
      return false;
    }
  }

  write(sha256: string, view: number | null, values: Float32Array): void {
    if (values.length !== this.length) throw new Error(`FeatureStore.write: ${values.length} values, expected ${this.length}`);
    writeFileAtomic(this.file(sha256, view), new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  /** One image's features into `out` at `offset` (elements), all tensors concatenated. */
  readInto(sha256: string, view: number | null, out: Float32Array, offset: number): void {
    const file = this.file(sha256, view);
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch (err) {
      throw new CxrError(`${file}: cached features missing (${(err as NodeJS.ErrnoException).code ?? err}); rerun to recompute them`);
    }
    if (buf.length !== this.length * 4) throw new CxrError(`${file}: cached features have ${buf.length} bytes, expected ${this.length * 4}; delete it`);
    // Byte copy: a Buffer's offset in its pool need not be 4-aligned for a Float32Array view.
    new Uint8Array(out.buffer, out.byteOffset + offset * 4, buf.length).set(buf);
  }
}
