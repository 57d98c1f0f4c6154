import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { encodePng, imageGrid, imageGridFigure, pngDataUri } from '../../lib/plots/images';
import { assertPortable } from './portable';

const ramp = (w: number, h: number, channels: 1 | 3) => ({
  data: Uint8Array.from({ length: w * h * channels }, (_, i) => Math.floor(i / channels) % 256),
  width: w,
  height: h,
  channels,
});

test('encodePng: lossless at the same size, shrunk (never enlarged) to maxSide', async () => {
  const img = ramp(40, 30, 1);
  const same = await encodePng(img);
  assert.deepEqual([same.width, same.height], [40, 30]);
  assert.equal((await sharp(same.png).metadata()).channels, 1, 'grey stays a grey PNG');
  const back = await sharp(same.png).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual(new Uint8Array(back.data), img.data);
  const small = await encodePng(ramp(400, 100, 3), 200);
  assert.deepEqual([small.width, small.height], [200, 50]);
  const notEnlarged = await encodePng(img, 1000);
  assert.deepEqual([notEnlarged.width, notEnlarged.height], [40, 30]);
  await assert.rejects(encodePng({ ...img, data: new Uint8Array(5) }), /5 bytes for 40×30×1/);
});

test('imageGrid: images become PNG data URIs in an image-trace grid', async () => {
  const fig = await imageGrid({
    title: 'g',
    rows: [{ label: 'covid', images: [{ image: ramp(600, 300, 3), title: 'a' }, { image: ramp(20, 20, 1) }] }],
    cellSize: 100,
  });
  assert.equal(fig.data.length, 2);
  const src = fig.data[0].source as string;
  assert.ok(src.startsWith('data:image/png;base64,'));
  const meta = await sharp(Buffer.from(src.slice(src.indexOf(',') + 1), 'base64')).metadata();
  assert.deepEqual([meta.width, meta.height], [200, 100], 'thumbnails at twice the cell size');
  assert.deepEqual((fig.layout.xaxis as { range: number[] }).range, [-0.5, 199.5]);
  assert.equal(pngDataUri(Uint8Array.from([1, 2])), 'data:image/png;base64,AQI=');
});

test('imageGridFigure: one image trace per cell, aspect kept, row labels and captions', () => {
  const cell = (w: number, h: number, title: string) => ({ source: 'data:image/png;base64,AAAA', width: w, height: h, title });
  const fig = imageGridFigure({
    title: 'grid',
    rows: [{ label: 'covid', cells: [cell(40, 20, 'a'), cell(20, 40, 'b<i>')] }, { label: 'normal', cells: [cell(10, 10, 'c')] }],
    cellSize: 100,
  });
  assert.equal(fig.data.length, 3);
  assert.ok(fig.data.every((t) => t.type === 'image' && t.source === 'data:image/png;base64,AAAA'));
  assert.deepEqual(fig.data.map((t) => t.xaxis), ['x', 'x2', 'x3']);
  const y2 = fig.layout.yaxis2 as { range: number[]; scaleanchor: string };
  assert.deepEqual(y2.range, [39.5, -0.5], 'images run top to bottom');
  assert.equal(y2.scaleanchor, 'x2', 'square pixels');
  const texts = (fig.layout.annotations as { text: string }[]).map((a) => a.text);
  assert.ok(texts.includes('b&lt;i&gt;'), 'captions are escaped');
  assert.ok(texts.includes('<b>covid</b>'));
  assert.ok(fig.layout.width! >= 2 * 100 && fig.layout.height! >= 2 * 100);
  assertPortable(fig);
});
