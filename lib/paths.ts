import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The project root (the folder holding package.json), whatever the current directory. Resolved through
 * links: notebooks load lib/ as notebooks/lib, where `__dirname/..` would be notebooks/.
 */
export const PROJECT_ROOT = path.resolve(fs.realpathSync(__dirname), '..');

/**
 * Cache for derived, re-creatable data (features, downloaded weights, parity fixtures).
 * `CXR_CACHE` overrides; default `.cache/` in the project (git-ignored).
 */
export function cacheDir(...sub: string[]): string {
  const root = process.env.CXR_CACHE ? path.resolve(process.env.CXR_CACHE) : path.join(PROJECT_ROOT, '.cache');
  return path.join(root, ...sub);
}

/** The shared dataset beside the project, if present. */
export const SHARED_DATA_DIR = path.resolve(PROJECT_ROOT, '..', 'shared', 'cxr-data');
/** The shared adult X-rays from other hospitals (normals and pneumonia), if present. */
export const SHARED_ADULT_DIR = path.resolve(PROJECT_ROOT, '..', 'shared', 'cxr-adult');

/** Default data folder: `../shared/cxr-data` when it exists, else `data/cxr` (where `cxr data fetch` writes). */
export function defaultDataDir(): string {
  if (process.env.CXR_DATA) return path.resolve(process.env.CXR_DATA.split(path.delimiter)[0]);
  return fs.existsSync(SHARED_DATA_DIR) ? SHARED_DATA_DIR : path.join(PROJECT_ROOT, 'data', 'cxr');
}

/**
 * Default data folders of the de-confounded recipe: `CXR_DATA` (several separated by the path delimiter,
 * `:` on Linux), else the default data folder plus `../shared/cxr-adult` when it exists.
 */
export function defaultDataDirs(): string[] {
  if (process.env.CXR_DATA) return process.env.CXR_DATA.split(path.delimiter).filter(Boolean).map((d) => path.resolve(d));
  const first = defaultDataDir();
  return first === SHARED_DATA_DIR && fs.existsSync(SHARED_ADULT_DIR) ? [first, SHARED_ADULT_DIR] : [first];
}

/** Python with the project's reference libraries (numpy, OpenCV, TensorFlow, scikit-learn), made by `npm run setup`. */
export function projectPython(): string {
  if (process.env.CXR_PYTHON) return process.env.CXR_PYTHON;
  return path.join(PROJECT_ROOT, '.venv', 'bin', 'python');
}
