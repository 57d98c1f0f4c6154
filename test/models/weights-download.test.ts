import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { CxrError } from '../../lib/errors';
import { getBackbone, loadBackbone } from '../../lib/models/registry';
import { downloadFile, fetchWeights, offlineInstructions, weightsCached, weightsPath } from '../../lib/models/weights';
import type { BackboneSpec } from '../../lib/models/types';

const payload = Buffer.from(Array.from({ length: 3 * 1024 * 1024 + 123 }, (_, i) => (i * 31 + (i >> 9)) & 255));
const md5 = createHash('md5').update(payload).digest('hex');

/** Serves `payload` with Range support; the first full request is cut off half-way, like a dropped connection. */
async function flakyServer(): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.headers.range ?? 'full');
    if (req.url === '/broken') {
      res.writeHead(500).end();
      return;
    }
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      res.writeHead(206, { 'content-length': payload.length - start, 'content-range': `bytes ${start}-${payload.length - 1}/${payload.length}` });
      res.end(payload.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': payload.length });
    if (requests.filter((r) => r === 'full').length === 1) {
      res.write(payload.subarray(0, payload.length >> 1), () => res.destroy());
    } else res.end(payload);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

test('an interrupted download resumes with an HTTP Range request and is MD5-checked', async () => {
  const srv = await flakyServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-dl-'));
  try {
    const dest = path.join(dir, 'w.h5');
    await downloadFile(`${srv.url}/w.h5`, dest, { md5, backoffMs: 5, silent: true });
    assert.ok(fs.readFileSync(dest).equals(payload));
    assert.equal(srv.requests[0], 'full');
    assert.match(srv.requests[1], /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(srv.requests[1])![0]) > 0, 'resumed from a non-zero offset');
    assert.equal(fs.existsSync(`${dest}.part`), false);

    const bad = path.join(dir, 'bad.h5');
    await assert.rejects(downloadFile(`${srv.url}/w.h5`, bad, { md5: '0'.repeat(32), silent: true }), /MD5 [0-9a-f]{32}, expected 0{32}/);
    assert.equal(fs.existsSync(bad), false);
    await assert.rejects(downloadFile(`${srv.url}/broken`, bad, { retries: 2, backoffMs: 5, silent: true }),
      (e: Error) => e instanceof CxrError && /cannot download .*\/broken: HTTP 500/.test(e.message));
  } finally {
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fetchWeights caches a backbone file once; offline errors say which file goes where', async () => {
  const srv = await flakyServer();
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-cache-'));
  const saved = process.env.CXR_CACHE;
  process.env.CXR_CACHE = cache;
  try {
    const spec: BackboneSpec = { ...getBackbone('resnet101'), weights: { kind: 'keras-h5', url: `${srv.url}/r101.h5`, md5, fileName: 'r101.h5' } };
    assert.equal(await weightsCached(spec), false);
    assert.equal(await fetchWeights(spec, { silent: true }), path.join(cache, 'weights', 'r101.h5'));
    const n = srv.requests.length;
    assert.equal(await weightsCached(spec), true);
    await fetchWeights(spec, { silent: true });
    assert.equal(srv.requests.length, n, 'no second download');
    fs.writeFileSync(weightsPath(spec), 'corrupted');
    await assert.rejects(weightsCached(spec), /does not match the published/);

    const real = getBackbone('resnet101');
    const expected = path.join(cache, 'weights', 'resnet101_weights_tf_dim_ordering_tf_kernels_notop.h5');
    assert.equal(offlineInstructions(real).includes(expected), true);
    await assert.rejects(loadBackbone('resnet101', { weights: 'imagenet', inputSize: 32 }), (e: Error) =>
      e instanceof CxrError && e.message.includes(expected) && e.message.includes(real.weights.kind === 'keras-h5' ? real.weights.url : '?'));
  } finally {
    if (saved === undefined) delete process.env.CXR_CACHE;
    else process.env.CXR_CACHE = saved;
    await srv.close();
    fs.rmSync(cache, { recursive: true, force: true });
  }
});
