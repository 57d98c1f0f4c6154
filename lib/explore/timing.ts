/** Throughput of a piece of work on this machine. */
export interface Throughput {
  runs: number;
  seconds: number;
  /** Runs per second. */
  perSecond: number;
  /** Milliseconds per run. */
  msPerRun: number;
}

/**
 * Runs `work` once to warm up (JIT, caches), then repeatedly until both `minRuns` runs and
 * `minSeconds` have passed, and reports the rate.
 */
export async function measureThroughput(
  work: () => unknown | Promise<unknown>,
  opts: { minRuns?: number; minSeconds?: number } = {},
): Promise<Throughput> {
  const minRuns = opts.minRuns ?? 3;
  const minSeconds = opts.minSeconds ?? 1;
  await work();
  let runs = 0;
  const start = process.hrtime.bigint();
  let seconds = 0;
  while (runs < minRuns || seconds < minSeconds) {
    await work();
    runs += 1;
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return { runs, seconds, perSecond: runs / seconds, msPerRun: (1000 * seconds) / runs };
}
