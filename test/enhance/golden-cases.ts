// Loads a golden folder written by scripts/make_enhance_goldens.py and compares lib/enhance with it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { clahe } from '../../lib/enhance/clahe';
import { rgbToGrey } from '../../lib/enhance/grey';
import { enhance } from '../../lib/enhance/pipeline';
import { percentileFromHistogram, whiteBalance, WHITE_BALANCE_PERCENTILES } from '../../lib/enhance/white-balance';

interface ImageMeta { file: string; width: number; height: number; channels: number }
interface GoldenCase {
  kind: 'percentile' | 'whiteBalance' | 'grey' | 'clahe' | 'pipeline';
  input: string;
  output?: string;
  low?: number[];
  high?: number[];
  clipLimit?: number;
  tileGrid?: [number, number];
  whiteBalance?: boolean;
  clahe?: { clipLimit: number; tileGrid: [number, number] } | null;
}
export interface GoldenIndex { opencv: string; numpy: string; images: Record<string, ImageMeta>; cases: GoldenCase[] }

export function loadIndex(dir: string): GoldenIndex {
  return JSON.parse(fs.readFileSync(path.join(dir, 'index.json'), 'utf8')) as GoldenIndex;
}

/** Runs one case; returns a description of the mismatch, or null when ours equals the reference exactly. */
export function checkCase(dir: string, index: GoldenIndex, c: GoldenCase): string | null {
  const meta = index.images[c.input];
  const input = new Uint8Array(fs.readFileSync(path.join(dir, meta.file)));
  const { width, height, channels } = meta;
  const label = `${c.kind} ${c.input} (${width}x${height}x${channels})`;
  if (c.kind === 'percentile') {
    for (let ch = 0; ch < channels; ch++) {
      const hist = new Float64Array(256);
      for (let i = ch; i < input.length; i += channels) hist[input[i]]++;
      const low = percentileFromHistogram(hist, width * height, WHITE_BALANCE_PERCENTILES[0]);
      const high = percentileFromHistogram(hist, width * height, WHITE_BALANCE_PERCENTILES[1]);
      if (low !== c.low![ch] || high !== c.high![ch]) {
        return `${label} channel ${ch}: ours ${low}/${high}, numpy ${c.low![ch]}/${c.high![ch]}`;
      }
    }
    return null;
  }
  let ours: Uint8Array;
  if (c.kind === 'whiteBalance') ours = whiteBalance(input, width, height, channels);
  else if (c.kind === 'grey') ours = rgbToGrey(input, width, height);
  else if (c.kind === 'clahe') ours = clahe(input, width, height, { clipLimit: c.clipLimit, tileGrid: c.tileGrid });
  else ours = enhance(input, width, height, { whiteBalance: c.whiteBalance!, clahe: c.clahe ?? null });
  const expected = new Uint8Array(fs.readFileSync(path.join(dir, index.images[c.output!].file)));
  const params = c.kind === 'clahe' ? ` clip ${c.clipLimit} grid ${c.tileGrid}` : c.kind === 'pipeline' ? ` ${JSON.stringify({ wb: c.whiteBalance, clahe: c.clahe })}` : '';
  if (ours.length !== expected.length) return `${label}${params}: length ${ours.length} vs ${expected.length}`;
  let diff = 0;
  let first = -1;
  for (let i = 0; i < ours.length; i++) {
    if (ours[i] !== expected[i]) {
      diff++;
      if (first < 0) first = i;
    }
  }
  return diff === 0 ? null : `${label}${params}: ${diff} differing values, first at ${first} (ours ${ours[first]}, reference ${expected[first]})`;
}

/** All mismatches of a golden folder (empty when everything is exact). */
export function checkAll(dir: string): { cases: number; failures: string[] } {
  const index = loadIndex(dir);
  const failures: string[] = [];
  for (const c of index.cases) {
    const f = checkCase(dir, index, c);
    if (f) failures.push(f);
  }
  return { cases: index.cases.length, failures };
}
