import * as assert from 'node:assert/strict';
import type { Figure } from '../../lib/plots/figure';

/**
 * The attributes both plotly.js 3.x (export) and 4.x (JupyterLab renderer) accept: titles are objects,
 * colours are #rrggbb or integer rgb()/rgba(), no `*src` keys, no typed arrays, JSON round-trips.
 */
export function assertPortable(fig: Figure): void {
  assert.deepEqual(JSON.parse(JSON.stringify(fig)), fig, 'figure must be plain JSON');
  const walk = (v: unknown, at: string): void => {
    if (ArrayBuffer.isView(v)) assert.fail(`${at}: typed array`);
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}[${i}]`));
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        assert.ok(!k.endsWith('src'), `${at}.${k}: *src attributes were removed in plotly.js 4`);
        if (k === 'title') assert.equal(typeof x, 'object', `${at}.title must be { text } (plotly.js 3 dropped strings)`);
        if (k === 'color' && typeof x === 'string') {
          assert.match(x, /^(#[0-9a-fA-F]{6}|rgba?\(\d+,\s*\d+,\s*\d+(,\s*(0|1|0?\.\d+))?\))$/, `${at}.color ${x}`);
        }
        walk(x, `${at}.${k}`);
      }
    }
  };
  walk(fig, 'figure');
}
