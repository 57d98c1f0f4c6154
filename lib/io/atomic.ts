import * as fs from 'node:fs';
import * as path from 'node:path';
import { CxrError } from '../errors';

let counter = 0;

function tempNameFor(target: string): string {
  counter += 1;
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${counter}`);
}

/**
 * Writes a file so that readers see either the old content or the complete new one, never a prefix:
 * write to a temporary sibling, fsync, then rename over the target. On any failure (disk full,
 * read-only folder) the temporary file is removed and a CxrError names the target.
 */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  const tmp = tempNameFor(target);
  let fd: number | undefined;
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    const code = (err as NodeJS.ErrnoException).code;
    throw new CxrError(`${target}: cannot write (${code ?? (err as Error).message})`, { cause: err });
  }
}

export function writeJsonAtomic(target: string, value: unknown): void {
  writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Builds a folder under a temporary name and renames it into place when `fill` succeeds, so a
 * half-written folder is never mistaken for a complete one. An existing target is replaced.
 */
export async function writeDirAtomic(target: string, fill: (tmpDir: string) => Promise<void> | void): Promise<void> {
  const tmp = tempNameFor(target);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  try {
    await fill(tmp);
    const old = fs.existsSync(target) ? tempNameFor(target) + '-old' : undefined;
    if (old) fs.renameSync(target, old);
    fs.renameSync(tmp, target);
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (err instanceof CxrError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new CxrError(`${target}: cannot write (${code ?? (err as Error).message})`, { cause: err });
  }
}
