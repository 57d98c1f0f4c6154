/**
 * A hostile dataset for the robustness tests (issue 8): a data folder in the usual layout
 * (`manifest.csv`, `covid/`, `normal/`, `viral/`) filled with odd, broken and misleading files,
 * each recorded with what the data layer is expected to do with it. Built in a fresh temp folder.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { formatCsv } from '../../lib/io/csv';
import { encodePng, patternImage, pngClaimingSize, sha256 } from '../data/synth';

/** `ok`: must be accepted; `bad`: must be refused with a reason; `either`: must not crash. */
export type Expect = 'ok' | 'bad' | 'either';

/** One hostile input. */
export interface CorpusEntry {
  /** Path relative to the corpus root (posix). Non-UTF-8 names are given as raw bytes in `rawRel`. */
  rel: string;
  rawRel?: Buffer;
  /** What it is, for messages. */
  kind: string;
  /** As a single image (`cxr enhance`, decodeImage); undefined when it is not a file (a folder, a manifest row). */
  image?: Expect;
  /** In a dataset scan: `bad` means scan.problems must name `scanProblem` (default `rel`). */
  scan: Expect | 'ignored';
  /** The `file` the scan problem carries when it differs from `rel` (folders end in `/`). */
  scanProblem?: string;
}

export interface Corpus {
  root: string;
  entries: CorpusEntry[];
}

/** Absolute path of an entry as a string (lossy for non-UTF-8 names, as every CLI sees them). */
export function entryPath(corpus: Corpus, e: CorpusEntry): string {
  return path.join(corpus.root, e.rel);
}

/** A minimal animated GIF: `frames` 1x1 frames, looping. */
function animatedGif(frames: number): Buffer {
  const parts = [
    Buffer.from('GIF89a', 'ascii'),
    Buffer.from([1, 0, 1, 0, 0x80, 0, 0]),
    Buffer.from([0, 0, 0, 255, 255, 255]),
    Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0', 'ascii'), 3, 1, 0, 0, 0]),
  ];
  for (let i = 0; i < frames; i++) {
    parts.push(Buffer.from([0x21, 0xf9, 4, 0, 10, 0, 0, 0]), Buffer.from([0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0]), Buffer.from([2, 2, 0x44, 1, 0]));
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

function rgbRaw(width: number, height: number, f: (x: number, y: number, c: number) => number): Buffer {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) px[(y * width + x) * 3 + c] = f(x, y, c) & 255;
  return px;
}

/** Deterministic pseudo-random bytes. */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    b[i] = s & 255;
  }
  return b;
}

/**
 * Builds the corpus (≥ 200 files) under a new temp folder. Everything in `covid/` and `normal/`
 * is in manifest.csv with its true hash, except the deliberate disagreements, so each bad file's
 * own reason is what the scan reports.
 */
export async function buildCorpus(): Promise<Corpus> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-hostile-'));
  const entries: CorpusEntry[] = [];
  const manifest: Record<string, string>[] = [];
  let n = 0;
  const put = (cls: string, name: string, data: Uint8Array, kind: string, image: Expect, scan: Expect | 'ignored' = image, inManifest = true) => {
    const rel = `${cls}/${name}`;
    fs.mkdirSync(path.join(root, cls), { recursive: true });
    fs.writeFileSync(path.join(root, rel), data);
    entries.push({ rel, kind, image, scan });
    if (inManifest) manifest.push({ file: rel, label: cls, patient_id: `p${n++}`, sha256: sha256(data) });
  };
  const cls = (i: number) => (i % 2 === 0 ? 'covid' : 'normal');

  // Valid images in every odd shape the data layer must accept.
  const jpeg = await patternImage(96, 80, 1, 'jpeg');
  const png = await patternImage(96, 80, 2, 'png');
  for (let i = 0; i < 12; i++) put(cls(i), `plain-${i}.png`, await patternImage(48 + i, 40 + i, 10 + i, 'png'), 'plain PNG', 'ok');
  for (let i = 0; i < 12; i++) put(cls(i), `plain-${i}.jpg`, await patternImage(48 + i, 40 + i, 30 + i, 'jpeg'), 'plain JPEG', 'ok');
  for (let i = 0; i < 4; i++) put(cls(i), `plain-${i}.webp`, await patternImage(40, 40, 50 + i, 'webp'), 'WEBP', 'ok');
  const grad = (w: number, h: number, max: number) => Array.from({ length: w * h }, (_, k) => Math.round(((k % w) / Math.max(1, w - 1)) * max));
  for (let i = 0; i < 4; i++) {
    put(cls(i), `grey16-${i}.png`, encodePng({ width: 32, height: 24 + i, colourType: 0, depth: 16, samples: grad(32, 24 + i, 65535) }), '16-bit grey PNG', 'ok');
    put(cls(i), `rgb16-${i}.png`, encodePng({ width: 20, height: 20, colourType: 2, depth: 16, samples: Array.from({ length: 1200 }, (_, k) => (k * 997 + i) % 65536) }), '16-bit RGB PNG', 'ok');
    put(cls(i), `grey-alpha-${i}.png`, encodePng({ width: 16, height: 16, colourType: 4, depth: 8, samples: Array.from({ length: 512 }, (_, k) => (k % 2 ? (k * 3 + i) & 255 : k & 255)) }), 'grey+alpha PNG', 'ok');
    put(cls(i), `grey-alpha16-${i}.png`, encodePng({ width: 16, height: 16, colourType: 4, depth: 16, samples: Array.from({ length: 512 }, (_, k) => (k * 257 + i) % 65536) }), '16-bit grey+alpha PNG', 'ok');
    put(cls(i), `rgba-${i}.png`, encodePng({ width: 16, height: 16, colourType: 6, depth: 8, samples: Array.from({ length: 1024 }, (_, k) => (k * 7 + i) & 255) }), 'RGBA PNG', 'ok');
    put(cls(i), `palette-${i}.png`, encodePng({ width: 16, height: 16, colourType: 3, depth: 8, samples: Array.from({ length: 256 }, (_, k) => k % 4), palette: [[0, 0, 0], [90, 90, 90], [180, 180, 180], [255, 255, 255 - i]] }), 'palette PNG', 'ok');
  }
  for (let i = 0; i < 4; i++) {
    const base = sharp(rgbRaw(40, 30, (x, y, c) => x * 5 + y * 3 + c * 40 + i), { raw: { width: 40, height: 30, channels: 3 } });
    put(cls(i), `cmyk-${i}.jpg`, await base.clone().toColourspace('cmyk').jpeg().toBuffer(), 'CMYK JPEG', 'ok');
    put(cls(i), `progressive-${i}.jpg`, await base.clone().jpeg({ progressive: true }).toBuffer(), 'progressive JPEG', 'ok');
    put(cls(i), `grey-${i}.jpg`, await base.clone().greyscale().jpeg().toBuffer(), 'greyscale JPEG', 'ok');
  }
  for (let o = 1; o <= 8; o++) {
    put(cls(o), `exif-orient-${o}.jpg`, await sharp(jpeg).withMetadata({ orientation: o }).jpeg().toBuffer(), `EXIF orientation ${o}`, 'ok');
  }
  const tiny = (w: number, h: number, seed: number) => encodePng({ width: w, height: h, colourType: 0, depth: 8, samples: Array.from({ length: w * h }, (_, k) => (k * 37 + seed) & 255) });
  put('covid', '1x1.png', tiny(1, 1, 0), '1x1 image', 'ok');
  put('normal', '1x1.jpg', await sharp(rgbRaw(1, 1, () => 128), { raw: { width: 1, height: 1, channels: 3 } }).jpeg().toBuffer(), '1x1 JPEG', 'ok');
  put('covid', '3x5000.png', tiny(3, 5000, 1), '3x5000 image', 'ok');
  put('normal', '5000x3.png', tiny(5000, 3, 2), '5000x3 image', 'ok');
  put('covid', '2x2.png', tiny(2, 2, 3), '2x2 image', 'ok');
  for (const [name, v] of [['white', 255], ['black', 0], ['grey', 128]] as const) {
    put('covid', `constant-${name}.png`, encodePng({ width: 32, height: 32, colourType: 0, depth: 8, samples: new Array(1024).fill(v) }), `constant ${name} image`, 'ok');
    put('normal', `constant-${name}.jpg`, await sharp(rgbRaw(32, 32, () => v), { raw: { width: 32, height: 32, channels: 3 } }).jpeg().toBuffer(), `constant ${name} JPEG`, 'ok');
  }
  put('normal', 'constant16.png', encodePng({ width: 8, height: 8, colourType: 0, depth: 16, samples: new Array(64).fill(40000) }), 'constant 16-bit image', 'ok');
  // Right content, wrong (or no) extension: the format is read from the content.
  put('covid', 'png-named.jpg', png, 'PNG with .jpg extension', 'ok');
  put('normal', 'jpeg-named.png', jpeg, 'JPEG with .png extension', 'ok');
  put('covid', 'webp-named.png', await patternImage(30, 30, 60, 'webp'), 'WEBP with .png extension', 'ok');
  put('normal', 'png-named.tif', await patternImage(30, 30, 61, 'png'), 'PNG with .tif extension', 'ok');
  put('covid', 'jpeg-no-extension', await patternImage(30, 30, 62, 'jpeg'), 'JPEG without extension', 'ok');
  put('normal', 'png-named.txt', await patternImage(30, 30, 63, 'png'), 'PNG with .txt extension', 'ok');
  put('covid', 'JPEG-UPPER.JPG', await patternImage(30, 30, 64, 'jpeg'), 'upper-case extension', 'ok');
  put('normal', 'name with spaces, comma & ünïcödé.png', await patternImage(30, 30, 65, 'png'), 'odd but valid UTF-8 name', 'ok');
  put('covid', `${'long-name-'.repeat(24)}.png`, await patternImage(30, 30, 66, 'png'), 'very long file name (244 bytes)', 'ok');
  put('normal', 'duplicate-a.png', png, 'identical bytes to another file', 'ok');
  put('covid', 'duplicate-b.png', png, 'identical bytes to another file', 'ok');
  fs.mkdirSync(path.join(root, 'normal/nested/deeper'), { recursive: true });
  put('normal', 'nested/deeper/in-subfolder.png', await patternImage(30, 30, 67, 'png'), 'image in a sub-folder', 'ok');

  // Truncated files: cut at many points.
  const bigJpeg = await patternImage(160, 120, 3, 'jpeg');
  const bigPng = await patternImage(160, 120, 4, 'png');
  const bigWebp = await patternImage(160, 120, 5, 'webp');
  const cuts = [0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];
  cuts.forEach((f, i) => {
    put(cls(i), `truncated-${i}.jpg`, bigJpeg.subarray(0, Math.floor(bigJpeg.length * f)), `JPEG truncated at ${f * 100}%`, 'bad');
    put(cls(i + 1), `truncated-${i}.png`, bigPng.subarray(0, Math.floor(bigPng.length * f)), `PNG truncated at ${f * 100}%`, 'bad');
  });
  for (const [i, f] of [0.3, 0.6, 0.9].entries()) {
    put(cls(i), `truncated-${i}.webp`, bigWebp.subarray(0, Math.floor(bigWebp.length * f)), `WEBP truncated at ${f * 100}%`, 'bad');
  }
  put('covid', 'jpeg-soi-only.jpg', Buffer.from([0xff, 0xd8, 0xff]), 'JPEG of 3 bytes', 'bad');
  put('normal', 'png-signature-only.png', bigPng.subarray(0, 8), 'PNG signature only', 'bad');
  put('covid', 'jpeg-cut-before-eoi.jpg', bigJpeg.subarray(0, bigJpeg.length - 2), 'JPEG without its last 2 bytes', 'bad');
  // Damaged in the middle, intact ends: a decoder may or may not notice, but must not crash.
  for (let i = 0; i < 6; i++) {
    const j = Buffer.from(bigJpeg);
    noise(64, 100 + i).copy(j, Math.floor(j.length * (0.3 + i * 0.08)));
    put(cls(i), `corrupt-middle-${i}.jpg`, j, 'JPEG with noise in its data', 'either');
    const p = Buffer.from(bigPng);
    noise(32, 200 + i).copy(p, Math.floor(p.length * (0.3 + i * 0.08)));
    put(cls(i + 1), `corrupt-middle-${i}.png`, p, 'PNG with noise in its data (bad CRC)', 'either');
  }

  // Not images at all.
  for (let i = 0; i < 6; i++) put(cls(i), `zero-byte-${i}.${['png', 'jpg', 'jpeg', 'webp', 'tif', 'gif'][i]}`, Buffer.alloc(0), 'zero-byte file', 'bad');
  const texts: [string, string | Buffer][] = [
    ['readme.png', 'This is not an image.\n'],
    ['page.jpg', '<!DOCTYPE html><html><body>404 Not Found</body></html>\n'],
    ['data.png', 'file,label\na.png,covid\n'],
    ['json.jpeg', '{"image": "elsewhere"}\n'],
    ['doc.png', Buffer.concat([Buffer.from('%PDF-1.4\n'), noise(200, 7)])],
    ['archive.jpg', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), noise(200, 8)])],
    ['program.png', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), noise(200, 9)])],
    ['utf16.jpg', Buffer.from('\ufeffhello', 'utf16le')],
    ['newline.png', '\n'],
    ['nul-bytes.jpg', Buffer.alloc(4096)],
    ['bmp.png', Buffer.concat([Buffer.from('BM'), noise(100, 10)])],
    ['vector.png', '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'],
  ];
  texts.forEach(([name, data], i) => put(cls(i), name, typeof data === 'string' ? Buffer.from(data) : data, `non-image (${name})`, 'bad'));
  for (let i = 0; i < 16; i++) put(cls(i), `random-${i}.${i % 2 ? 'jpg' : 'png'}`, noise(50 + i * 97, 300 + i), 'random bytes', 'bad');
  for (let i = 0; i < 4; i++) {
    put(cls(i), `png-header-random-body-${i}.png`, Buffer.concat([bigPng.subarray(0, 33), noise(300, 400 + i), bigPng.subarray(bigPng.length - 12)]), 'PNG header and end, random body', 'bad');
    put(cls(i + 1), `jpeg-header-random-body-${i}.jpg`, Buffer.concat([bigJpeg.subarray(0, 20), noise(300, 500 + i), Buffer.from([0xff, 0xd9])]), 'JPEG header and end, random body', 'bad');
  }
  // Decompression bombs: headers claiming far more pixels than the limit.
  put('covid', 'bomb-60000.png', pngClaimingSize(60000, 60000), 'PNG header claiming 60000x60000', 'bad');
  put('normal', 'bomb-wide.png', pngClaimingSize(2_000_000, 100), 'PNG header claiming 2000000x100', 'bad');
  put('covid', 'bomb-zero-width.png', pngClaimingSize(0, 100), 'PNG header claiming width 0', 'bad');
  // Animated and multi-page files.
  put('covid', 'animated.gif', animatedGif(3), 'animated GIF (3 frames)', 'bad');
  put('normal', 'animated-as.png', animatedGif(2), 'animated GIF named .png', 'bad');
  put('covid', 'single-frame.gif', animatedGif(1), 'single-frame GIF', 'ok');
  put('normal', 'multipage.tif', await sharp(rgbRaw(40, 90, (x, y) => x + y), { raw: { width: 40, height: 90, channels: 3, pageHeight: 30 } as sharp.CreateRaw }).tiff().toBuffer(), 'multi-page TIFF (3 pages)', 'bad');
  put('covid', 'single-page.tif', await sharp(rgbRaw(40, 30, (x, y) => x * y), { raw: { width: 40, height: 30, channels: 3 } }).tiff().toBuffer(), 'single-page TIFF', 'ok');
  // DICOM: refused with a clear message (see README).
  const dicm = (body: Buffer) => Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), body]);
  put('covid', 'scan.dcm', dicm(noise(500, 11)), 'fake DICOM (.dcm)', 'bad');
  put('normal', 'scan-dcm.png', dicm(noise(500, 12)), 'DICOM named .png', 'bad');
  put('covid', 'preamble-only.dcm', dicm(Buffer.alloc(0)), 'DICOM preamble only', 'bad');

  // Manifest disagreements.
  put('normal', 'extra-not-in-manifest.png', await patternImage(30, 30, 70, 'png'), 'image missing from manifest.csv', 'ok', 'bad', false);
  const wrong = await patternImage(30, 30, 71, 'png');
  put('normal', 'wrong-hash.png', wrong, 'image whose manifest hash is wrong', 'ok', 'bad', false);
  manifest.push({ file: 'normal/wrong-hash.png', label: 'normal', patient_id: 'pw', sha256: sha256(Buffer.from('something else')) });
  put('covid', 'wrong-label.png', await patternImage(30, 30, 72, 'png'), 'image the manifest files under another class', 'ok', 'bad', false);
  manifest.push({ file: 'covid/wrong-label.png', label: 'normal', patient_id: 'pl', sha256: '' });
  manifest.push({ file: 'covid/listed-but-missing.png', label: 'covid', patient_id: 'pm', sha256: '' });
  entries.push({ rel: 'covid/listed-but-missing.png', kind: 'manifest row without a file', scan: 'bad' });

  // Links, names and folders.
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-hostile-outside-'));
  fs.writeFileSync(path.join(outside, 'target.png'), png);
  fs.symlinkSync(path.join(outside, 'target.png'), path.join(root, 'covid/link-to-image.png'));
  entries.push({ rel: 'covid/link-to-image.png', kind: 'symbolic link to an image', image: 'ok', scan: 'ok' });
  manifest.push({ file: 'covid/link-to-image.png', label: 'covid', patient_id: 'plink', sha256: sha256(png) });
  fs.symlinkSync('self-loop.png', path.join(root, 'covid/self-loop.png'));
  entries.push({ rel: 'covid/self-loop.png', kind: 'symbolic link loop', image: 'bad', scan: 'bad' });
  fs.symlinkSync('ping.png', path.join(root, 'normal/pong.png'));
  fs.symlinkSync('pong.png', path.join(root, 'normal/ping.png'));
  entries.push({ rel: 'normal/ping.png', kind: 'two-link loop', image: 'bad', scan: 'bad' });
  entries.push({ rel: 'normal/pong.png', kind: 'two-link loop', image: 'bad', scan: 'bad' });
  fs.symlinkSync('does-not-exist.png', path.join(root, 'covid/broken-link.png'));
  entries.push({ rel: 'covid/broken-link.png', kind: 'broken symbolic link', image: 'bad', scan: 'bad' });
  fs.mkdirSync(path.join(root, 'covid/loopdir'));
  fs.symlinkSync('..', path.join(root, 'covid/loopdir/up'));
  entries.push({ rel: 'covid/loopdir/up', kind: 'folder link loop', image: 'bad', scan: 'bad', scanProblem: 'covid/loopdir/up/' });
  fs.mkdirSync(path.join(root, 'normal/folder-named.png'));
  entries.push({ rel: 'normal/folder-named.png', kind: 'folder with an image name', image: 'bad', scan: 'ok' });
  fs.mkdirSync(path.join(root, 'covid/empty-subfolder'));
  for (const [i, bytes] of [[0xff, 0xfe], [0xc3, 0x28], [0xe9]].entries()) {
    const raw = Buffer.concat([Buffer.from(`${root}/${cls(i)}/latin1-`), Buffer.from(bytes), Buffer.from(`-${i}.png`)]);
    fs.writeFileSync(raw, png);
    const rel = path.relative(root, raw.toString('utf8'));
    entries.push({ rel, rawRel: raw.subarray(root.length + 1), kind: 'non-UTF-8 file name', image: 'bad', scan: 'bad' });
  }
  fs.mkdirSync(path.join(root, 'viral'));
  entries.push({ rel: 'viral/', kind: 'empty class folder', scan: 'ok' });
  put('pneumothorax', 'unknown-class.png', await patternImage(30, 30, 73, 'png'), 'image in an unknown class folder', 'ok', 'ignored', false);
  entries.push({ rel: 'pneumothorax/', kind: 'unknown class folder', scan: 'bad' });

  fs.writeFileSync(path.join(root, 'manifest.csv'), formatCsv(manifest, ['file', 'label', 'patient_id', 'sha256']));
  return { root, entries };
}
