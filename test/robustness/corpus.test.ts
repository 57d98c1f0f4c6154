import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeImage } from '../../lib/data/decode';
import { scanDataset } from '../../lib/data/scan';
import { enhance } from '../../lib/enhance/pipeline';
import { InputFileError } from '../../lib/errors';
import { PROJECT_ROOT } from '../../lib/paths';
import { snapshot } from '../data/synth';
import { buildCorpus, entryPath, type CorpusEntry } from './corpus';

const cxr = path.join(PROJECT_ROOT, 'bin', 'cxr.js');
/** Files run through the real CLI (each a fresh process, ~2 s); the rest go through the same library calls in-process. */
const CLI_SAMPLE = 60;
const CLI_TIMEOUT_MS = 60_000;

type Outcome = 'accepted' | 'rejected';

interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  timedOut: boolean;
}

function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cxr, ...args], { timeout: CLI_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 1 << 24 }, (err, _stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals; killed?: boolean }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
        signal: e?.signal ?? null,
        stderr: String(stderr),
        timedOut: Boolean(e?.killed),
      });
    });
  });
}

async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** One file of every kind (numbers in kinds ignored), then every n-th remaining file, up to `count`. */
function representative(files: CorpusEntry[], count: number): Set<CorpusEntry> {
  const picked = new Set<CorpusEntry>();
  const kinds = new Set<string>();
  for (const e of files) {
    const kind = e.kind.replace(/[\d.]+/g, '#');
    if (!kinds.has(kind) && picked.size < count) (kinds.add(kind), picked.add(e));
  }
  const rest = files.filter((e) => !picked.has(e));
  const step = Math.max(1, Math.floor(rest.length / Math.max(1, count - picked.size)));
  for (let i = 0; i < rest.length && picked.size < count; i += step) picked.add(rest[i]);
  return picked;
}

test('hostile inputs: scans list bad files, single-image commands fail cleanly, nothing is written', { timeout: 600_000 }, async () => {
  const corpus = await buildCorpus();
  const files = corpus.entries.filter((e) => e.image !== undefined);
  assert.ok(files.length >= 200, `corpus has ${files.length} files`);
  const before = snapshot(corpus.root);
  const outcomes = new Map<CorpusEntry, Set<Outcome>>(corpus.entries.map((e) => [e, new Set()]));

  // (1) Dataset scan, with full decoding so corruption a header hides is caught too.
  const ds = await scanDataset(corpus.root, { verifyPixels: true });
  const problems = new Map(ds.problems.map((p) => [p.file, p.reason]));
  const samples = new Set(ds.samples.map((s) => s.file));
  for (const p of ds.problems) assert.ok(p.reason.trim().length > 0 && !p.reason.includes('\n'), `one-line reason for ${p.file}`);
  for (const e of corpus.entries) {
    const key = e.scanProblem ?? e.rel;
    if (e.scan === 'bad') {
      assert.ok(problems.has(key), `scan should list ${key} (${e.kind}); problems: ${[...problems.keys()].join(', ')}`);
      outcomes.get(e)!.add('rejected');
    } else if (e.scan === 'ok' && e.image === 'ok') {
      assert.ok(samples.has(e.rel), `scan should accept ${e.rel} (${e.kind}): ${problems.get(e.rel) ?? 'not found'}`);
      outcomes.get(e)!.add('accepted');
    } else if (e.scan === 'either') {
      outcomes.get(e)!.add(problems.has(key) ? 'rejected' : 'accepted');
    }
  }
  assert.ok(ds.notes.some((n) => n.includes('viral/ is empty')), `empty class folder noted: ${ds.notes.join(' | ')}`);
  await assert.rejects(scanDataset(corpus.root, { strict: true }), (err: unknown) => {
    assert.ok(err instanceof InputFileError, `strict throws an InputFileError, got ${String(err)}`);
    const rel = path.relative(corpus.root, err.file);
    assert.ok(corpus.entries.some((e) => e.scan === 'bad' && (e.scanProblem ?? e.rel).replace(/\/$/, '') === rel.replace(/\/$/, '')), `strict names a bad file: ${err.message}`);
    return true;
  });

  // (2) Every file as a single image: the CLI on a representative sample, the library for the rest.
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cxr-hostile-out-'));
  const viaCli = representative(files, CLI_SAMPLE);
  const results: { e: CorpusEntry; outcome: Outcome }[] = [];
  let n = 0;
  await pool([...viaCli], 2, async (e) => {
    const file = entryPath(corpus, e);
    const out = path.join(outDir, `cli-${n++}.png`);
    const r = await runCli(['enhance', file, out]);
    const what = `cxr enhance ${e.rel} (${e.kind})`;
    assert.equal(r.timedOut, false, `${what} timed out`);
    assert.equal(r.signal, null, `${what} killed by ${r.signal}`);
    assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, `${what} printed a stack trace:\n${r.stderr}`);
    if (r.code === 0) {
      assert.ok(fs.statSync(out).size > 0, `${what} wrote ${out}`);
      results.push({ e, outcome: 'accepted' });
    } else {
      const lines = r.stderr.split('\n').filter((l) => l.trim());
      assert.equal(lines.length, 1, `${what}: one stderr line, got:\n${r.stderr}`);
      assert.ok(lines[0].includes(file), `${what}: error names the file: ${lines[0]}`);
      assert.equal(fs.existsSync(out), false, `${what} failed but left ${out}`);
      results.push({ e, outcome: 'rejected' });
    }
  });
  for (const e of files.filter((f) => !viaCli.has(f))) {
    const file = entryPath(corpus, e);
    try {
      const img = await decodeImage(file, { size: 224, fit: 'stretch' });
      const grey = enhance(img.data, img.width, img.height);
      assert.equal(grey.length, 224 * 224);
      const own = await decodeImage(file);
      enhance(own.data, own.width, own.height);
      results.push({ e, outcome: 'accepted' });
    } catch (err) {
      assert.ok(err instanceof InputFileError, `${e.rel} (${e.kind}): not an InputFileError: ${(err as Error).stack}`);
      assert.ok(err.message.startsWith(file) && !err.message.includes('\n'), `${e.rel}: one line naming the file: ${err.message}`);
      results.push({ e, outcome: 'rejected' });
    }
  }
  for (const { e, outcome } of results) {
    if (e.image !== 'either') assert.equal(outcome, e.image === 'ok' ? 'accepted' : 'rejected', `${e.rel} (${e.kind}) as a single image`);
    outcomes.get(e)!.add(outcome);
  }
  fs.rmSync(outDir, { recursive: true, force: true });

  // (3) Nothing in the corpus was created, changed or removed.
  assert.deepEqual(snapshot(corpus.root), before);

  // (4) One input counts as rejected when any command refused it.
  let rejected = 0;
  let accepted = 0;
  for (const set of outcomes.values()) {
    if (set.has('rejected')) rejected++;
    else accepted++;
  }
  const tried = rejected + accepted;
  console.log(`${viaCli.size} files through \`cxr enhance\`, ${files.length - viaCli.size} through decodeImage + enhance in-process`);
  console.log(`hostile inputs: ${tried} tried, ${rejected} rejected with a clear error, ${accepted} accepted, 0 crashed`);
  fs.rmSync(corpus.root, { recursive: true, force: true });
});
