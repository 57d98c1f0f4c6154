import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CxrError, UsageError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { PROJECT_ROOT } from '../paths';
import { DEFAULT_SIZE, type Figure } from './figure';

/**
 * Figures to PNG and SVG with plotly.js-dist inside Debian's headless chromium (driven by
 * playwright-core; no browser is downloaded). One browser page serves every figure of a process.
 */

/** Where `saveFigure` writes by default: `CXR_FIGURES_DIR`, else `figures/` in the project. */
export function figuresDir(): string {
  return process.env.CXR_FIGURES_DIR ? path.resolve(process.env.CXR_FIGURES_DIR) : path.join(PROJECT_ROOT, 'figures');
}

/** The browser used for rendering: `CXR_CHROMIUM`, else Debian's `/usr/bin/chromium`. */
export function chromiumPath(): string {
  return process.env.CXR_CHROMIUM ?? '/usr/bin/chromium';
}

export interface RenderOptions {
  /** CSS pixel size; default the layout's, else 800 × 450. */
  width?: number;
  height?: number;
  /** PNG pixels per CSS pixel (default 2: sharp on high-density screens and in print). */
  scale?: number;
}

/** Renders a figure to PNG bytes. */
export async function renderPng(fig: Figure, opts: RenderOptions = {}): Promise<Buffer> {
  const url = await toImage(fig, 'png', opts);
  return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
}

/** Renders a figure to an SVG document. */
export async function renderSvg(fig: Figure, opts: RenderOptions = {}): Promise<string> {
  const url = await toImage(fig, 'svg', opts);
  const body = url.slice(url.indexOf(',') + 1);
  return url.slice(0, url.indexOf(',')).endsWith(';base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body);
}

/** Files written by `saveFigure`. */
export interface SavedFigure {
  png: string;
  svg: string;
}

/**
 * Writes `<dir>/<name>.png` and `<dir>/<name>.svg` (each atomically). `name` is a plain file stem such
 * as `01-class-counts`; `dir` defaults to `figuresDir()`.
 */
export async function saveFigure(fig: Figure, name: string, opts: RenderOptions & { dir?: string } = {}): Promise<SavedFigure> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new UsageError(`figure name '${name}': use letters, digits, '.', '_' and '-' only (no folders, no extension)`);
  }
  const dir = opts.dir ?? figuresDir();
  const png = await renderPng(fig, opts);
  const svg = await renderSvg(fig, opts);
  const out = { png: path.join(dir, `${name}.png`), svg: path.join(dir, `${name}.svg`) };
  writeFileAtomic(out.png, png);
  writeFileAtomic(out.svg, svg);
  return out;
}

/** Closes the rendering browser (it is relaunched on the next render). */
export async function closeBrowser(): Promise<void> {
  clearIdleTimer();
  const pending = session;
  session = undefined;
  if (!pending) return;
  const s = await pending.catch(() => undefined);
  await s?.browser.close().catch(() => undefined);
}

/**
 * How long the browser stays open after the last render. Outside a Jupyter kernel a short idle close
 * lets scripts and CLIs exit on their own (the browser's pipes would otherwise keep Node alive); the
 * kernel keeps it for the session, and playwright closes it when the kernel process ends.
 */
const IDLE_CLOSE_MS = 1500;

interface Session {
  browser: Browser;
  page: Page;
}

let session: Promise<Session> | undefined;
let queue: Promise<unknown> = Promise.resolve();
let idleTimer: NodeJS.Timeout | undefined;

function clearIdleTimer(): void {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
}

async function openSession(): Promise<Session> {
  const exe = chromiumPath();
  if (!fs.existsSync(exe)) {
    throw new CxrError(`${exe}: chromium not found; run scripts/setup/jupyter.sh (apt-get install chromium) or set CXR_CHROMIUM`);
  }
  // Required lazily: loading playwright costs ~100 ms, and only figure export needs it.
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({ executablePath: exe, args: ['--disable-gpu', '--font-render-hinting=none'] });
  try {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>');
    await page.addScriptTag({ path: require.resolve('plotly.js-dist') });
    return { browser, page };
  } catch (err) {
    await browser.close().catch(() => undefined);
    throw err;
  }
}

function inKernel(): boolean {
  return Object.keys(require.cache).some((id) => /tslab[\\/]dist[\\/]jupyter\.js$/.test(id));
}

/** Runs renders one after another on the shared page. */
function toImage(fig: Figure, format: 'png' | 'svg', opts: RenderOptions): Promise<string> {
  const width = opts.width ?? fig.layout.width ?? DEFAULT_SIZE.width;
  const height = opts.height ?? fig.layout.height ?? DEFAULT_SIZE.height;
  const scale = format === 'png' ? opts.scale ?? 2 : 1;
  const run = queue.then(async () => {
    clearIdleTimer();
    session ??= openSession();
    let s: Session;
    try {
      s = await session;
    } catch (err) {
      session = undefined;
      throw err;
    }
    const json = JSON.stringify({ data: fig.data, layout: fig.layout });
    return s.page.evaluate(
      async ([figJson, imgOpts]) => {
        // Runs in the page, where plotly.js-dist defined the global Plotly.
        const plotly = (globalThis as unknown as { Plotly: { toImage(f: unknown, o: unknown): Promise<string> } }).Plotly;
        return plotly.toImage(JSON.parse(figJson), imgOpts);
      },
      [json, { format, width, height, scale }] as const,
    );
  });
  const settled = run.finally(() => {
    if (!inKernel() && session) {
      clearIdleTimer();
      idleTimer = setTimeout(() => void closeBrowser(), IDLE_CLOSE_MS);
    }
  });
  queue = settled.catch(() => undefined);
  return settled;
}
