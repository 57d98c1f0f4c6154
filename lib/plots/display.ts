import { CxrError } from '../errors';
import { DEFAULT_SIZE, type Figure } from './figure';
import { renderPng, saveFigure, type RenderOptions } from './export';

/**
 * Rich output in a tslab notebook. A figure goes out as ONE display output carrying both the plotly
 * JSON (interactive in JupyterLab, through plotly's renderer extension) and a PNG of the same figure
 * (what classic Notebook, nbconvert HTML and GitHub show, as they lack that renderer).
 */

/** The mime type JupyterLab's plotly renderer reads. */
export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** A Jupyter display_data payload. */
export interface DisplayBundle {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/** The display bundle of a figure and its PNG rendering (at any scale: it is shown at the figure's size). */
export function figureBundle(fig: Figure, png: Uint8Array): DisplayBundle {
  const width = fig.layout.width ?? DEFAULT_SIZE.width;
  const height = fig.layout.height ?? DEFAULT_SIZE.height;
  return {
    data: {
      [PLOTLY_MIME]: { data: fig.data, layout: fig.layout, config: { displaylogo: false, responsive: true } },
      'image/png': Buffer.from(png).toString('base64'),
      'text/plain': `<figure: ${fig.layout.title?.text ?? 'untitled'}>`,
    },
    metadata: { 'image/png': { width: Math.round(width), height: Math.round(height) } },
  };
}

/** Shows a figure inline: interactive plotly in JupyterLab, PNG elsewhere. Only inside the tslab kernel. */
export async function show(fig: Figure): Promise<void> {
  const write = kernelWriter();
  const png = await renderPng(fig, { scale: 1 });
  write(figureBundle(fig, png));
}

/**
 * Shows a figure inline and saves it as `<name>.png` and `<name>.svg` (under `figuresDir()` unless
 * `dir` says otherwise): the one call a notebook cell makes for a report figure. Returns nothing, so
 * the cell prints nothing after the figure.
 */
export async function showAndSave(fig: Figure, name: string, opts: RenderOptions & { dir?: string } = {}): Promise<void> {
  await show(fig);
  await saveFigure(fig, name, opts);
}

/** Shows a PNG inline (e.g. from `encodePng`), optionally at a given CSS width. */
export function showPng(png: Uint8Array, opts: { width?: number } = {}): void {
  kernelWriter()({
    data: { 'image/png': Buffer.from(png).toString('base64'), 'text/plain': '<image>' },
    metadata: opts.width ? { 'image/png': { width: opts.width } } : {},
  });
}

/** Shows Markdown text (rendered in notebooks; the text itself is the plain fallback). */
export function showMarkdown(text: string): void {
  kernelWriter()({ data: { 'text/markdown': text, 'text/plain': text }, metadata: {} });
}

/** Anything that renders itself as HTML and Markdown, such as a DataFrame through lib/notebook/table.ts. */
export interface Tabular {
  toHTML(opts?: { limit?: number }): string;
  toMarkdown(opts?: { limit?: number }): string;
}

/** Shows a table: HTML in notebooks, Markdown as the plain-text fallback. */
export function showTable(table: Tabular, opts: { limit?: number } = {}): void {
  const limit = opts.limit ?? 100;
  kernelWriter()({
    data: { 'text/html': table.toHTML({ limit }), 'text/plain': table.toMarkdown({ limit }) },
    metadata: {},
  });
}

type Writer = (bundle: DisplayBundle) => void;

/**
 * tslab's public `display` API sends one mime type per output; the kernel's own writer takes a whole
 * bundle. Found through the module cache so that it is the running kernel's copy of tslab, wherever
 * that is installed.
 */
function kernelWriter(): Writer {
  for (const [id, mod] of Object.entries(require.cache)) {
    if (!/tslab[\\/]dist[\\/]jupyter\.js$/.test(id)) continue;
    const write = (mod?.exports as { lastWriteDisplayData?: (msg: unknown, update: boolean) => void })?.lastWriteDisplayData;
    if (typeof write === 'function') {
      return (bundle) => write({ ...bundle, transient: {} }, false);
    }
  }
  throw new CxrError('show…() displays in a Jupyter notebook with the tslab kernel; outside one, use saveFigure()');
}
