import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PhaseConfig } from '../../lib/train/config';
import { loadLatestCheckpoint } from '../../lib/train/checkpoint';
import { readHistory } from '../../lib/train/run-folder';
import { makeSyntheticDataset, tempDir } from './helpers';

const child = path.join(__dirname, 'fixtures', 'tiny-run.ts');
const callbacks = {
  earlyStopping: { monitor: 'val_accuracy', patience: 20, restoreBest: true },
  reduceLr: { monitor: 'val_loss', factor: 0.5, patience: 1, minLr: 1e-5, minDelta: 1e-4 },
} as const;
// Phase 1 on cached pooled features; phase 2 streams augmented images through the unfrozen last stage.
const phases: PhaseConfig[] = [
  { epochs: 3, learningRate: 1e-2, batchSize: 8, trainAfter: 'head_pool', frozen: 'cache', views: 0, augment: false, ...callbacks },
  { epochs: 3, learningRate: 1e-3, batchSize: 8, trainAfter: 'block1_out', frozen: 'stream', views: 0, augment: true, ...callbacks },
];

/** Runs the child; with `killAfterEpoch`, SIGKILLs it as soon as that epoch's checkpoint exists. */
function runChild(args: string[], env: NodeJS.ProcessEnv, killAfterEpoch?: number): Promise<{ killed: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let killed = false;
    p.stderr.on('data', (d) => (stderr += d));
    p.stdout.on('data', (d: Buffer) => {
      const m = /epoch (\d+)/.exec(d.toString());
      if (killAfterEpoch !== undefined && m && Number(m[1]) >= killAfterEpoch && !killed) {
        killed = true;
        p.kill('SIGKILL');
      }
    });
    p.on('error', reject);
    p.on('close', (code) => resolve({ killed, code, stderr }));
  });
}

function modelBytes(dir: string): Buffer {
  const m = path.join(dir, 'model');
  return Buffer.concat(fs.readdirSync(m).filter((f) => f.endsWith('.bin')).sort().map((f) => fs.readFileSync(path.join(m, f))));
}

/** Names, sizes and modification times of every file under `dir`. */
function snapshot(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => path.join(e.parentPath, e.name))
    .map((f) => `${path.relative(dir, f)} ${fs.statSync(f).size} ${fs.statSync(f).mtimeMs}`)
    .sort();
}

const comparable = (dir: string) => readHistory(dir).map(({ seconds: _s, ...rest }) => rest);

test('a run killed with SIGKILL and resumed twice ends exactly like an uninterrupted one (cpu backend)', { timeout: 600_000 }, async () => {
  const root = tempDir('cxr-resume-');
  const data = await makeSyntheticDataset(path.join(root, 'data'), 8);
  const before = snapshot(data);
  const out = path.join(root, 'runs');
  const env = { ...process.env, CXR_BACKEND: 'cpu', CXR_CACHE: path.join(root, 'cache'), TF_CPP_MIN_LOG_LEVEL: '2' };
  const phasesJson = JSON.stringify(phases);

  const full = await runChild(['start', data, out, 'full', phasesJson], env);
  assert.equal(full.code, 0, full.stderr);
  const fullDir = path.join(out, 'full');

  const cutDir = path.join(out, 'cut');
  const first = await runChild(['start', data, out, 'cut', phasesJson], env, 2);
  assert.ok(first.killed, `the child finished before it could be killed: ${first.stderr}`);
  // Consistent after the kill: the latest checkpoint is complete and at most one epoch behind.
  let ckpt = loadLatestCheckpoint<{ history: unknown[] }>(path.join(cutDir, 'checkpoints'));
  assert.ok(ckpt && ckpt.data.state.history.length >= 2, 'checkpoint of epoch 2 survives the kill');
  assert.equal(readHistory(cutDir).length, ckpt!.data.state.history.length);
  JSON.parse(fs.readFileSync(path.join(cutDir, 'config.json'), 'utf8'));

  const second = await runChild(['resume', cutDir], env, 4);
  assert.ok(second.killed, `the resumed child finished before it could be killed: ${second.stderr}`);
  ckpt = loadLatestCheckpoint(path.join(cutDir, 'checkpoints'));
  assert.ok(ckpt && ckpt.data.state.history.length >= 4);

  const third = await runChild(['resume', cutDir], env);
  assert.equal(third.code, 0, third.stderr);

  assert.deepEqual(comparable(cutDir), comparable(fullDir));
  assert.equal(comparable(fullDir).length, 6);
  assert.ok(modelBytes(cutDir).equals(modelBytes(fullDir)), 'final weights are bit-identical');
  assert.equal(fs.readFileSync(path.join(cutDir, 'predictions.csv'), 'utf8'), fs.readFileSync(path.join(fullDir, 'predictions.csv'), 'utf8'));
  const record = JSON.parse(fs.readFileSync(path.join(cutDir, 'config.json'), 'utf8'));
  assert.equal(record.runtime.resumes.length, 2);
  assert.deepEqual(record.runtime.phases.map((p: { frozen: string }) => p.frozen), ['cache', 'stream']);

  const again = await runChild(['resume', cutDir], env);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /complete; nothing to resume/);
  assert.deepEqual(snapshot(data), before, 'the data folder is never written to');
});
