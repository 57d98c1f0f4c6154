#!/usr/bin/env node
// Makes the native TensorFlow backend (@tensorflow/tfjs-node) work without its install script, which downloads
// libtensorflow 2.9.1 from Google storage (unreachable in air-gapped networks) and which `npm ci` / a failed
// optional install leave out. Instead it builds the binding from source against the TensorFlow C library
// shipped inside the tensorflow-cpu wheel. Idempotent: when the backend already loads and runs a convolution,
// it does nothing.
//
//   node scripts/setup/native.mjs [--wheel FILE] [--force]     (npm run setup:native)
//
// Wheel: --wheel FILE, else $CXR_TF_WHEEL, else a wheel already in the cache, else `pip download` (from the
// local wheel folders pip is configured with, when there are any; else PyPI).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TFJS_NODE_VERSION = '4.22.0';
const TF_WHEEL_REQ = 'tensorflow-cpu==2.21.0';
const CACHE = path.join(process.env.CXR_CACHE ? path.resolve(process.env.CXR_CACHE) : path.join(ROOT, '.cache'), 'native');
const PKG = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
// The two libraries the binding links; the C API lives in libtensorflow_cc (its SONAME), the kernels' runtime
// in libtensorflow_framework.
const LIBS = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];

class SetupError extends Error {}

function log(msg) {
  console.error(`setup:native: ${msg}`);
}

function parseArgs(argv) {
  const opts = { wheel: process.env.CXR_TF_WHEEL || undefined, force: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--wheel') opts.wheel = argv[++i];
    else if (a.startsWith('--wheel=')) opts.wheel = a.slice('--wheel='.length);
    else if (a === '--force') opts.force = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: npm run setup:native [-- --wheel FILE] [-- --force]');
      process.exit(0);
    } else throw new SetupError(`unknown argument ${a} (usage: npm run setup:native [-- --wheel FILE] [-- --force])`);
  }
  if (opts.wheel !== undefined) {
    opts.wheel = path.resolve(opts.wheel);
    if (!fs.existsSync(opts.wheel)) throw new SetupError(`${opts.wheel}: wheel file not found`);
  }
  return opts;
}

function run(cmd, args, { cwd = ROOT, env = process.env, capture = false } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: capture ? 'pipe' : ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new SetupError(`cannot run ${cmd}: ${r.error.message}`);
  return r;
}

function which(tool) {
  return run('sh', ['-c', `command -v ${tool}`], { capture: true }).status === 0;
}

/** Tools the build needs, checked up front so a missing one is named instead of failing deep inside node-gyp. */
function checkTools() {
  const missing = [
    ['g++', 'a C++ compiler (apt-get install g++)'],
    ['make', 'make (apt-get install make)'],
    ['python3', 'Python 3 (node-gyp and wheel extraction)'],
    ['npm', 'npm'],
  ].filter(([t]) => !which(t));
  if (missing.length) throw new SetupError(`missing build tools: ${missing.map(([, d]) => d).join(', ')}`);
  // node-gyp needs Node's headers: from npm's `nodedir`, its header cache, or a download (impossible offline).
  const nodedir = run('npm', ['config', 'get', 'nodedir'], { capture: true }).stdout.trim();
  const inNodedir = nodedir && nodedir !== 'undefined' && fs.existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'));
  const cached = ['.cache/node-gyp', '.node-gyp'].some((d) =>
    fs.existsSync(path.join(process.env.HOME ?? '/', d, process.versions.node, 'include', 'node', 'node_api.h')));
  if (!inNodedir && !cached) {
    const sys = fs.existsSync('/usr/include/node/node_api.h') ? ' (they are in /usr/include/node: run `npm config set nodedir /usr`)' : '';
    log(`warning: no local Node.js headers for node-gyp; it will try to download them${sys}`);
  }
}

/**
 * Loads tfjs-node in a fresh process (as the app does, with oneDNN off) and runs a 1x1 convolution, the op that
 * crashes with oneDNN on. Returns the TensorFlow version, or the reason it failed.
 */
function verify() {
  const script = `
    const tf = require('@tensorflow/tfjs-node');
    if (tf.getBackend() !== 'tensorflow') throw new Error('backend is ' + tf.getBackend());
    const x = tf.tensor4d(Array.from({ length: 2 * 4 * 4 * 8 }, (_, i) => (i % 7) - 3), [2, 4, 4, 8]);
    const w = tf.tensor4d(Array.from({ length: 8 * 16 }, (_, i) => ((i % 5) - 2) / 4), [1, 1, 8, 16]);
    const y = tf.conv2d(x, w, 1, 'same').dataSync();
    const xv = x.dataSync(), wv = w.dataSync();
    for (let p = 0; p < 32; p++) for (let o = 0; o < 16; o++) {
      let s = 0;
      for (let c = 0; c < 8; c++) s += xv[p * 8 + c] * wv[c * 16 + o];
      if (Math.abs(s - y[p * 16 + o]) > 1e-4) throw new Error('conv2d result wrong at ' + p + ',' + o);
    }
    console.log(tf.backend().binding.TF_Version);`;
  const env = { ...process.env, TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS ?? '0', TF_CPP_MIN_LOG_LEVEL: '2' };
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, env, encoding: 'utf8' });
  if (r.status === 0) return { ok: true, version: r.stdout.trim() };
  const err = (r.stderr || '').split('\n').find((l) => /Error|error:/.test(l)) ?? `exit ${r.status ?? r.signal}`;
  return { ok: false, reason: err.trim() };
}

function pkgVersion(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/**
 * Puts @tensorflow/tfjs-node and its JS dependencies into node_modules as the lockfile pins them, without running
 * install scripts (its own would try the download). npm keeps them on later `npm install`s; `npm ci` does not.
 */
function ensurePackage() {
  const deps = ['@mapbox/node-pre-gyp', 'google-protobuf', 'adm-zip', 'progress', 'rimraf', 'tar'];
  const present = pkgVersion(PKG) === TFJS_NODE_VERSION &&
    deps.every((d) => fs.existsSync(path.join(ROOT, 'node_modules', d, 'package.json')) || fs.existsSync(path.join(PKG, 'node_modules', d, 'package.json')));
  if (present) return;
  log(`installing @tensorflow/tfjs-node@${TFJS_NODE_VERSION} and its dependencies without install scripts`);
  const r = run('npm', ['install', '--ignore-scripts', '--no-save', '--no-audit', '--no-fund', '--include=optional']);
  if (r.status !== 0) throw new SetupError('npm install --ignore-scripts failed (see above)');
  if (pkgVersion(PKG) !== TFJS_NODE_VERSION) {
    throw new SetupError(`npm did not install @tensorflow/tfjs-node@${TFJS_NODE_VERSION}; is it in package.json optionalDependencies?`);
  }
  if (fs.existsSync(path.join(PKG, 'node_modules', '@tensorflow'))) throw new SetupError('tfjs-node got its own copy of @tensorflow/tfjs; it must share the project\'s (same version)');
}

function pipSourceArgs(python) {
  const get = (key) => run(python, ['-m', 'pip', 'config', 'get', key], { capture: true }).stdout.trim();
  const links = [];
  for (const url of `${get('global.extra-index-url')} ${get('global.find-links')}`.split(/\s+/).filter(Boolean)) {
    const dir = url.replace(/^file:\/\//, '');
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) continue;
    // A local "simple" index keeps its wheels in ../files.
    const files = path.join(dir, '..', 'files');
    links.push('--find-links', fs.existsSync(files) ? path.resolve(files) : dir);
  }
  return links.length ? ['--no-index', ...links] : [];
}

/** Finds or downloads the tensorflow wheel; returns its path. */
function obtainWheel(given) {
  if (given) return given;
  const dir = path.join(CACHE, 'wheels');
  const cached = () => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^tensorflow(_cpu)?-.*\.whl$/.test(f)) : []);
  if (cached().length === 0) {
    const venv = path.join(ROOT, '.venv', 'bin', 'python');
    const python = fs.existsSync(venv) ? venv : 'python3';
    const src = pipSourceArgs(python);
    log(`downloading the ${TF_WHEEL_REQ} wheel with pip${src.length ? ` from ${src.filter((a) => !a.startsWith('--')).join(', ')}` : ' from PyPI'}`);
    fs.mkdirSync(dir, { recursive: true });
    const r = run(python, ['-m', 'pip', 'download', '--disable-pip-version-check', '--no-deps', '--only-binary=:all:', '-d', dir, ...src, TF_WHEEL_REQ]);
    if (r.status !== 0 || cached().length === 0) {
      throw new SetupError(`pip download ${TF_WHEEL_REQ} failed; download it elsewhere and pass it: npm run setup:native -- --wheel FILE`);
    }
  }
  return path.join(dir, cached().sort().at(-1));
}

// Extracts from the wheel the two libraries and the headers the binding includes (followed transitively), so
// the 270 MB wheel is read once and only ~850 MB of it lands on disk.
const EXTRACT_PY = `
import json, re, sys, zipfile
wheel, dest, seeds = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
z = zipfile.ZipFile(wheel)
names = set(z.namelist())
libs = ${JSON.stringify(LIBS.map((l) => `tensorflow/${l}`))}
missing = [l for l in libs if l not in names]
if missing: sys.exit('wheel has no ' + ', '.join(missing))
todo, headers = list(seeds), set()
while todo:
    h = todo.pop()
    n = 'tensorflow/include/' + h
    if h in headers or n not in names: continue
    headers.add(h)
    todo += re.findall(r'#\\s*include\\s*"([^"]+)"', z.read(n).decode('utf-8', 'replace'))
for h in sorted(headers):
    z.extract('tensorflow/include/' + h, dest)
for l in libs:
    z.extract(l, dest)
version = next((n.split('/')[0][:-len('.dist-info')].split('-')[1] for n in names if n.endswith('.dist-info/METADATA')), '?')
print(json.dumps({'headers': sorted(headers), 'version': version}))
`;

/** Headers the binding's sources include from TensorFlow: the seeds of the header closure. */
function bindingIncludes() {
  const dir = path.join(PKG, 'binding');
  const seeds = new Set();
  for (const f of fs.readdirSync(dir)) {
    for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/#\s*include\s*"((?:tensorflow|tsl|xla)\/[^"]+)"/g)) seeds.add(m[1]);
  }
  return [...seeds];
}

/** The extracted libraries and headers in the cache; re-extracted when the wheel changes. */
function ensureExtracted(wheelArg) {
  const dir = path.join(CACHE, 'libtensorflow');
  const stampFile = path.join(dir, 'stamp.json');
  const stamp = fs.existsSync(stampFile) ? JSON.parse(fs.readFileSync(stampFile, 'utf8')) : undefined;
  const complete = stamp && LIBS.every((l) => fs.existsSync(path.join(dir, 'tensorflow', l)));
  if (complete && (!wheelArg || stamp.wheel === path.basename(wheelArg))) return { dir, ...stamp };
  const wheel = obtainWheel(wheelArg);
  log(`extracting the TensorFlow C library and headers from ${wheel}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const r = run('python3', ['-c', EXTRACT_PY, wheel, dir, JSON.stringify(bindingIncludes())], { capture: true });
  if (r.status !== 0) throw new SetupError(`${wheel}: cannot extract the TensorFlow C library: ${(r.stderr || '').trim().split('\n').at(-1)}`);
  const info = { wheel: path.basename(wheel), ...JSON.parse(r.stdout) };
  fs.writeFileSync(stampFile, JSON.stringify(info, null, 2));
  return { dir, ...info };
}

function linkOrCopy(src, dst) {
  fs.rmSync(dst, { force: true });
  try {
    fs.linkSync(src, dst);
  } catch {
    fs.copyFileSync(src, dst);
  }
}

/** Lays out deps/ as the binding's build expects (-ltensorflow -ltensorflow_framework, rpath deps/lib). */
function stageDeps(tf) {
  const deps = path.join(PKG, 'deps');
  fs.rmSync(deps, { recursive: true, force: true });
  const lib = path.join(deps, 'lib');
  fs.mkdirSync(lib, { recursive: true });
  for (const l of LIBS) linkOrCopy(path.join(tf.dir, 'tensorflow', l), path.join(lib, l));
  for (const [name, target] of [
    ['libtensorflow.so', 'libtensorflow_cc.so.2'],
    ['libtensorflow.so.2', 'libtensorflow_cc.so.2'],
    ['libtensorflow_framework.so', 'libtensorflow_framework.so.2'],
  ]) fs.symlinkSync(target, path.join(lib, name));
  for (const h of tf.headers) {
    const dst = path.join(deps, 'include', h);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.copyFileSync(path.join(tf.dir, 'tensorflow', 'include', h), dst);
  }
}

function build() {
  log('building the tfjs-node binding from source (node-gyp, ~30 s)');
  fs.rmSync(path.join(PKG, 'build'), { recursive: true, force: true });
  fs.rmSync(path.join(PKG, 'lib'), { recursive: true, force: true });
  const r = run('npm', ['run', '--silent', 'build-addon-from-source'], { cwd: PKG, capture: true });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout}\n${r.stderr}\n`);
    throw new SetupError('building the tfjs-node binding failed (compiler output above)');
  }
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const start = Date.now();
  if (!opts.force && !opts.wheel) {
    const v = verify();
    if (v.ok) {
      log(`native backend already works (TensorFlow ${v.version})`);
      return;
    }
    if (fs.existsSync(PKG)) log(`native backend not usable yet: ${v.reason}`);
  }
  checkTools();
  ensurePackage();
  const tf = ensureExtracted(opts.wheel);
  stageDeps(tf);
  build();
  const v = verify();
  if (!v.ok) throw new SetupError(`the binding was built but does not work: ${v.reason}`);
  log(`ok: tfjs-node ${TFJS_NODE_VERSION} on TensorFlow ${v.version} (from ${tf.wheel}), ${((Date.now() - start) / 1000).toFixed(0)} s`);
}

try {
  main();
} catch (err) {
  if (!(err instanceof SetupError)) throw err;
  console.error(`setup:native: error: ${err.message}`);
  process.exit(1);
}
