/**
 * Synthetic image files for the data-layer tests, with pixel values the tests know exactly.
 * PNGs are encoded here by hand (not through sharp) so 16-bit, palette and grey+alpha files are
 * exactly what the PNG spec says, independent of the decoder under test.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** PNG colour types: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
export type PngColourType = 0 | 2 | 3 | 4 | 6;
const SAMPLES: Record<PngColourType, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Encodes samples (row-major, interleaved; 16-bit values for depth 16, palette indices for type 3)
 * as a PNG with filter 0 on every row.
 */
export function encodePng(opts: {
  width: number;
  height: number;
  colourType: PngColourType;
  depth: 8 | 16;
  samples: ArrayLike<number>;
  palette?: [number, number, number][];
}): Buffer {
  const { width, height, colourType, depth, samples } = opts;
  const n = SAMPLES[colourType];
  const bps = depth / 8;
  const rowBytes = width * n * bps;
  const raw = Buffer.alloc(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    const base = y * (rowBytes + 1) + 1;
    for (let i = 0; i < width * n; i++) {
      const v = samples[y * width * n + i];
      if (bps === 2) raw.writeUInt16BE(v, base + i * 2);
      else raw[base + i] = v;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = colourType;
  const parts = [PNG_SIGNATURE, chunk('IHDR', ihdr)];
  if (colourType === 3) parts.push(chunk('PLTE', Buffer.from((opts.palette ?? []).flat())));
  parts.push(chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** A valid 1x1 PNG whose header claims `width` x `height` (a decompression bomb, as far as headers go). */
export function pngClaimingSize(width: number, height: number): Buffer {
  const png = encodePng({ width: 1, height: 1, colourType: 0, depth: 8, samples: [0] });
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(zlib.crc32(png.subarray(12, 29)) >>> 0, 29);
  return png;
}

/** An 8-bit RGB image with a smooth pattern, as a file in `format`, seeded so images differ. */
export async function patternImage(
  width: number,
  height: number,
  seed: number,
  format: 'png' | 'jpeg' | 'webp' = 'png',
): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      px[i] = (x * 7 + seed * 31) & 255;
      px[i + 1] = (y * 5 + seed * 17) & 255;
      px[i + 2] = (x + y + seed * 3) & 255;
    }
  }
  const img = sharp(px, { raw: { width, height, channels: 3 } });
  if (format === 'jpeg') return img.jpeg({ quality: 95 }).toBuffer();
  if (format === 'webp') return img.webp({ lossless: true }).toBuffer();
  return img.png().toBuffer();
}

/** Writes `files` (relative path -> bytes) under a fresh temp folder and returns its path. */
export function writeTree(files: Record<string, Uint8Array | string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-data-test-'));
  for (const [rel, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), data);
  }
  return root;
}

/**
 * Every entry under `root` with its size, mtime and (with `hashes`) content hash: equal snapshots
 * mean nothing was written.
 */
export function snapshot(root: string, hashes = true): string[] {
  const out: string[] = [];
  const walk = (dir: Buffer) => {
    for (const name of fs.readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare)) {
      const p = Buffer.concat([dir, Buffer.from('/'), name]);
      const st = fs.lstatSync(p);
      if (st.isDirectory()) {
        out.push(`${p.toString('latin1')}/ ${st.mtimeMs}`);
        walk(p);
      } else {
        const hash = st.isFile() && hashes ? crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex') : 'link';
        out.push(`${p.toString('latin1')} ${st.size} ${st.mtimeMs} ${hash}`);
      }
    }
  };
  walk(Buffer.from(root));
  return out;
}

export const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');
