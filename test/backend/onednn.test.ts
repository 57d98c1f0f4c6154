// The oneDNN decision: the user's TF_ENABLE_ONEDNN_OPTS, then CXR_ONEDNN, then a probe cached per machine key.
// Probe results are injected here, so these tests hold whichever way the real probe goes on this machine; one
// test runs the real child process and checks only that its verdict is well formed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  cpuIdentity, decideOneDnn, interpretProbe, probeCacheFile, readProbeCache, runProbe, type ProbeKey, type ProbeResult,
} from '../../lib/backend/onednn';
import { UsageError } from '../../lib/errors';

const KEY: ProbeKey = { cpu: 'Test CPU (x64, family 1 model 2 stepping 3, flags abc)', tensorflow: 'libtensorflow_cc.so.2 1 bytes', threads: 2 };

/** A temporary cache folder for the duration of `fn`. */
function withCache(fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-onednn-'));
  const before = process.env.CXR_CACHE;
  process.env.CXR_CACHE = dir;
  try {
    fn(dir);
  } finally {
    if (before === undefined) delete process.env.CXR_CACHE;
    else process.env.CXR_CACHE = before;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A probe that counts its calls and returns `result`. */
function fakeProbe(result: Omit<ProbeResult, 'at'>) {
  const calls: string[] = [];
  return { calls, probe: (pkg: string) => (calls.push(pkg), { ...result, at: '2026-01-01T00:00:00.000Z' }) };
}

const never = () => {
  throw new Error('the probe must not run');
};

test('TF_ENABLE_ONEDNN_OPTS set by the user wins, as TensorFlow parses it', () => {
  for (const [value, enabled] of [['1', true], ['0', false], ['true', true], ['FALSE', false]] as const) {
    const d = decideOneDnn({ env: { TF_ENABLE_ONEDNN_OPTS: value, CXR_ONEDNN: 'on' }, probe: never, key: KEY });
    assert.deepEqual([d.enabled, d.source], [enabled, 'env'], value);
    assert.match(d.reason, new RegExp(`TF_ENABLE_ONEDNN_OPTS=${value}`));
  }
});

test('CXR_ONEDNN=on|off overrides the probe; another value is a usage error', () => {
  assert.deepEqual(decideOneDnn({ env: { CXR_ONEDNN: 'on' }, probe: never, key: KEY }), { enabled: true, source: 'override', reason: 'CXR_ONEDNN=on' });
  assert.equal(decideOneDnn({ env: { CXR_ONEDNN: 'OFF' }, probe: never, key: KEY }).enabled, false);
  assert.throws(() => decideOneDnn({ env: { CXR_ONEDNN: 'maybe' }, probe: never, key: KEY }), (e: unknown) => e instanceof UsageError && /CXR_ONEDNN.*'maybe'/.test(e.message));
});

test('auto: a passing probe turns oneDNN on, is cached per key, and is not run again', () => withCache(() => {
  const fake = fakeProbe({ ok: true, reason: '42 convolution cases ran cleanly', seconds: 3.2, tensorflowVersion: '2.21.0' });
  const first = decideOneDnn({ env: {}, probe: fake.probe, key: KEY, nativePackage: '@tensorflow/tfjs-node-gpu' });
  assert.deepEqual([first.enabled, first.source, fake.calls], [true, 'probe', ['@tensorflow/tfjs-node-gpu']]);
  assert.match(first.reason, /probe passed: 42 convolution cases.*TensorFlow 2\.21\.0.*3\.2 s/);
  assert.ok(fs.existsSync(first.cacheFile!));
  const second = decideOneDnn({ env: { CXR_ONEDNN: 'auto' }, probe: fake.probe, key: KEY });
  assert.deepEqual([second.enabled, second.source, fake.calls.length], [true, 'cache', 1]);
  assert.equal(second.cacheFile, first.cacheFile);
}));

test('auto: a crashing probe leaves oneDNN off with the reason; another thread count probes again', () => withCache(() => {
  const crash = fakeProbe({ ok: false, reason: 'SIGFPE in eager ResNet 1x1 expand 256->1024 @14 batch 1', seconds: 2 });
  const d = decideOneDnn({ env: {}, probe: crash.probe, key: KEY });
  assert.deepEqual([d.enabled, d.source], [false, 'probe']);
  assert.match(d.reason, /probe failed: SIGFPE in eager ResNet 1x1 expand/);
  assert.equal(decideOneDnn({ env: {}, probe: never, key: KEY }).enabled, false);
  const pass = fakeProbe({ ok: true, reason: 'clean', seconds: 1 });
  const other = decideOneDnn({ env: {}, probe: pass.probe, key: { ...KEY, threads: 4 } });
  assert.deepEqual([other.enabled, other.source, pass.calls.length], [true, 'probe', 1]);
  assert.notEqual(other.cacheFile, d.cacheFile);
}));

test('a corrupt cache file, or one written for another key, is ignored and probed over', () => withCache(() => {
  const file = probeCacheFile(KEY);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, '{"key": ');
  assert.equal(readProbeCache(KEY), undefined);
  fs.writeFileSync(file, JSON.stringify({ key: { ...KEY, cpu: 'other' }, result: { ok: true, reason: 'x', seconds: 1, at: 'then' } }));
  assert.equal(readProbeCache(KEY), undefined);
  const crash = fakeProbe({ ok: false, reason: 'SIGSEGV in graph training step batch 8', seconds: 5 });
  assert.equal(decideOneDnn({ env: {}, probe: crash.probe, key: KEY }).enabled, false);
  assert.equal(crash.calls.length, 1);
  assert.equal(readProbeCache(KEY)?.reason, 'SIGSEGV in graph training step batch 8');
}));

test('the verdict names the signal, error or time-out and the case it happened in', () => {
  const out = 'case load @tensorflow/tfjs-node\ncase eager ResNet 1x1 expand 256->1024 @14 batch 1\n';
  assert.equal(interpretProbe({ status: null, signal: 'SIGFPE', stdout: out, stderr: '' }, 2).reason, 'SIGFPE in eager ResNet 1x1 expand 256->1024 @14 batch 1');
  assert.equal(interpretProbe({ status: 1, signal: null, stdout: out, stderr: 'warning\nCannot find module x\n' }, 1).reason, 'exit 1: Cannot find module x in eager ResNet 1x1 expand 256->1024 @14 batch 1');
  const timeout = Object.assign(new Error('spawnSync node ETIMEDOUT'), { code: 'ETIMEDOUT' });
  assert.equal(interpretProbe({ status: null, signal: 'SIGTERM', stdout: '', stderr: '', error: timeout }, 120).reason, 'timed out after 120 s in start-up');
  // A zero exit without the closing line is not a pass.
  assert.equal(interpretProbe({ status: 0, signal: null, stdout: out, stderr: '' }, 1).ok, false);
  const ok = interpretProbe({ status: 0, signal: null, stdout: `${out}done 2.21.0 42\n`, stderr: '' }, 3);
  assert.deepEqual([ok.ok, ok.tensorflowVersion], [true, '2.21.0']);
  assert.match(ok.reason, /^42 convolution cases/);
});

test('the CPU identity tells CPUs with the same model name apart by family, model and flags', () => {
  const info = (family: number, flags: string) => `processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: ${family}\nmodel\t\t: 2\nmodel name\t: AMD EPYC\nstepping\t: 1\nflags\t\t: ${flags}\n\nprocessor\t: 1\nmodel name\t: other\n`;
  const zen5 = cpuIdentity(info(26, 'avx2 avx512f avx512_vp2intersect'));
  assert.match(zen5, /^AMD EPYC \(.*family 26 model 2 stepping 1, flags [0-9a-f]{12}\)$/);
  assert.notEqual(zen5, cpuIdentity(info(25, 'avx2 avx512f avx512_vp2intersect')));
  assert.notEqual(zen5, cpuIdentity(info(26, 'avx2 avx512f')));
  assert.equal(zen5, cpuIdentity(info(26, 'avx2 avx512f avx512_vp2intersect')));
});

const skip = process.env.CXR_SKIP_NATIVE_TESTS === '1' ? 'CXR_SKIP_NATIVE_TESTS=1' : false;

test('the real probe child gives a well-formed verdict (either way) within its time-out', { skip, timeout: 130_000 }, () => {
  const r = runProbe('@tensorflow/tfjs-node');
  if (r.ok) {
    assert.match(r.tensorflowVersion ?? '', /^\d+\.\d+/);
    assert.match(r.reason, /^\d+ convolution cases/);
  } else {
    // A crash names the case it happened in; anything else (a missing binding) would be a set-up fault.
    assert.match(r.reason, /^(SIG[A-Z]+|timed out after \d+ s) in (eager|graph) /, r.reason);
  }
});
