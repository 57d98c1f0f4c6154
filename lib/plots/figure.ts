/**
 * Plotly figures as plain JSON, built from typed options.
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

/** The colour of series `index` named `name`: its class colour when it is a class, else the palette's. */
export function seriesColour(name: string, index: number): string {
  return CLASS_COLOURS[name] ?? PALETTE[index % PALETTE.length];
}

const FONT = { family: 'DejaVu Sans, Liberation Sans, Arial, sans-serif', size: 13, color: '#222222' };
const AXIS = { gridcolor: '#e5e5e5', zerolinecolor: '#bbbbbb', linecolor: '#888888', automargin: true };

function baseLayout(title: string, extra: Layout = {}): Layout {
  return {
    title: { text: title, x: 0.02, xanchor: 'left' },
    font: FONT,
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
    margin: { l: 70, r: 30, t: 60, b: 60 },
    legend: { bgcolor: 'rgba(255,255,255,0.8)' },
    ...extra,
  };
}

function axis(title: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...AXIS, ...(title ? { title: { text: title } } : {}), ...extra };
}

/** A named series of values (one bar colour, one histogram, one line). */
export interface Series {
  name: string;
  values: readonly number[];
  /** Overrides the class/palette colour. */
  colour?: string;
}

export interface BarChartOptions {
  title: string;
  /** One bar group per category. */
  categories: readonly string[];
  /** One bar per category and series; `values[i]` belongs to `categories[i]`. */
  series: readonly Series[];
  xTitle?: string;
  yTitle?: string;
  /** Stack the series instead of grouping them side by side. */
  stacked?: boolean;
  /** Print each bar's value on it. */
  labels?: boolean;
  width?: number;
  height?: number;
}

/** Grouped (or stacked) bar chart: counts per category and series. */
export function barChart(o: BarChartOptions): Figure {
  for (const s of o.series) checkLength(s.name, s.values.length, o.categories.length, 'categories');
  return {
    data: o.series.map((s, i) => ({
      type: 'bar',
      name: s.name,
      x: [...o.categories],
      y: [...s.values],
      marker: { color: s.colour ?? seriesColour(s.name, i) },
      // Horizontal labels, above the bar when grouped; plotly would otherwise rotate them to fit inside.
      ...(o.labels ? { text: s.values.map(formatNumber), textposition: o.stacked ? 'inside' : 'outside', textangle: 0, cliponaxis: false } : {}),
    })),
    layout: baseLayout(o.title, {
      barmode: o.stacked ? 'stack' : 'group',
      xaxis: axis(o.xTitle, { type: 'category', showgrid: false }),
      yaxis: axis(o.yTitle),
      showlegend: o.series.length > 1,
      width: o.width ?? DEFAULT_SIZE.width,
      height: o.height ?? DEFAULT_SIZE.height,
    }),
  };
}

export interface HistogramOptions {
  title: string;
  /** Raw values; plotly bins them. */
  series: readonly Series[];
  xTitle?: string;
  yTitle?: string;
  /** Fixed bins, the same for every series so shapes compare. */
  bins?: { start: number; end: number; size: number };
  /** Normalise each series so classes of different sizes compare. */
  normalise?: 'percent' | 'probability';
  /** Log-scaled x axis (e.g. file sizes). */
  logX?: boolean;
  /**
   * `group` (default): each bin's bars side by side, colours never mix; `overlay`: semi-transparent
   * histograms on top of each other (for two series at most).
   */
  barmode?: 'group' | 'overlay';
  width?: number;
  height?: number;
}

/** Histograms of one quantity per series (e.g. per class), on shared bins. */
export function histogramChart(o: HistogramOptions): Figure {
  const overlay = o.barmode === 'overlay' && o.series.length > 1;
  return {
    data: o.series.map((s, i) => ({
      type: 'histogram',
      name: s.name,
      x: [...s.values],
      opacity: overlay ? 0.6 : 1,
      marker: { color: s.colour ?? seriesColour(s.name, i) },
      ...(o.bins ? { xbins: o.bins, autobinx: false } : {}),
      ...(o.normalise ? { histnorm: o.normalise } : {}),
    })),
    layout: baseLayout(o.title, {
      barmode: overlay ? 'overlay' : 'group',
      bargap: 0.1,
      xaxis: axis(o.xTitle, o.logX ? { type: 'log' } : {}),
      yaxis: axis(o.yTitle ?? (o.normalise === 'percent' ? '% of images' : o.normalise ? 'fraction of images' : 'images')),
      showlegend: o.series.length > 1,
      width: o.width ?? DEFAULT_SIZE.width,
      height: o.height ?? DEFAULT_SIZE.height,
    }),
  };
}

/** A line: y over x. */
export interface LineSeries {
  name: string;
  x: readonly number[];
  y: readonly number[];
  colour?: string;
  dash?: 'solid' | 'dash' | 'dot';
}

/** One panel of a small-multiples figure. */
export interface LinePanel {
  title: string;
  series: readonly LineSeries[];
}

export interface LineChartOptions {
  title: string;
  /** One panel, or several side by side (small multiples sharing the y axis range). */
  panels: readonly LinePanel[];
  /** Panels per row (default: all in one row). */
  columns?: number;
  xTitle?: string;
  yTitle?: string;
  /** Log-scaled y axis: shows a distribution's tail beside a tall spike (e.g. black borders at level 0). */
  logY?: boolean;
  width?: number;
  height?: number;
}

/**
 * Line chart, or small multiples of line charts: one panel per entry of `panels`, axes shared so panels
 * compare at a glance. Series with the same name share colour and one legend entry across panels.
 */
export function lineChart(o: LineChartOptions): Figure {
  const columns = Math.max(1, Math.min(o.columns ?? o.panels.length, o.panels.length));
  const rows = Math.ceil(o.panels.length / columns);
  const grid = panelGrid(o.panels.length, columns, { hGap: 0.06, vGap: 0.18 / rows, titleSpace: 0.08 / rows });
  const names = uniqueNames(o.panels.flatMap((p) => p.series.map((s) => s.name)));
  const data: Trace[] = [];
  const layoutAxes: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  o.panels.forEach((panel, k) => {
    const { xRef, yRef, xDomain, yDomain, row, col } = grid[k];
    for (const s of panel.series) {
      checkLength(s.name, s.y.length, s.x.length, 'x values');
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: s.name,
        legendgroup: s.name,
        showlegend: k === 0 || !o.panels.slice(0, k).some((p) => p.series.some((q) => q.name === s.name)),
        x: [...s.x],
        y: [...s.y],
        xaxis: xRef,
        yaxis: yRef,
        line: { color: s.colour ?? seriesColour(s.name, names.indexOf(s.name)), width: 2, dash: s.dash ?? 'solid' },
      });
    }
    layoutAxes[axisKey('xaxis', k)] = axis(row === rows - 1 || k + columns >= o.panels.length ? o.xTitle : undefined, {
      domain: xDomain,
      anchor: yRef,
      ...(k > 0 ? { matches: 'x' } : {}),
    });
    layoutAxes[axisKey('yaxis', k)] = axis(col === 0 ? o.yTitle : undefined, {
      ...(o.logY ? { type: 'log', exponentformat: 'power', dtick: 1 } : {}),
      domain: yDomain,
      anchor: xRef,
      ...(k > 0 ? { matches: 'y' } : {}),
    });
    if (o.panels.length > 1) annotations.push(panelTitle(panel.title, xDomain, yDomain));
  });
  return {
    data,
    layout: baseLayout(o.title, {
      ...layoutAxes,
      annotations,
      width: o.width ?? Math.max(DEFAULT_SIZE.width, 340 * columns),
      height: o.height ?? 120 + 330 * rows,
    }),
  };
}

export interface HeatmapOptions {
  title: string;
  /** `z[row][column]`. */
  z: readonly (readonly number[])[];
  /** Column labels. */
  x: readonly string[];
  /** Row labels (first row at the top). */
  y: readonly string[];
  /** Text printed in each cell (default: the value). */
  text?: readonly (readonly string[])[];
  xTitle?: string;
  yTitle?: string;
  /** Colour bar title. */
  zTitle?: string;
  /** Fixed colour range (e.g. [0, 100] for percentages). */
  zRange?: [number, number];
  width?: number;
  height?: number;
}

/**
 * Heatmap with the value printed in each cell. Plotly's `Blues` runs dark → light, so it is reversed:
 * larger values are darker, and plotly picks a contrasting text colour per cell.
 */
export function heatmapChart(o: HeatmapOptions): Figure {
  checkLength('z', o.z.length, o.y.length, 'row labels');
  o.z.forEach((row, i) => checkLength(`z row ${i}`, row.length, o.x.length, 'column labels'));
  const text = o.text ?? o.z.map((row) => row.map(formatNumber));
  // Room for the row labels is set here: plotly's automargin would take it from the cells instead.
  const left = Math.min(460, Math.max(80, 20 + 7.5 * Math.max(...o.y.map((l) => l.length))));
  return {
    data: [
      {
        type: 'heatmap',
        z: o.z.map((row) => [...row]),
        x: [...o.x],
        y: [...o.y],
        text: text.map((row) => [...row]),
        texttemplate: '%{text}',
        textfont: { size: 12 },
        hovertemplate: '%{y} · %{x}: %{z}<extra></extra>',
        colorscale: 'Blues',
        reversescale: true,
        xgap: 1,
        ygap: 1,
        ...(o.zRange ? { zmin: o.zRange[0], zmax: o.zRange[1] } : {}),
        colorbar: o.zTitle ? { title: { text: o.zTitle } } : {},
      },
    ],
    layout: baseLayout(o.title, {
      xaxis: axis(o.xTitle, { type: 'category', side: 'top', showgrid: false, automargin: false, tickangle: 0 }),
      yaxis: axis(o.yTitle, { type: 'category', autorange: 'reversed', showgrid: false, automargin: false }),
      margin: { l: left, r: 30, t: 110, b: 20 },
      width: o.width ?? Math.max(560, left + 130 * o.x.length + 150),
      height: o.height ?? Math.max(300, 130 + 30 * o.y.length),
    }),
  };
}

/** One cell of an image grid: a PNG (or any browser-readable image) as a data URI. */
export interface ImageCell {
  /** `data:image/png;base64,...` (see `imageDataUri` in `lib/plots/images`). */
  source: string;
  /** Natural size of the encoded image, in pixels. */
  width: number;
  height: number;
  /** Caption above the image. */
  title?: string;
}

export interface ImageGridOptions {
  title: string;
  /** Rows of images; rows may have different lengths. */
  rows: readonly { label?: string; cells: readonly ImageCell[] }[];
  /** Displayed size of each cell's longer side, in CSS pixels (default 220). */
  cellSize?: number;
}

/** Images in a grid with a caption per image and a label per row (e.g. one row per class). */
export function imageGridFigure(o: ImageGridOptions): Figure {
  const columns = Math.max(1, ...o.rows.map((r) => r.cells.length));
  const rows = o.rows.length;
  const cell = o.cellSize ?? 220;
  const captionPx = 24;
  const hasLabels = o.rows.some((r) => r.label);
  const margin = { l: hasLabels ? 40 : 10, r: 10, t: 60, b: 10 };
  const width = margin.l + margin.r + columns * (cell + 10);
  const height = margin.t + margin.b + rows * (cell + captionPx + 10);
  const plotW = width - margin.l - margin.r;
  const plotH = height - margin.t - margin.b;
  const data: Trace[] = [];
  const layoutAxes: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  let k = 0;
  o.rows.forEach((row, r) => {
    const top = 1 - (r * (cell + captionPx + 10)) / plotH;
    const yDomain = domain(top - (captionPx + cell) / plotH, top - captionPx / plotH);
    row.cells.forEach((c, col) => {
      const left = (col * (cell + 10)) / plotW;
      const xDomain = domain(left, left + cell / plotW);
      const ref = k === 0 ? '' : String(k + 1);
      data.push({
        type: 'image',
        source: c.source,
        xaxis: `x${ref}`,
        yaxis: `y${ref}`,
        hoverinfo: 'skip',
        name: c.title ?? '',
      });
      // Fixed ranges with constrain: 'domain' keep each image's aspect ratio inside its square cell.
      layoutAxes[axisKey('xaxis', k)] = { domain: xDomain, range: [-0.5, c.width - 0.5], visible: false, constrain: 'domain', anchor: `y${ref}` };
      layoutAxes[axisKey('yaxis', k)] = {
        domain: yDomain,
        range: [c.height - 0.5, -0.5],
        visible: false,
        scaleanchor: `x${ref}`,
        constrain: 'domain',
        // A landscape image sits right under its caption rather than in the middle of the cell.
        constraintoward: 'top',
        anchor: `x${ref}`,
      };
      if (c.title) annotations.push(panelTitle(c.title, xDomain, [yDomain[0], yDomain[1] + 2 / plotH]));
      k++;
    });
    if (row.label) {
      annotations.push({
        text: `<b>${escapeText(row.label)}</b>`,
        xref: 'paper',
        yref: 'paper',
        x: 0,
        xshift: -12,
        y: (yDomain[0] + yDomain[1]) / 2,
        xanchor: 'right',
        yanchor: 'middle',
        textangle: -90,
        showarrow: false,
        font: { size: 14 },
      });
    }
  });
  return {
    data,
    layout: baseLayout(o.title, { ...layoutAxes, annotations, margin, width, height, showlegend: false }),
  };
}

/** Axis layout key for panel `k` (0-based): xaxis, xaxis2, … */
function axisKey(kind: 'xaxis' | 'yaxis', k: number): string {
  return k === 0 ? kind : `${kind}${k + 1}`;
}

interface GridSlot {
  xRef: string;
  yRef: string;
  xDomain: [number, number];
  yDomain: [number, number];
  row: number;
  col: number;
}

/** Paper-coordinate domains for `n` panels laid out `columns` wide, leaving room for panel titles. */
function panelGrid(n: number, columns: number, gaps: { hGap: number; vGap: number; titleSpace: number }): GridSlot[] {
  const rows = Math.ceil(n / columns);
  const w = (1 - gaps.hGap * (columns - 1)) / columns;
  const h = (1 - gaps.vGap * (rows - 1)) / rows;
  return Array.from({ length: n }, (_, k) => {
    const row = Math.floor(k / columns);
    const col = k % columns;
    const x0 = col * (w + gaps.hGap);
    const y1 = 1 - row * (h + gaps.vGap);
    const ref = k === 0 ? '' : String(k + 1);
    return {
      xRef: `x${ref}`,
      yRef: `y${ref}`,
      xDomain: domain(x0, x0 + w),
      yDomain: domain(y1 - h, n > 1 ? y1 - gaps.titleSpace : y1),
      row,
      col,
    };
  });
}

/** An axis domain in paper coordinates; plotly rejects (and silently resets) any end outside [0, 1]. */
function domain(lo: number, hi: number): [number, number] {
  const clamp = (v: number) => Math.min(1, Math.max(0, Math.round(v * 1e6) / 1e6));
  return [clamp(lo), clamp(hi)];
}

function panelTitle(text: string, xDomain: [number, number], yDomain: [number, number]): Record<string, unknown> {
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
function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function uniqueNames(names: string[]): string[] {
  return [...new Set(names)];
}

/** Compact number text for bar labels and heatmap cells: integers as is, others to 3 significant digits. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return '';
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(3)));
}

function checkLength(what: string, got: number, want: number, against: string): void {
  if (got !== want) throw new RangeError(`${what}: ${got} values for ${want} ${against}`);
}
