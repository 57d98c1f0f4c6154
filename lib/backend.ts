import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_CHOICES, parseBackendChoice, type BackendChoice } from './backend/choice';
import { CxrError, UsageError, describeError } from './errors';
import { registerNativeGradients } from './backend/native-gradients';
import { applyOneDnnDecision, oneDnnDecision, type OneDnnDecision } from './backend/onednn';
import { registerWasmGradients } from './backend/wasm-gradients';
import { findNativeBackend, type NativeBinding } from './tfjs-internal';

/**
 * Picks the TensorFlow.js backend once for the whole process: native TensorFlow with a GPU, native TensorFlow
 * on the CPU, WebAssembly, or pure JavaScript — the first that works, or the one the user forces.
 */

export { BACKEND_CHOICES, parseBackendChoice, type BackendChoice } from './backend/choice';

/** One candidate backend and why it is or is not usable. */
export interface CandidateInfo {
  name: BackendChoice;
  usable: boolean;
  reason: string;
}

/** The backend in use, for logs, `cxr doctor` and run records. */
export interface BackendInfo {
  name: BackendChoice;
  /** tf.getBackend(): 'tensorflow', 'wasm' or 'cpu'. */
  tfBackend: string;
  tfjsVersion: string;
  /** TensorFlow C library version (native), or the wasm build's features. */
  runtimeVersion?: string;
  /** Threads the backend computes with. */
  threads?: number;
  /** True when TensorFlow runs ops on a GPU. */
  gpu: boolean;
  /** Native TensorFlow only: whether its oneDNN kernels are on, and why. */
  oneDnn?: OneDnnDecision;
  /** Native TensorFlow only: its CPU memory allocator ('bfc', or 'malloc' when TF_CPU_ALLOCATOR_USE_BFC is false). */
  cpuAllocator?: 'bfc' | 'malloc';
  candidates: CandidateInfo[];
}

export interface InitBackendOptions {
  /** Force this backend (else `CXR_BACKEND`, else the best that works). */
  backend?: BackendChoice;
  /** Do not print the `backend: ...` line to stderr. */
  quiet?: boolean;
}

const NATIVE_PACKAGES: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};
const SETUP_HINT = 'run `npm run setup:native`';

let pending: Promise<BackendInfo> | undefined;

/**
 * Selects and initialises the backend. Idempotent: later calls return the first call's result whatever their
 * options. Before native TensorFlow loads, sets TF_ENABLE_ONEDNN_OPTS from the oneDNN decision (backend/onednn.ts:
 * the user's setting, else CXR_ONEDNN, else a probe cached per machine), since TensorFlow 2.21's oneDNN kernels
 * crash with SIGFPE on 1×1 convolutions on some CPUs.
 */
export function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  pending ??= select(opts).catch((err) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

async function select(opts: InitBackendOptions): Promise<BackendInfo> {
  const forced = opts.backend ?? (process.env.CXR_BACKEND ? parseBackendChoice(process.env.CXR_BACKEND, 'CXR_BACKEND') : undefined);
  const candidates: CandidateInfo[] = [];
  let chosen: BackendChoice | undefined;
  for (const name of BACKEND_CHOICES) {
    if (chosen) {
      candidates.push({ name, ...availability(name) });
      continue;
    }
    if (forced && name !== forced) {
      const avail = availability(name);
      candidates.push({ name, usable: avail.usable, reason: `not used: backend forced to ${forced}; ${avail.reason}` });
      continue;
    }
    const reason = await activate(name);
    candidates.push({ name, usable: reason === undefined, reason: reason ?? 'in use' });
    if (reason === undefined) chosen = name;
    else if (forced) throw new CxrError(`backend ${forced} was requested but is not usable: ${reason}`);
  }
  if (!chosen) throw new CxrError('no TensorFlow.js backend works (not even cpu)');
  const info = await describe(chosen, candidates);
  if (!opts.quiet) {
    const skipped = candidates.filter((c) => c.name !== chosen && !c.usable && BACKEND_CHOICES.indexOf(c.name) < BACKEND_CHOICES.indexOf(chosen!));
    const why = forced ? 'forced' : skipped.map((c) => `${c.name}: ${c.reason}`).join('; ');
    console.error(`backend: ${chosen}${why ? ` (${why})` : ''}`);
  }
  return info;
}

/** Tries to make `name` the active backend; returns why it cannot be, or undefined on success. */
async function activate(name: BackendChoice): Promise<string | undefined> {
  try {
    if (name === 'tensorflow-gpu' || name === 'tensorflow') {
      const problem = nativeProblem(name);
      if (problem) return problem;
      applyOneDnnDecision(NATIVE_PACKAGES[name]);
      process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
      // TensorFlow's pooling allocator instead of malloc for CPU tensors. Through glibc's malloc, a graph session
      // in Node maps and faults in its large activations again on many runs: the lung U-Net then ran at 60 ms
      // or at 120-180 ms a batch depending on the process, ResNet-50 inference at 16-31 img/s instead of 34-39,
      // and the peak memory of a ResNet-50 training step was 4.9 GB instead of 4.1 (bench/segment.ts).
      process.env.TF_CPU_ALLOCATOR_USE_BFC ??= 'true';
      // tfjs-node-gpu registers the same 'tensorflow' backend; when it loaded but saw no GPU, reuse it.
      if (!tf.findBackendFactory('tensorflow')) require(NATIVE_PACKAGES[name]);
      registerNativeGradients();
    } else if (name === 'wasm') {
      require('@tensorflow/tfjs-backend-wasm');
      registerWasmGradients();
    }
    if (!(await tf.setBackend(name === 'tensorflow-gpu' ? 'tensorflow' : name))) return 'failed to initialise';
    await tf.ready();
    if (name === 'tensorflow-gpu' && !nativeBinding()?.isUsingGpuDevice()) return 'TensorFlow sees no GPU';
    return undefined;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    return describeError(err);
  }
}

/** Checks done before loading a native package, so that failures are named instead of crashing later. */
function nativeProblem(name: 'tensorflow-gpu' | 'tensorflow'): string | undefined {
  const pkg = NATIVE_PACKAGES[name];
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return name === 'tensorflow-gpu' ? `${pkg} not installed` : `${pkg} not installed (${SETUP_HINT})`;
  }
  if (name === 'tensorflow-gpu' && systemGpus().length === 0) return 'no NVIDIA GPU visible';
  const napiDirs = fs.existsSync(path.join(dir, 'lib')) ? fs.readdirSync(path.join(dir, 'lib')) : [];
  if (!napiDirs.some((d) => fs.existsSync(path.join(dir, 'lib', d, 'tfjs_binding.node')))) {
    return name === 'tensorflow-gpu'
      ? `${pkg} installed without its native binding (its install script could not download libtensorflow-gpu)`
      : `${pkg} installed without its native binding (${SETUP_HINT})`;
  }
  // A second tfjs-core would register the native backend where @tensorflow/tfjs cannot see it.
  const ours = require.resolve('@tensorflow/tfjs-core');
  const theirs = require.resolve('@tensorflow/tfjs-core', { paths: [dir] });
  if (ours !== theirs) return `${pkg} has its own @tensorflow/tfjs-core (${theirs}); reinstall with matching versions`;
  return undefined;
}

function nativeBinding(): NativeBinding | undefined {
  return findNativeBackend()?.binding;
}

/** NVIDIA GPUs the driver exposes (empty without a driver). */
export function systemGpus(): string[] {
  const dir = '/proc/driver/nvidia/gpus';
  try {
    return fs.readdirSync(dir).map((bus) => {
      const model = /Model:\s*(.+)/.exec(fs.readFileSync(path.join(dir, bus, 'information'), 'utf8'));
      return model ? model[1].trim() : bus;
    });
  } catch {
    return [];
  }
}

/** For candidates below the chosen one: whether they could be used, without activating them. */
function availability(name: BackendChoice): { usable: boolean; reason: string } {
  if (name === 'cpu') return { usable: true, reason: 'available (slowest)' };
  if (name === 'wasm') {
    try {
      require.resolve('@tensorflow/tfjs-backend-wasm');
      return { usable: true, reason: 'available (lower priority)' };
    } catch {
      return { usable: false, reason: '@tensorflow/tfjs-backend-wasm not installed' };
    }
  }
  const problem = nativeProblem(name);
  return problem ? { usable: false, reason: problem } : { usable: true, reason: 'available (lower priority)' };
}

async function describe(name: BackendChoice, candidates: CandidateInfo[]): Promise<BackendInfo> {
  const info: BackendInfo = { name, tfBackend: tf.getBackend(), tfjsVersion: tf.version.tfjs, gpu: false, candidates };
  if (name === 'tensorflow' || name === 'tensorflow-gpu') {
    const binding = nativeBinding();
    info.runtimeVersion = binding ? `TensorFlow ${binding.TF_Version}` : undefined;
    info.gpu = binding?.isUsingGpuDevice() ?? false;
    info.threads = Number(process.env.TF_NUM_INTRAOP_THREADS) || os.availableParallelism();
    info.oneDnn = oneDnnDecision();
    info.cpuAllocator = /^(false|0)$/i.test(process.env.TF_CPU_ALLOCATOR_USE_BFC ?? '') ? 'malloc' : 'bfc';
  } else if (name === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    info.runtimeVersion = `tfjs-backend-wasm ${wasm.version_wasm}${simd ? ' (SIMD)' : ''}`;
    info.threads = wasm.getThreadsCount();
  } else {
    info.runtimeVersion = `tfjs-backend-cpu (JavaScript, Node ${process.versions.node})`;
    info.threads = 1;
  }
  return info;
}
