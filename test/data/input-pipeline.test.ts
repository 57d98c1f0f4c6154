import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeImage } from '../../lib/data/decode';
import { DEFAULT_ENHANCE } from '../../lib/enhance/pipeline';
import { InputFileError } from '../../lib/errors';
import { ImagePool } from '../../lib/data/input/image-pool';
import { imageBatches, type FeedItem } from '../../lib/data/input/pipeline';
import { makeSyntheticDataset, tempDir } from '../train/helpers';

async function collect(items: FeedItem[], workers: number, enhance: typeof DEFAULT_ENHANCE | null) {
  const pool = new ImagePool(workers);
  try {
    const out: { x: Float32Array; n: number; offset: number }[] = [];
    for await (const b of imageBatches(items, pool, { batchSize: 4, inputSize: 24, fit: 'stretch', enhance, prefetch: 2 })) out.push(b);
    return out;
  } finally {
    await pool.close();
  }
}

test('worker threads and inline loading give the same batches, in feed order', { timeout: 120_000 }, async () => {
  const data = await makeSyntheticDataset(tempDir('cxr-pipe-'), 4);
  const files = ['covid', 'viral', 'normal'].flatMap((c) => fs.readdirSync(path.join(data, c)).map((f) => path.join(data, c, f)));
  const items: FeedItem[] = files.map((p, i) => ({ path: p, augment: i % 2 ? { flip: true, angle: 0.3 } : null }));
  const inline = await collect(items, 0, DEFAULT_ENHANCE);
  const threaded = await collect(items, 2, DEFAULT_ENHANCE);
  assert.deepEqual(inline.map((b) => [b.offset, b.n]), [[0, 4], [4, 4], [8, 4]]);
  assert.deepEqual(threaded.map((b) => b.x), inline.map((b) => b.x));
  // Enhanced images are grey: the three channels are equal.
  const x = inline[0].x;
  for (let i = 0; i < x.length; i += 3) assert.ok(x[i] === x[i + 1] && x[i] === x[i + 2]);

  // Without enhancement an unaugmented image is exactly lib/data's decode at the input size.
  const plain = await collect(items.slice(0, 1), 2, null);
  const ref = await decodeImage(files[0], { size: 24, fit: 'stretch' });
  assert.deepEqual(plain[0].x, Float32Array.from(ref.data));
});

test('a broken image stops the stream with an error naming the file', { timeout: 60_000 }, async () => {
  const dir = tempDir('cxr-pipe-bad-');
  const data = await makeSyntheticDataset(dir, 1);
  const bad = path.join(data, 'covid', 'broken.png');
  fs.writeFileSync(bad, Buffer.from('not a png at all'));
  const items: FeedItem[] = [path.join(data, 'viral', 'viral_000.png'), bad].map((p) => ({ path: p, augment: null }));
  for (const workers of [0, 2]) {
    await assert.rejects(collect(items, workers, DEFAULT_ENHANCE), (err: Error) => err instanceof InputFileError && err.message.startsWith(bad + ': '));
  }
});
