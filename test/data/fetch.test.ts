import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { fetchDataset, FETCH_JOURNAL } from '../../lib/data/fetch';
import { scanDataset } from '../../lib/data/scan';
import { formatCsv } from '../../lib/io/csv';
import { PROJECT_ROOT } from '../../lib/paths';
import { patternImage, sha256, snapshot } from './synth';

const cxr = path.join(PROJECT_ROOT, 'bin', 'cxr.js');
const COLUMNS = ['file', 'label', 'source_repo', 'source_commit', 'source_path', 'patient_id', 'sha256', 'original_sha256', 'variant', 'width', 'height'];

interface Source {
  file: string;
  label: string;
  original: Buffer;
  variant: string;
  /** What the server does with a request for it. */
  serve: 'ok' | 'missing' | 'flaky' | 'stall-once';
  /** The shared copy's bytes (for --from). */
  copy: Buffer;
}

async function sources(): Promise<Source[]> {
  const small = await patternImage(20, 16, 1);
  const bigColour = await patternImage(1000, 600, 2, 'jpeg');
  const greyPx = Buffer.alloc(900 * 800);
  for (let i = 0; i < greyPx.length; i++) greyPx[i] = (i * 13) & 255;
  const bigGrey = await sharp(greyPx, { raw: { width: 900, height: 800, channels: 1 } }).png().toBuffer();
  const shared = (b: Buffer, v: string) =>
    v === 'resized_png'
      ? sharp(b).resize(768, 768, { fit: 'inside' }).png({ compressionLevel: 1 }).toBuffer()
      : sharp(b).resize(768, 768, { fit: 'inside' }).jpeg({ quality: 90 }).toBuffer();
  return [
    { file: 'covid/a.png', label: 'covid', original: small, variant: 'copied_original', serve: 'ok', copy: small },
    { file: 'covid/b.jpg', label: 'covid', original: bigColour, variant: 'resized_jpeg_q90', serve: 'flaky', copy: await shared(bigColour, 'resized_jpeg_q90') },
    { file: 'viral/c.png', label: 'viral', original: bigGrey, variant: 'resized_png', serve: 'stall-once', copy: await shared(bigGrey, 'resized_png') },
    { file: 'normal/d.jpg', label: 'normal', original: bigGrey, variant: 'resized_jpeg_q90', serve: 'ok', copy: await shared(bigGrey, 'resized_jpeg_q90') },
    { file: 'normal/gone.png', label: 'normal', original: small, variant: 'copied_original', serve: 'missing', copy: small },
  ];
}

function manifestText(list: Source[]): string {
  return formatCsv(
    list.map((s, i) => ({
      file: s.file,
      label: s.label,
      source_repo: 'org/repo name',
      source_commit: 'c0ffee',
      source_path: `images/${i} ${path.basename(s.file)}`,
      patient_id: `p${i}`,
      sha256: sha256(s.copy),
      original_sha256: sha256(s.original),
      variant: s.variant,
      width: 0,
      height: 0,
    })),
    COLUMNS,
  );
}

function runAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A loopback raw-file server; `stall` holds the first request for a stall-once file open forever. */
async function serve(list: Source[]) {
  const requests: string[] = [];
  let stall = true;
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    requests.push(url);
    const i = Number(url.match(/images\/(\d+) /)?.[1]);
    const s = list[i];
    if (!url.startsWith('/org/repo name/c0ffee/') || !s || s.serve === 'missing') {
      res.writeHead(404).end('not found');
      return;
    }
    if (s.serve === 'flaky' && requests.filter((r) => r === url).length === 1) {
      res.writeHead(503).end('busy');
      return;
    }
    if (s.serve === 'stall-once' && stall) {
      held.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(s.original);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    release() {
      stall = false;
      for (const r of held) r.destroy();
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

test('fetch from a loopback server: interrupted, resumed, retried; failures reported; result scans clean', async () => {
  const list = await sources();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-fetch-'));
  const manifest = path.join(dir, 'manifest.csv');
  fs.writeFileSync(manifest, manifestText(list));
  const out = path.join(dir, 'out');
  const server = await serve(list);
  try {
    // First run, one download at a time, killed while the third file hangs.
    const child = spawn(process.execPath, [cxr, 'data', 'fetch', '--manifest', manifest, '--out', out, '--base-url', server.baseUrl,
      '--concurrency', '1', '--retry-delay', '10'], { stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    while (!server.requests.some((r) => r.includes('images/2 ')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(fs.existsSync(path.join(out, 'covid/a.png')) && fs.existsSync(path.join(out, 'covid/b.jpg')), 'first two files done before the kill');
    assert.ok(!fs.existsSync(path.join(out, 'viral/c.png')));
    assert.deepEqual(fs.readdirSync(path.join(out, 'covid')).filter((f) => f.includes('.tmp')), []);
    server.release();

    const before = server.requests.length;
    const report = await fetchDataset({ manifest, out, baseUrl: server.baseUrl, retryDelayMs: 10, showProgress: false });
    const again = server.requests.slice(before);
    assert.ok(!again.some((r) => r.includes('images/0 ') || r.includes('images/1 ')), `re-downloaded: ${again}`);
    assert.deepEqual(report.present, ['covid/a.png', 'covid/b.jpg']);
    assert.deepEqual(report.fetched, ['normal/d.jpg', 'viral/c.png']);
    assert.deepEqual(report.failed.map((f) => f.file), ['normal/gone.png']);
    assert.match(report.failed[0].reason, /HTTP 404/);
    assert.equal(again.filter((r) => r.includes('images/4 ')).length, 1, '404 is not retried');
    assert.deepEqual(fs.readFileSync(path.join(out, 'covid/a.png')), list[0].original);
    assert.equal(server.requests.filter((r) => r.includes('images/1 ')).length, 2, 'a 503 is retried once, then succeeds');

    for (const [file, long] of [['covid/b.jpg', 768], ['viral/c.png', 768], ['normal/d.jpg', 768]] as const) {
      const m = await sharp(path.join(out, file)).metadata();
      assert.equal(Math.max(m.width!, m.height!), long, file);
    }
    assert.equal((await sharp(path.join(out, 'viral/c.png')).metadata()).format, 'png');
    assert.equal((await sharp(path.join(out, 'normal/d.jpg')).metadata()).channels, 1, 'grey source saved as grey JPEG');
    assert.equal((await sharp(path.join(out, 'covid/b.jpg')).metadata()).channels, 3);

    const ds = await scanDataset(out);
    assert.deepEqual(ds.problems, []);
    assert.deepEqual(ds.samples.map((s) => [s.file, s.patientId]), [['covid/a.png', 'p0'], ['covid/b.jpg', 'p1'], ['normal/d.jpg', 'p3'], ['viral/c.png', 'p2']]);
    assert.ok(fs.existsSync(path.join(out, FETCH_JOURNAL)));

    // A second run changes nothing and downloads only the missing file (and fails on it again), via the CLI.
    const snap = snapshot(path.join(out, 'covid'));
    // Asynchronous: this process serves the files, so it must not block while the CLI runs.
    const r = await runAsync([cxr, 'data', 'fetch', '--manifest', manifest, '--out', out, '--base-url', server.baseUrl, '--retry-delay', '10']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /failed normal\/gone\.png: HTTP 404/);
    assert.match(r.stderr, /cxr: error: 1 of 5 file\(s\) failed; run the same command again to resume/);
    assert.match(r.stdout, /0 fetched, 4 already present, 1 failed/);
    assert.deepEqual(snapshot(path.join(out, 'covid')), snap);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fetch --from copies a local copy, checks sha256, and reports a corrupted copy', async () => {
  const list = (await sources()).slice(0, 4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-from-'));
  const manifest = path.join(dir, 'manifest.csv');
  fs.writeFileSync(manifest, manifestText(list));
  const local = path.join(dir, 'local');
  for (const s of list) {
    fs.mkdirSync(path.dirname(path.join(local, s.file)), { recursive: true });
    fs.writeFileSync(path.join(local, s.file), s.copy);
  }
  const bad = Buffer.from(list[3].copy);
  bad[bad.length >> 1] ^= 0xff;
  fs.writeFileSync(path.join(local, list[3].file), bad);
  const localSnap = snapshot(local);
  try {
    const out = path.join(dir, 'out');
    const r = spawnSync(process.execPath, [cxr, 'data', 'fetch', '--manifest', manifest, '--out', out, '--from', local], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /failed normal\/d\.jpg: .*does not match the manifest's sha256/);
    for (const s of list.slice(0, 3)) assert.deepEqual(fs.readFileSync(path.join(out, s.file)), s.copy);
    assert.ok(!fs.existsSync(path.join(out, 'normal/d.jpg')));
    assert.deepEqual(snapshot(local), localSnap);
    const strict = spawnSync(process.execPath, [cxr, 'data', 'fetch', '--manifest', manifest, '--out', path.join(dir, 'out2'), '--from', local, '--strict', '--concurrency', '1'], { encoding: 'utf8' });
    assert.equal(strict.status, 2);
    assert.match(strict.stderr, /cxr: error: .*normal\/d\.jpg: .*sha256 \(--strict/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
