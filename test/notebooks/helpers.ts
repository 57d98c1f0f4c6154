import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NotebookJson, NotebookOutput } from '../../lib/notebook/run';
import { PLOTLY_MIME } from '../../lib/plots/display';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
export function pngSize(bytes: Buffer): { width: number; height: number } {
  assert.ok(bytes.length > 33, 'PNG too short');
  assert.deepEqual(bytes.subarray(0, 8), PNG_SIGNATURE, 'not a PNG signature');
  assert.equal(bytes.toString('latin1', 12, 16), 'IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** Asserts `<dir>/<name>.png` and `.svg` exist, are non-trivial and well formed; returns the PNG size. */
export function assertFigureFiles(dir: string, name: string): { width: number; height: number } {
  const png = path.join(dir, `${name}.png`);
  const svg = path.join(dir, `${name}.svg`);
  assert.ok(fs.existsSync(png), `${png} missing`);
  assert.ok(fs.existsSync(svg), `${svg} missing`);
  const size = pngSize(fs.readFileSync(png));
  assert.ok(size.width >= 300 && size.height >= 200, `${png}: ${size.width}×${size.height} is too small for a figure`);
  const text = fs.readFileSync(svg, 'utf8');
  assert.match(text, /^<svg[\s>]/, `${svg}: not an SVG document`);
  assert.ok(text.length > 1000, `${svg}: only ${text.length} characters`);
  return size;
}

/** Display outputs carrying a plotly figure; each must also carry a valid PNG fallback. */
export function figureOutputs(outputs: NotebookOutput[]): NotebookOutput[] {
  const figs = outputs.filter((o) => o.output_type === 'display_data' && o.data && PLOTLY_MIME in o.data);
  for (const o of figs) {
    const plotly = o.data![PLOTLY_MIME] as { data: unknown[]; layout: Record<string, unknown> };
    assert.ok(Array.isArray(plotly.data) && plotly.data.length > 0, 'plotly bundle without traces');
    assert.equal(typeof plotly.layout, 'object');
    const b64 = o.data!['image/png'];
    assert.equal(typeof b64, 'string', 'plotly output without an image/png fallback');
    pngSize(Buffer.from(b64 as string, 'base64'));
  }
  return figs;
}

/** Text of all stream and text/plain outputs of a cell, for reading values a cell printed. */
export function cellText(nb: NotebookJson, index: number): string {
  return (nb.cells[index].outputs ?? [])
    .map((o) => {
      const t = o.text ?? (o.data?.['text/plain'] as string | string[] | undefined) ?? '';
      return Array.isArray(t) ? t.join('') : t;
    })
    .join('');
}
