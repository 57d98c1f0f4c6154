import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COLOUR_REFUSAL_SHARE, colourShare, refusal } from '../../lib/eval/colour-gate';

test('colourShare counts pixels whose channels spread over 40 levels; grey and near-grey count 0', () => {
  const rgb = Uint8Array.from([
    100, 100, 100, // grey
    120, 130, 140, // tinted: spread 40, not over
    200, 150, 100, // coloured: spread 100
    0, 0, 41, // coloured: spread 41
  ]);
  assert.equal(colourShare(rgb, 4), 0.5);
  assert.equal(colourShare(new Uint8Array(0), 0), 0);
  assert.throws(() => colourShare(rgb, 3), /12 bytes for 3 RGB pixels/);
});

test('refusal: colour first, then the feature distance', () => {
  assert.equal(refusal(COLOUR_REFUSAL_SHARE + 0.01, 1, 10), 'colour');
  assert.equal(refusal(COLOUR_REFUSAL_SHARE, 11, 10), 'distance');
  assert.equal(refusal(0, 10, 10), null, 'at the threshold is passed');
});
