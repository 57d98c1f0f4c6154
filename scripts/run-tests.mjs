#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner (TypeScript through tsx), one file at a time:
// the machine has 2 cores and several tests use both (TensorFlow, worker pools).
// `npm test -- pattern` runs only the files whose path contains `pattern`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'fixtures' ? [] : walk(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}

const files = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const env = { ...process.env, TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS ?? '0', TF_CPP_MIN_LOG_LEVEL: '2' };
// Spec output for people; a TAP copy to count results for the closing line CI reads.
const tapFile = join(mkdtempSync(join(tmpdir(), 'cxr-tests-')), 'results.tap');
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`, ...files],
  { cwd: root, env, stdio: 'inherit' },
);
const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
const count = (key) => Number((tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
const [pass, fail, skipped] = [count('pass'), count('fail'), count('skipped')];
console.log(`tests: ${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(r.status !== 0 ? r.status ?? 1 : pass === 0 ? 1 : 0);
