/**
 * Whether native TensorFlow runs with its oneDNN kernels (TF_ENABLE_ONEDNN_OPTS). They make CPU training about
 * 1.5× faster where they work, but TensorFlow 2.21's build crashes with SIGFPE in the 1×1 convolution on some
 * CPUs, and a crash kills the whole process. So the choice is made per machine, by a probe: before TensorFlow
 * loads here, a child process runs the kernels in question with oneDNN on (lib/graph/onednn-probe.ts). A clean
 * exit turns oneDNN on; a signal or an error leaves it off, with the reason. The answer is cached per CPU, TensorFlow
 * library and thread count, so the probe (a few seconds) runs once per machine. TF_ENABLE_ONEDNN_OPTS set by the
 * user is kept; `CXR_ONEDNN=on|off|auto` overrides the probe.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../errors';
import { writeJsonAtomic } from '../io/atomic';
import { cacheDir, PROJECT_ROOT } from '../paths';

/** What a decision rests on: the machine, the TensorFlow library and the threads it computes with. */
export interface ProbeKey {
  /** CPU model name, family/model/stepping and a hash of its feature flags (VMs often name only the vendor). */
  cpu: string;
  /** The TensorFlow library the binding loads: file name, size and modification time. */
  tensorflow: string;
  threads: number;
}

/** The probe child's verdict. */
export interface ProbeResult {
  ok: boolean;
  /** What ran, or what failed and in which case: "SIGFPE in eager ResNet 1x1 expand 256->1024 @14 batch 1". */
  reason: string;
  seconds: number;
  /** TensorFlow version the child reported (only when it finished). */
  tensorflowVersion?: string;
  /** When the probe ran (ISO time). */
  at: string;
}

/**
 * `env`: TF_ENABLE_ONEDNN_OPTS was set by the user; `override`: CXR_ONEDNN=on|off; `cache`: an earlier probe on
 * this machine; `probe`: probed now.
 */
export type DecisionSource = 'env' | 'override' | 'cache' | 'probe';

export interface OneDnnDecision {
  enabled: boolean;
  source: DecisionSource;
  /** One line: why. */
  reason: string;
  /** The cache file of the probe (cache and probe sources). */
  cacheFile?: string;
}

export interface DecideOptions {
  /** Environment to read (default process.env; only read here). */
  env?: NodeJS.ProcessEnv;
  /** The package whose binding the probe loads (default @tensorflow/tfjs-node). */
  nativePackage?: string;
  /** Runs the probe (default: the real child process); tests inject results. */
  probe?: (nativePackage: string) => ProbeResult;
  /** The machine's key (default {@link probeKey}). */
  key?: ProbeKey;
}

/** How long the probe may run before it counts as failed (it takes a few seconds on an idle 2-core machine). */
const PROBE_TIMEOUT_MS = 120_000;

/** TensorFlow's own parsing of the variable: 1/true on, 0/false off. */
function parseTfFlag(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return undefined;
}

/** The CPU as /proc/cpuinfo describes its first core (or Node's view where there is no /proc). */
export function cpuIdentity(cpuinfo?: string): string {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      text = '';
    }
  }
  const first = text.split(/\n\s*\n/)[0] ?? '';
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(first)?.[1].trim();
  const model = field('model name') ?? os.cpus()[0]?.model ?? 'unknown CPU';
  const flags = field('flags') ?? '';
  const hash = createHash('sha256').update(flags).digest('hex').slice(0, 12);
  return `${model} (${os.arch()}, family ${field('cpu family') ?? '?'} model ${field('model') ?? '?'} stepping ${field('stepping') ?? '?'}, flags ${hash})`;
}

/** The TensorFlow library `nativePackage` loads, as name, size and time (a rebuilt or upgraded library differs). */
export function tensorflowIdentity(nativePackage: string): string {
  try {
    const dir = path.dirname(require.resolve(`${nativePackage}/package.json`));
    const lib = fs.realpathSync(path.join(dir, 'deps', 'lib', 'libtensorflow.so'));
    const st = fs.statSync(lib);
    return `${path.basename(lib)} ${st.size} bytes ${st.mtime.toISOString()}`;
  } catch {
    return `${nativePackage} (library not found)`;
  }
}

/** The key of this machine's probe. */
export function probeKey(nativePackage = '@tensorflow/tfjs-node', env: NodeJS.ProcessEnv = process.env): ProbeKey {
  return { cpu: cpuIdentity(), tensorflow: tensorflowIdentity(nativePackage), threads: Number(env.TF_NUM_INTRAOP_THREADS) || os.availableParallelism() };
}

/** The cache file holding the probe result for `key`. */
export function probeCacheFile(key: ProbeKey): string {
  const id = createHash('sha256').update(JSON.stringify([key.cpu, key.tensorflow, key.threads])).digest('hex').slice(0, 16);
  return cacheDir('onednn', `${id}.json`);
}

/** A cached result for `key`, or undefined (none, unreadable, or written for another key). */
export function readProbeCache(key: ProbeKey): ProbeResult | undefined {
  try {
    const saved = JSON.parse(fs.readFileSync(probeCacheFile(key), 'utf8')) as { key: ProbeKey; result: ProbeResult };
    const same = saved.key.cpu === key.cpu && saved.key.tensorflow === key.tensorflow && saved.key.threads === key.threads;
    return same && typeof saved.result?.ok === 'boolean' ? saved.result : undefined;
  } catch {
    return undefined;
  }
}

/** The verdict from the child's exit and output: clean exit with its `done` line, else what killed it where. */
export function interpretProbe(r: { status: number | null; signal: string | null; stdout: string; stderr: string; error?: Error }, seconds: number): ProbeResult {
  const at = new Date().toISOString();
  const lines = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  const done = lines.map((l) => /^done (\S+) (\d+)$/.exec(l)).find(Boolean);
  if (r.status === 0 && done) {
    return { ok: true, reason: `${done[2]} convolution cases (1×1 and 3×3, forward and backward, eager and graph, batch 1 and 8) ran cleanly`, seconds, tensorflowVersion: done[1], at };
  }
  const last = lines.filter((l) => l.startsWith('case ')).at(-1)?.slice(5) ?? 'start-up';
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  const what = timedOut ? `timed out after ${Math.round(seconds)} s`
    : r.signal ? r.signal
    : r.error ? r.error.message
    : `exit ${r.status}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').at(-1)}` : ''}`;
  return { ok: false, reason: `${what} in ${last}`, seconds, at };
}

/** Runs lib/graph/onednn-probe.ts in a child process with oneDNN on, loading `nativePackage`'s binding. */
export function runProbe(nativePackage: string): ProbeResult {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'lib', 'graph', 'onednn-probe.ts'), nativePackage], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: PROBE_TIMEOUT_MS,
    env: { ...process.env, TF_ENABLE_ONEDNN_OPTS: '1', TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  return interpretProbe(r, (performance.now() - t0) / 1000);
}

/**
 * Decides whether TensorFlow should run with oneDNN, probing (once per machine) if nothing says otherwise.
 * Does not load TensorFlow and does not change the environment (see {@link applyOneDnnDecision}).
 * @param opts environment, package, and an injected probe for tests
 * @throws UsageError for a CXR_ONEDNN value other than on, off or auto
 * @example
 * const d = decideOneDnn();
 * console.log(d.enabled ? 'oneDNN on' : 'oneDNN off', d.reason);
 */
export function decideOneDnn(opts: DecideOptions = {}): OneDnnDecision {
  const env = opts.env ?? process.env;
  const fromTf = env.TF_ENABLE_ONEDNN_OPTS;
  if (fromTf !== undefined && fromTf !== '') {
    const on = parseTfFlag(fromTf);
    if (on !== undefined) return { enabled: on, source: 'env', reason: `TF_ENABLE_ONEDNN_OPTS=${fromTf} set in the environment` };
  }
  const setting = (env.CXR_ONEDNN ?? 'auto').trim().toLowerCase() || 'auto';
  if (setting === 'on' || setting === 'off') return { enabled: setting === 'on', source: 'override', reason: `CXR_ONEDNN=${setting}` };
  if (setting !== 'auto') throw new UsageError(`CXR_ONEDNN: unknown value '${env.CXR_ONEDNN}' (choose from on, off, auto)`);

  const pkg = opts.nativePackage ?? '@tensorflow/tfjs-node';
  const key = opts.key ?? probeKey(pkg, env);
  const cacheFile = probeCacheFile(key);
  const cached = readProbeCache(key);
  const say = (r: ProbeResult, when: string) =>
    `probe ${r.ok ? 'passed' : 'failed'}: ${r.reason} (${[r.tensorflowVersion && `TensorFlow ${r.tensorflowVersion}`, when].filter(Boolean).join(', ')})`;
  if (cached) return { enabled: cached.ok, source: 'cache', reason: say(cached, `cached, probed ${cached.at}`), cacheFile };
  const result = (opts.probe ?? runProbe)(pkg);
  try {
    writeJsonAtomic(cacheFile, { key, result });
  } catch {
    // An unwritable cache only means probing again next time.
  }
  return { enabled: result.ok, source: 'probe', reason: say(result, `probed now in ${result.seconds.toFixed(1)} s`), cacheFile };
}

let applied: OneDnnDecision | undefined;

/**
 * Decides (see {@link decideOneDnn}) and sets TF_ENABLE_ONEDNN_OPTS accordingly, for TensorFlow in this process
 * and every child it starts (the benchmarks' Python references included). Call before the native library
 * loads; later calls return the first decision.
 * @param nativePackage the package whose binding will load
 * @throws UsageError for a bad CXR_ONEDNN value
 */
export function applyOneDnnDecision(nativePackage = '@tensorflow/tfjs-node'): OneDnnDecision {
  applied ??= decideOneDnn({ nativePackage });
  process.env.TF_ENABLE_ONEDNN_OPTS = applied.enabled ? '1' : '0';
  return applied;
}

/** The decision this process made, if it loaded native TensorFlow. */
export function oneDnnDecision(): OneDnnDecision | undefined {
  return applied;
}
