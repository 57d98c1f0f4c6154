import * as fs from 'node:fs';
import * as path from 'node:path';
import { closeBrowser, saveFigure, type SavedFigure } from '../plots/export';
import { diceHistogram, maskOverlayGrid, type MaskedImage } from '../plots/segment';
import { mulberry32 } from '../random';
import { readGrey } from './data';
import type { Segmenter } from './segmenter';

/**
 * The segmenter's figures: masks overlaid on adult COVID (its own validation images), paediatric and adult-normal
 * X-rays (no masks exist for the last two, so the overlay is the only check), and the validation Dice histogram.
 */

/** A folder of images to show, and its row label. */
export interface FigureSource {
  label: string;
  dir: string;
  /** Paths relative to `dir`; default a seeded draw of the folder's images. */
  files?: string[];
}

/** A file's stem without its source prefix (`kermany-oz__`), short enough for a thumbnail's caption. */
function caption(file: string): string {
  const stem = path.parse(file).name;
  return stem.slice(stem.lastIndexOf('__') + 1 || 0).replace(/^_/, '').slice(0, 20);
}

function pick(dir: string, count: number, seed: number): string[] {
  const files = fs.readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
  const random = mulberry32(seed);
  for (let i = files.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [files[i], files[j]] = [files[j], files[i]];
  }
  return files.slice(0, count);
}

/**
 * Segments `count` images of each source and saves `segment-overlays` and, when the segmenter has a training
 * record, `segment-dice` (PNG and SVG) into `outDir`.
 * @returns the files written.
 */
export async function saveSegmentFigures(seg: Segmenter, sources: readonly FigureSource[], outDir: string, count = 6, seed = 1): Promise<SavedFigure[]> {
  const rows: { label: string; images: MaskedImage[] }[] = [];
  for (const source of sources) {
    const files = (source.files ?? pick(source.dir, count, seed)).slice(0, count);
    const images = await Promise.all(files.map((f) => readGrey(path.join(source.dir, f))));
    const masks = await seg.segmentGreyBatch(images);
    rows.push({
      label: source.label,
      images: images.map((img, i) => ({ grey: img.data, mask: masks[i], width: img.width, height: img.height, title: caption(files[i]) })),
    });
  }
  try {
    const saved = [await saveFigure(await maskOverlayGrid('Predicted lung masks', rows), 'segment-overlays', { dir: outDir, width: 1200, height: 240 * rows.length + 80 })];
    const val = seg.record?.val;
    if (val) {
      const title = `Validation Dice, ${val.images} images of ${val.patients} patients (mean ${val.dice.point.toFixed(3)})`;
      saved.push(await saveFigure(diceHistogram(title, [{ name: 'val', values: val.perImage.map((s) => s.dice) }]), 'segment-dice', { dir: outDir }));
    }
    return saved;
  } finally {
    await closeBrowser();
  }
}
