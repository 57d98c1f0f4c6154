import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../lib/paths';

const cxr = path.join(PROJECT_ROOT, 'bin', 'cxr.js');

test('cxr --help lists the commands and exits 0', () => {
  const r = spawnSync(process.execPath, [cxr, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: cxr/);
});

test('an unknown command is a usage error, not a crash', () => {
  const r = spawnSync(process.execPath, [cxr, 'no-such-command'], { encoding: 'utf8' });
  assert.equal(r.status, 64);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
});
