import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { Command, InvalidArgumentError } from 'commander';
import { CxrError, InputFileError, UsageError, describeError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { progress } from '../io/progress';
import { defaultMaskDir, readGrey } from '../segment/data';
import { saveSegmentFigures } from '../segment/figures';
import { figuresDir } from '../plots/export';
import { SHARED_DATA_DIR } from '../paths';
import { loadSegmenter, type Segmenter } from '../segment/segmenter';
import { DEFAULT_SEGMENT_SETTINGS, trainSegmenter } from '../segment/train';

/** File types `cxr segment --data` tries to decode (decodeImage reads them by content). */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.tif', '.tiff', '.gif', '.heic', '.heif', '.avif']);
/** Images segmented per batch in folder mode. */
const FOLDER_BATCH = 8;

interface SegmentFlags {
  epochs?: number;
  masks?: string;
  model?: string;
  data?: string;
  out?: string;
  strict?: boolean;
  quiet?: boolean;
}

function positiveInteger(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

async function writeMaskPng(file: string, mask: Uint8Array, width: number, height: number): Promise<void> {
  const png = await sharp(mask, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  writeFileAtomic(file, png);
}

async function train(flags: SegmentFlags): Promise<void> {
  const settings = { ...DEFAULT_SEGMENT_SETTINGS, epochs: flags.epochs ?? DEFAULT_SEGMENT_SETTINGS.epochs };
  // Ctrl-C loses at most the epoch in progress: the checkpoint of the last one is on disk.
  process.once('SIGINT', () => {
    console.error(`\ninterrupted; continue with: npx cxr segment train${flags.epochs ? ` --epochs ${flags.epochs}` : ''}`);
    process.exit(130);
  });
  const { dir, record } = await trainSegmenter({ dataDir: path.resolve(flags.masks ?? defaultMaskDir()), settings, quiet: flags.quiet });
  if (!record) throw new CxrError(`${dir}: training stopped early; run the same command again to resume`);
  const { dice, iou } = record.val;
  const ci = (c: typeof dice) => `${c.point.toFixed(3)} (95% CI ${c.lo.toFixed(3)}–${c.hi.toFixed(3)})`;
  console.log(`${dir}: ${record.settings.epochs} epochs, val ${record.val.images} images of ${record.val.patients} patients: ` +
    `Dice ${ci(dice)}, IoU ${ci(iou)}, ${record.val.belowFail} below Dice 0.80`);
}

async function segmentOne(seg: Segmenter, input: string, output: string): Promise<void> {
  const img = await readGrey(input);
  const mask = await seg.segmentGrey(img.data, img.width, img.height);
  await writeMaskPng(output, mask, img.width, img.height);
  console.log(`${output} ${img.width}x${img.height}`);
}

/** Image files under `root`, relative to it, sorted; hidden files and folders skipped. */
function listImages(root: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(root, rel), { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((d) => {
      const sub = path.join(rel, d.name);
      if (d.isDirectory()) return listImages(root, sub);
      return IMAGE_EXTENSIONS.has(path.extname(d.name).toLowerCase()) ? [sub] : [];
    });
}

async function segmentFolder(seg: Segmenter, flags: SegmentFlags): Promise<void> {
  if (!flags.out) throw new UsageError('--data needs --out DIR (the data folder is never written to)');
  const root = path.resolve(flags.data!);
  const outDir = path.resolve(flags.out);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new UsageError(`${root}: not a folder`);
  const rel = path.relative(root, outDir);
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) throw new UsageError(`${outDir}: the output folder must be outside ${root}`);
  const files = listImages(root);
  const bar = progress({ label: 'segment', total: files.length, unit: 'img', silent: flags.quiet });
  const skipped: string[] = [];
  for (let start = 0; start < files.length; start += FOLDER_BATCH) {
    const chunk = files.slice(start, start + FOLDER_BATCH);
    const images = await Promise.all(
      chunk.map((f) =>
        readGrey(path.join(root, f)).catch((err) => {
          if (flags.strict || !(err instanceof InputFileError)) throw err;
          skipped.push(describeError(err));
          return null;
        }),
      ),
    );
    const ok = chunk.flatMap((f, i) => (images[i] ? [{ f, img: images[i]! }] : []));
    const masks = await seg.segmentGreyBatch(ok.map((o) => o.img));
    for (let i = 0; i < ok.length; i++) {
      const { f, img } = ok[i];
      const target = path.join(outDir, path.dirname(f), path.parse(f).name + '.png');
      await writeMaskPng(target, masks[i], img.width, img.height);
    }
    bar.tick(chunk.length);
  }
  bar.done();
  for (const s of skipped) console.error(`skipped ${s}`);
  console.log(`${files.length - skipped.length} masks written into ${outDir}; ${skipped.length} skipped`);
}

/** Overlays on adult COVID validation images, paediatric normals (cxr-data) and adult normals (cxr-adult); Dice histogram. */
async function figures(flags: SegmentFlags): Promise<void> {
  const seg = await loadSegmenter(flags.model, { quiet: flags.quiet });
  try {
    const sources = [
      { label: 'adult COVID (val)', dir: defaultMaskDir(), files: seg.record?.split.valFiles },
      { label: 'paediatric normal', dir: path.join(SHARED_DATA_DIR, 'normal') },
      { label: 'adult normal', dir: path.join(SHARED_DATA_DIR, '..', 'cxr-adult', 'normal') },
    ].filter((s) => fs.existsSync(s.dir));
    const saved = await saveSegmentFigures(seg, sources, path.resolve(flags.out ?? figuresDir()));
    for (const f of saved) console.log(`${f.png}\n${f.svg}`);
  } finally {
    seg.dispose();
  }
}

/** `cxr segment`: train the lung segmenter, or write lung masks for one image or a whole folder. */
export function register(program: Command): void {
  program
    .command('segment')
    .description('lung masks (0/255, same size as the image): `segment train`, `segment in.png out.png`, or `segment --data DIR --out DIR2`')
    .argument('[input]', '`train`, `figures` (into --out, default figures/), or the image to segment')
    .argument('[output]', 'the mask .png to write')
    .option('--epochs <n>', `with train: epochs (default ${DEFAULT_SEGMENT_SETTINGS.epochs})`, positiveInteger)
    .option('--masks <dir>', 'with train: lung-mask data folder (default ../shared/cxr-lungmasks or CXR_LUNGMASKS)')
    .option('--model <dir>', 'segmenter folder to use (default: the cached default one, trained first when missing)')
    .option('--data <dir>', 'segment every image under this folder (sub-folders mirrored)')
    .option('--out <dir>', 'output folder for --data: <same stem>.png per image')
    .option('--strict', 'with --data: fail at the first bad file instead of skipping it')
    .option('--quiet', 'no progress output')
    .action(async (input: string | undefined, output: string | undefined, flags: SegmentFlags) => {
      if (input === 'figures') return figures(flags);
      if (input === 'train') {
        if (output !== undefined || flags.data !== undefined || flags.out !== undefined) throw new UsageError('segment train takes only --epochs, --masks and --quiet');
        return train(flags);
      }
      if (flags.epochs !== undefined || flags.masks !== undefined) throw new UsageError('--epochs and --masks go with `cxr segment train`');
      const folder = flags.data !== undefined || flags.out !== undefined;
      if (folder && input !== undefined) throw new UsageError('give either <input> <output> or --data DIR --out DIR, not both');
      if (!folder && (input === undefined || output === undefined)) throw new UsageError('segment needs <input> <output.png>, --data DIR --out DIR, or train');
      if (!folder && path.extname(output!).toLowerCase() !== '.png') throw new UsageError(`${output}: the output must be a .png file`);
      if (folder && flags.data === undefined) throw new UsageError('--out needs --data DIR');
      // Check the input before a possibly long first training.
      if (!folder && !fs.existsSync(input!)) throw new InputFileError(input!, 'no such file');
      const seg = await loadSegmenter(flags.model, { quiet: flags.quiet });
      try {
        if (folder) await segmentFolder(seg, flags);
        else await segmentOne(seg, input!, output!);
      } finally {
        seg.dispose();
      }
    });
}
