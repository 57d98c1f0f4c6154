// `--backend` is one global option: accepted before or after any command, listed in each command's help,
// and a bad name is one `cxr: error:` line with the usage exit code, as a bad CXR_BACKEND is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';

const CXR = path.join(PROJECT_ROOT, 'bin', 'cxr.js');

function cxr(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CXR_BACKEND;
  return spawnSync(process.execPath, [CXR, ...args], { cwd: PROJECT_ROOT, env, encoding: 'utf8', timeout: 120_000 });
}

test('--backend after the command forces the backend as before it', { timeout: 240_000 }, () => {
  const r = cxr('doctor', '--backend', 'cpu');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^backend: +cpu \(tf\.getBackend\(\) = cpu\)$/m);
});

test('a bad --backend is one line and exit code 64, before or after the command', { timeout: 240_000 }, () => {
  for (const args of [['train', '--backend', 'gpu', '--model', 'resnet50', '--task', 'binary'], ['--backend', 'tpu', 'doctor']]) {
    const r = cxr(...args);
    assert.equal(r.status, 64, r.stderr);
    assert.equal(r.stderr.trim(), `cxr: error: --backend: unknown backend '${args[args.indexOf('--backend') + 1]}' (choose from tensorflow-gpu, tensorflow, wasm, cpu)`);
  }
});

test("each command's help lists --backend once", { timeout: 240_000 }, () => {
  for (const command of ['train', 'predict', 'evaluate']) {
    const r = cxr(command, '--help');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.match(/--backend <name>/g)?.length, 1, r.stdout);
  }
});
