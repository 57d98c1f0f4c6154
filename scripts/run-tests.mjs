#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner (TypeScript through tsx), each file in its own process,
// several at a time: most files wait more than they compute (a spawned `cxr`, chromium, tsx starting), so two
// cores keep more than two files busy. Longest files start first (their durations from the last full run are kept
// in .cache/test-times.json; before one, scripts/test-times.json, measured here), so no long file starts last.
// A file's output is printed in one piece when it ends.
// `npm test -- pattern` runs only the files whose path contains `pattern`; CXR_TEST_JOBS sets how many at once.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
// A file that trains or drives chromium can take 2–3 GB: no more files at once than 4 GB of memory each allow.
const jobs = Math.max(1, Number(process.env.CXR_TEST_JOBS) || Math.min(availableParallelism() + 1, Math.floor(totalmem() / 4 ** 16)));
const timesFile = join(root, '.cache', 'test-times.json');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'fixtures' ? [] : walk(p);
    return p.endsWith('.test.ts') ? [p] : [];
  });
}

function readTimes() {
  for (const file of [timesFile, join(root, 'scripts', 'test-times.json')]) {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      // not there yet, or unreadable: the next one
    }
  }
  return {};
}

const times = readTimes();
const files = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  // Unknown files first (they may be long), then the longest; ties by name for a stable order.
  .sort((a, b) => (times[b] ?? Infinity) - (times[a] ?? Infinity) || a.localeCompare(b));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const env = { ...process.env, TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS ?? '0', TF_CPP_MIN_LOG_LEVEL: '2' };
const tapDir = mkdtempSync(join(tmpdir(), 'cxr-tests-'));

/** Runs one file; resolves with its exit status, TAP text and seconds. */
function runFile(file, index) {
  const tapFile = join(tapDir, `${index}.tap`);
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout',
        '--test-reporter=tap', `--test-reporter-destination=${tapFile}`, file],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => out.push(d));
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      process.stdout.write(`\n── ${file} (${seconds.toFixed(1)} s)\n${Buffer.concat(out).toString()}`);
      resolve({ file, status: code ?? (signal ? 1 : 0), tap: existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '', seconds });
    });
  });
}

const wallStart = Date.now();
const results = [];
let next = 0;
await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, async () => {
  while (next < files.length) {
    const i = next++;
    results.push(await runFile(files[i], i));
  }
}));

const count = (tap, key) => Number((tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
const sum = (key) => results.reduce((n, r) => n + count(r.tap, key), 0);
const [pass, fail, skipped] = [sum('pass'), sum('fail'), sum('skipped')];
const failedFiles = results.filter((r) => r.status !== 0).map((r) => r.file);

if (filters.length === 0) {
  mkdirSync(join(root, '.cache'), { recursive: true });
  const tmp = `${timesFile}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(Object.fromEntries(results.map((r) => [r.file, Math.round(r.seconds * 10) / 10])), null, 1));
  renameSync(tmp, timesFile);
}
const slowest = [...results].sort((a, b) => b.seconds - a.seconds).slice(0, 8);
console.log(`\nslowest files: ${slowest.map((r) => `${r.file} ${r.seconds.toFixed(0)} s`).join(', ')}`);
console.log(`${files.length} files, ${jobs} at a time, ${((Date.now() - wallStart) / 1000).toFixed(0)} s`);
if (failedFiles.length > 0) console.log(`files with failures: ${failedFiles.join(', ')}`);
console.log(`tests: ${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(failedFiles.length > 0 || fail > 0 ? 1 : pass === 0 ? 1 : 0);
