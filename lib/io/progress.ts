/**
 * Progress bars for long work, on stderr so stdout stays clean for results and `--json`.
 * On a terminal the bar redraws in place; elsewhere (CI, logs, notebooks) it prints a line at most
 * every `logEveryMs` so logs stay readable.
 */
export interface ProgressOptions {
  /** Shown before the bar, e.g. "epoch 3/50". */
  label: string;
  total: number;
  /** Unit for the rate, e.g. "img" or "batch". */
  unit?: string;
  stream?: NodeJS.WriteStream;
  logEveryMs?: number;
  /** Suppress all output (tests, --quiet). */
  silent?: boolean;
}

export interface Progress {
  /** Advance by `n` (default 1); `status` is a short text shown after the bar (e.g. "loss 0.31 acc 0.88"). */
  tick(n?: number, status?: string): void;
  /** Final line with elapsed time; `status` replaces the last status. */
  done(status?: string): void;
  readonly count: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function progress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  const logEveryMs = opts.logEveryMs ?? 10_000;
  const unit = opts.unit ?? 'it';
  const start = Date.now();
  let count = 0;
  let status = '';
  let lastDraw = 0;

  const line = (final: boolean): string => {
    const elapsed = (Date.now() - start) / 1000;
    const rate = elapsed > 0 ? count / elapsed : 0;
    const frac = opts.total > 0 ? Math.min(1, count / opts.total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const eta = rate > 0 ? (opts.total - count) / rate : Infinity;
    const time = final ? `${formatDuration(elapsed)}` : `${formatDuration(elapsed)}<${formatDuration(eta)}`;
    const rateText = rate >= 1 || rate === 0 ? `${rate.toFixed(1)} ${unit}/s` : `${(1 / rate).toFixed(1)} s/${unit}`;
    return `${opts.label} ${bar} ${count}/${opts.total} [${time}, ${rateText}]${status ? ' ' + status : ''}`;
  };

  const draw = (final: boolean) => {
    if (opts.silent) return;
    const now = Date.now();
    if (tty) {
      if (!final && now - lastDraw < 100) return;
      stream.write('\r\x1b[2K' + line(final) + (final ? '\n' : ''));
    } else {
      if (!final && now - lastDraw < logEveryMs) return;
      stream.write(line(final) + '\n');
    }
    lastDraw = now;
  };

  lastDraw = tty ? 0 : Date.now();
  return {
    tick(n = 1, s?: string) {
      count += n;
      if (s !== undefined) status = s;
      draw(false);
    },
    done(s?: string) {
      if (s !== undefined) status = s;
      draw(true);
    },
    get count() {
      return count;
    },
  };
}
