/**
 * What the report says about a run's out-of-distribution gate: its threshold, the test split's false refusals
 * (every test image is an X-ray) and how many synthetic images that are not X-rays (non-cxr.ts) it refuses, and
 * why (colour or feature distance). The gate is fitted on first use and kept in the run folder (ood-run.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import type { RunModel } from '../train/run-model';
import { colourShare, refusal, type Refusal } from './colour-gate';
import { nonCxrImages } from './non-cxr';
import { mahalanobis2 } from './ood';
import { loadRunOod, runPooledFeatures } from './ood-run';

/** The gate of one run, as the report shows it. */
export interface OodSummary {
  threshold: number;
  quantile: number;
  margin: number;
  /** Test X-rays refused (false refusals). */
  test: { n: number; refused: number };
  /** Synthetic non-X-ray images and the gate's verdict on each. */
  nonCxr: { name: string; refusal: Refusal }[];
}

/**
 * Fits the run's gate if needed and checks it on the synthetic non-X-ray set.
 * @param log progress lines (fitting reads every split image once)
 * @throws InputFileError when a split image cannot be read while fitting
 */
export async function oodSummary(rm: RunModel, log: (line: string) => void = () => undefined): Promise<OodSummary> {
  const { gate, file } = await loadRunOod(rm, log);
  const images = nonCxrImages();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-non-cxr-'));
  try {
    const files = await Promise.all(images.map(async (img, i) => {
      const f = path.join(dir, `${i}.png`);
      await sharp(img.rgb, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(f);
      return f;
    }));
    const features = await runPooledFeatures(rm, files);
    return {
      threshold: gate.threshold,
      quantile: gate.quantile,
      margin: gate.margin,
      test: file.test,
      nonCxr: images.map((img, i) => ({
        name: img.name,
        refusal: refusal(colourShare(img.rgb, img.width * img.height), mahalanobis2(gate, features[i]), gate.threshold),
      })),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
