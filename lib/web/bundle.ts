/**
 * Bundles the page's TypeScript (lib/web/page/main.ts and the lib modules it imports: the same enhancement,
 * input steps, task and Grad-CAM code the command line runs) into one browser script with esbuild, in memory,
 * when `cxr serve` starts. Node-only packages reachable from those modules (sharp, node:fs, …) are replaced by a
 * module that throws if ever called; lib's own files are marked free of side effects, so whatever the page does
 * not use (e.g. the run-folder half of lib/eval/gradcam.ts) is left out instead of run at load.
 */
import * as path from 'node:path';
import { CxrError, describeError } from '../errors';

const NODE_ONLY = /^(node:|fs$|path$|os$|crypto$|child_process$|worker_threads$|zlib$|url$|util$|stream$|sharp$|h5wasm|@tensorflow\/tfjs-node|cli-progress$|csv-parse|csv-stringify)/;

/** lib modules that register custom layers with TF.js when loaded: their load is what matters. */
const REGISTERS_LAYERS = [path.join('train', 'head.ts'), path.join('models', 'layers.ts'), path.join('models', 'layers-bn.ts')];

/** The bundled page script. */
export interface PageBundle {
  js: string;
}

/**
 * Builds the page script.
 * @param entry the script's entry module (default: the page's main.ts; tests bundle their own)
 * @throws CxrError when esbuild fails (the message lists its errors)
 * @example const { js } = await bundlePage()
 */
export async function bundlePage(entry = path.join(__dirname, 'page', 'main.ts')): Promise<PageBundle> {
  // esbuild comes with tsx (a dependency); required lazily so only `cxr serve` loads it.
  const esbuild = require('esbuild') as typeof import('esbuild');
  const libDir = path.resolve(__dirname, '..');
  try {
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      // Explicit, so that require() calls too get the packages' ES module builds (one copy of tfjs-core).
      mainFields: ['browser', 'module', 'main'],
      target: 'es2020',
      minify: process.env.CXR_PAGE_DEBUG !== '1',
      legalComments: 'none',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
      plugins: [{
        name: 'cxr-browser',
        setup(build) {
          build.onResolve({ filter: NODE_ONLY }, (args) => ({ path: args.path, namespace: 'node-only' }));
          build.onLoad({ filter: /.*/, namespace: 'node-only' }, (args) => ({
            contents: `const fail = () => { throw new Error(${JSON.stringify(args.path)} + ' is not available in the browser'); };
module.exports = new Proxy(fail, { get: (_t, k) => (k === '__esModule' ? false : fail) });`,
            loader: 'js',
          }));
          build.onResolve({ filter: /^\./ }, async (args) => {
            if (args.pluginData === 'inner' || !args.importer.startsWith(libDir + path.sep)) return undefined;
            const r = await build.resolve(args.path, { resolveDir: args.resolveDir, kind: args.kind, pluginData: 'inner' });
            if (r.errors.length > 0) return { errors: r.errors };
            const pure = r.path.startsWith(libDir + path.sep) && !REGISTERS_LAYERS.some((f) => r.path.endsWith(f));
            return pure ? { ...r, sideEffects: false } : r;
          });
        },
      }],
    });
    return { js: result.outputFiles[0].text };
  } catch (err) {
    throw new CxrError(`cannot bundle the page (${describeError(err)})`, { cause: err });
  }
}
