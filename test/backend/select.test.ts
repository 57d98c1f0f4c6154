// Backend selection end to end, each case in a fresh process (the choice is made once per process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';

const CXR = path.join(PROJECT_ROOT, 'bin', 'cxr.js');
const nativeExpected = process.env.CXR_SKIP_NATIVE_TESTS !== '1';

function run(args: string[], env: Record<string, string | undefined> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const r = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, env: childEnv, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('cxr doctor --json picks the best backend and explains every candidate', () => {
  const r = run([CXR, 'doctor', '--json'], { CXR_BACKEND: undefined, TF_CPU_ALLOCATOR_USE_BFC: undefined });
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.deepEqual(info.candidates.map((c: { name: string }) => c.name), ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
  for (const c of info.candidates) assert.ok(typeof c.usable === 'boolean' && c.reason.length > 0, JSON.stringify(c));
  const inUse = info.candidates.filter((c: { reason: string }) => c.reason === 'in use');
  assert.deepEqual(inUse.map((c: { name: string }) => c.name), [info.name]);
  if (nativeExpected) {
    assert.equal(info.name, info.gpu ? 'tensorflow-gpu' : 'tensorflow', 'the native backend should run here (npm run setup:native)');
    assert.match(info.runtimeVersion, /^TensorFlow \d/);
    assert.equal(info.oneDnnOpts, '0');
    assert.equal(info.cpuAllocator, 'bfc');
    const malloc = run([CXR, 'doctor', '--json'], { CXR_BACKEND: undefined, TF_CPU_ALLOCATOR_USE_BFC: 'false' });
    assert.equal(JSON.parse(malloc.stdout).cpuAllocator, 'malloc', 'the user\'s setting wins');
  }
  assert.ok(info.threads >= 1);
});

test('cxr --backend cpu doctor prints the forced backend as text', () => {
  const r = run([CXR, '--backend', 'cpu', 'doctor'], { CXR_BACKEND: undefined });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^backend: +cpu \(tf\.getBackend\(\) = cpu\)$/m);
  assert.match(r.stdout, /^ {2}\+ cpu +in use$/m);
  assert.match(r.stdout, /^ {2}[+-] tensorflow +not used: backend forced to cpu; /m);
});

test('CXR_BACKEND=wasm selects wasm with the gradient kernels it lacked', () => {
  const script = `
    const tf = require('@tensorflow/tfjs');
    const { initBackend } = require('./lib/backend.ts');
    (async () => {
      const a = await initBackend();
      const b = await initBackend({ backend: 'cpu' });
      console.log(JSON.stringify({ name: a.name, same: a === b, tf: tf.getBackend(),
        grads: ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'].every((k) => !!tf.getKernel(k, 'wasm')) }));
    })();`;
  const r = run(['--import', 'tsx', '-e', script], { CXR_BACKEND: 'wasm' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { name: 'wasm', same: true, tf: 'wasm', grads: true });
  assert.match(r.stderr, /^backend: wasm \(forced\)$/m);
});

test('without forcing, one stderr line names the backend and why better ones were not used', () => {
  const script = `require('./lib/backend.ts').initBackend().then((i) => console.log(i.name));`;
  const r = run(['--import', 'tsx', '-e', script], { CXR_BACKEND: undefined });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('backend: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], new RegExp(`^backend: ${r.stdout.trim()}( \\(tensorflow-gpu: .+\\))?$`));
});

test('an unknown CXR_BACKEND is a usage error', () => {
  const r = run([CXR, 'doctor'], { CXR_BACKEND: 'tpu' });
  assert.equal(r.status, 64);
  assert.match(r.stderr, /^cxr: error: CXR_BACKEND: unknown backend 'tpu' \(choose from tensorflow-gpu, tensorflow, wasm, cpu\)$/m);
});
