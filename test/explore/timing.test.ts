import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureThroughput } from '../../lib/explore/timing';

test('measureThroughput: warms up once, then runs until both minimums are met', async () => {
  let calls = 0;
  const t = await measureThroughput(async () => {
    calls += 1;
    await new Promise((r) => setTimeout(r, 5));
  }, { minRuns: 4, minSeconds: 0.05 });
  assert.ok(t.runs >= 4);
  assert.equal(calls, t.runs + 1, 'one warm-up run not counted');
  assert.ok(t.seconds >= 0.05);
  assert.ok(Math.abs(t.perSecond - t.runs / t.seconds) < 1e-9);
  assert.ok(t.msPerRun >= 4, `${t.msPerRun} ms per 5 ms run`);
});
