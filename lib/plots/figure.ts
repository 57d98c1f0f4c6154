/**
 * What every figure shares: the plotly figure types, the house style (font, colours, axes, title) and the
 * geometry of panels in paper coordinates. The builders live by figure family: bars.ts (bar charts,
 * histograms), lines.ts (line charts, small multiples), heatmap.ts, images.ts (image grids).
 *
 * Two plotly.js versions read these figures: plotly.js-dist 3.x (node_modules; PNG/SVG export) and the
 * 4.x bundled in the JupyterLab renderer of plotly 7 (Python). So builders stay in the attributes both
 * accept: titles as `{ text }` objects (3.0 dropped string titles), colours as `#rrggbb` or integer
 * `rgb()` (4.0 dropped bare hex and fractional rgb), no `*src` attributes, plain arrays, never typed
 * arrays (JSON.stringify turns those into objects).
 */

/** One trace: `type` plus any plotly.js attributes. */
export interface Trace {
  type: 'bar' | 'histogram' | 'scatter' | 'heatmap' | 'image';
  [attribute: string]: unknown;
}

/** Figure layout: a few common attributes typed, the rest passed through to plotly.js. */
export interface Layout {
  title?: { text: string; [attribute: string]: unknown };
  /** Size in CSS pixels; also the size of the exported image (PNG at `scale` × this). */
  width?: number;
  height?: number;
  [attribute: string]: unknown;
}

/** A plotly figure: what `show` displays and `saveFigure` exports. */
export interface Figure {
  data: Trace[];
  layout: Layout;
}

/** Default figure size when the layout names none. */
export const DEFAULT_SIZE = { width: 800, height: 450 } as const;

/**
 * Fixed colours for the study's classes, so a class looks the same in every figure (Okabe–Ito:
 * distinguishable with the common colour-vision deficiencies).
 */
export const CLASS_COLOURS: Readonly<Record<string, string>> = { covid: '#D55E00', viral: '#009E73', normal: '#0072B2' };

/** Colours for other series: the rest of Okabe–Ito, then Paul Tol's muted set; none is a class colour. */
export const PALETTE = ['#56B4E9', '#E69F00', '#CC79A7', '#332288', '#999933', '#882255', '#44AA99', '#000000'] as const;

/**
 * The colour of series `index` named `name`: its class colour when it is a class, else the palette's.
 * @param name series name; a class name (`covid`, `viral`, `normal`) gets its class colour.
 * @param index position among the figure's series, for the palette.
 * @example seriesColour('covid', 0) // '#D55E00'
 */
export function seriesColour(name: string, index: number): string {
  return CLASS_COLOURS[name] ?? PALETTE[index % PALETTE.length];
}

const FONT = { family: 'DejaVu Sans, Liberation Sans, Arial, sans-serif', size: 13, color: '#222222' };
const AXIS = { gridcolor: '#e5e5e5', zerolinecolor: '#bbbbbb', linecolor: '#888888', automargin: true };

/** Top margin that holds the figure title (plotly centres the title in it). */
export const TITLE_MARGIN = 60;

/** The house layout: title top left, white background, the project font; `extra` adds or overrides. */
export function baseLayout(title: string, extra: Layout = {}): Layout {
  return {
    title: { text: title, x: 0.02, xanchor: 'left' },
    font: FONT,
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
    margin: { l: 70, r: 30, t: TITLE_MARGIN, b: 60 },
    legend: { bgcolor: 'rgba(255,255,255,0.8)' },
    ...extra,
  };
}

/** An axis in the house style, titled when `title` is given. */
export function axis(title: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...AXIS, ...(title ? { title: { text: title } } : {}), ...extra };
}

/** Axis layout key for panel `k` (0-based): xaxis, xaxis2, … */
export function axisKey(kind: 'xaxis' | 'yaxis', k: number): string {
  return k === 0 ? kind : `${kind}${k + 1}`;
}

/** An axis domain in paper coordinates; plotly rejects (and silently resets) any end outside [0, 1]. */
export function domain(lo: number, hi: number): [number, number] {
  const clamp = (v: number) => Math.min(1, Math.max(0, Math.round(v * 1e6) / 1e6));
  return [clamp(lo), clamp(hi)];
}

/** A caption centred above the panel spanning `xDomain` × `yDomain`. */
export function panelTitle(text: string, xDomain: [number, number], yDomain: [number, number]): Record<string, unknown> {
  return {
    text: escapeText(text),
    xref: 'paper',
    yref: 'paper',
    x: (xDomain[0] + xDomain[1]) / 2,
    y: yDomain[1],
    xanchor: 'center',
    yanchor: 'bottom',
    showarrow: false,
    font: { size: 13 },
  };
}

/** Plotly renders a subset of HTML in text; file names and labels must not be read as tags. */
export function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Compact number text for bar labels and heatmap cells: integers as is, others to 3 significant digits.
 * @param v the number; not finite gives ''.
 * @example formatNumber(33.3333) // '33.3'
 */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return '';
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(3)));
}

/**
 * Checks that a series has one value per category (or x value, or label).
 * @throws RangeError naming the series and both counts.
 */
export function checkLength(what: string, got: number, want: number, against: string): void {
  if (got !== want) throw new RangeError(`${what}: ${got} values for ${want} ${against}`);
}
