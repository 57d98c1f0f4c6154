/**
 * `cxr doctor`: which TensorFlow.js backend runs here and why the better ones do not — the first thing to
 * check when training is slow or the native backend is missing after set-up.
 */
import type { Command } from 'commander';
import { initBackend, systemGpus, type BackendInfo } from '../backend';

/** `cxr doctor`: which TensorFlow.js backend runs here, and why the others do not. */
export function register(program: Command): void {
  program
    .command('doctor')
    .description('Show the TensorFlow.js backend in use, its runtime, threads, GPUs, and every candidate backend')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { json?: boolean }) => {
      const info = await initBackend({ quiet: true });
      const report = { ...info, systemGpus: systemGpus(), oneDnnOpts: process.env.TF_ENABLE_ONEDNN_OPTS ?? null };
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatDoctor(info, report.systemGpus));
    });
}

/** The text report: one fact per line, then one line per candidate backend. */
export function formatDoctor(info: BackendInfo, gpus: string[]): string {
  const lines = [
    `backend:     ${info.name} (tf.getBackend() = ${info.tfBackend})`,
    `runtime:     ${info.runtimeVersion ?? 'unknown'}`,
    `tfjs:        ${info.tfjsVersion}`,
    `threads:     ${info.threads ?? 'unknown'}`,
    `gpu:         ${info.gpu ? 'in use' : 'not in use'}; NVIDIA GPUs visible: ${gpus.length ? gpus.join(', ') : 'none'}`,
    ...(info.oneDnn ? [`onednn:      ${info.oneDnn.enabled ? 'on' : 'off'}: ${info.oneDnn.reason}`] : []),
    ...(info.oneDnn?.cacheFile ? [`             probe cache ${info.oneDnn.cacheFile} (delete it to probe again)`] : []),
    ...(info.cpuAllocator ? [`allocator:   ${info.cpuAllocator === 'bfc' ? "TensorFlow's BFC pool" : 'malloc'} for CPU tensors (TF_CPU_ALLOCATOR_USE_BFC=${process.env.TF_CPU_ALLOCATOR_USE_BFC})`] : []),
    'candidates:',
    ...info.candidates.map((c) => `  ${c.usable ? '+' : '-'} ${c.name.padEnd(15)}${c.reason}`),
  ];
  return lines.join('\n');
}
