import assert from 'node:assert/strict';
import { test } from 'node:test';
import { colourShare, COLOUR_REFUSAL_SHARE } from '../../lib/eval/colour-gate';
import { nonCxrImages } from '../../lib/eval/non-cxr';

test('nonCxrImages: eight seeded 256² images, the colour ones refused by colour, the grey ones left to the distance test', () => {
  const a = nonCxrImages();
  assert.deepEqual(a.map((i) => i.name), ['colour landscape', 'colour noise', 'colour stripes', 'grey face', 'document', 'brick wall', 'checkerboard', 'grey ramp']);
  for (const i of a) assert.equal(i.rgb.length, i.width * i.height * 3);
  assert.deepEqual(nonCxrImages()[1].rgb, a[1].rgb, 'the same for a seed');
  assert.notDeepEqual(nonCxrImages(8)[1].rgb, a[1].rgb);
  for (const i of a) {
    const share = colourShare(i.rgb, i.width * i.height);
    if (i.name.startsWith('colour')) assert.ok(share > COLOUR_REFUSAL_SHARE, `${i.name}: ${share}`);
    else assert.equal(share, 0, i.name);
  }
});
