/**
 * Bar-like figures: counts per category (bar charts) and distributions of one quantity (histograms), one
 * colour per series (the class colour when the series is a class).
 */
import { axis, baseLayout, checkLength, DEFAULT_SIZE, formatNumber, seriesColour, type Figure, type Layout } from './figure';

/** A named series of values (one bar colour, one histogram). */
export interface Series {
  name: string;
  values: readonly number[];
  /** Overrides the class/palette colour. */
  colour?: string;
}

/** Options of {@link barChart}. */
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

/**
 * Grouped (or stacked) bar chart: counts per category and series.
 * @throws RangeError when a series does not have one value per category.
 * @example barChart({ title: 'Images per class', categories: ['covid', 'normal'], series: [{ name: 'images', values: [536, 668] }] })
 */
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
    layout: seriesLayout(o, axis(o.xTitle, { type: 'category', showgrid: false }), axis(o.yTitle), { barmode: o.stacked ? 'stack' : 'group' }),
  };
}

/** Options of {@link histogramChart}. */
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

/**
 * Histograms of one quantity per series (e.g. per class), on shared bins.
 * @example histogramChart({ title: 'Width', series: [{ name: 'covid', values: widths }], bins: { start: 0, end: 4000, size: 100 }, normalise: 'percent' })
 */
export function histogramChart(o: HistogramOptions): Figure {
  const overlay = o.barmode === 'overlay' && o.series.length > 1;
  const yTitle = o.yTitle ?? (o.normalise === 'percent' ? '% of images' : o.normalise ? 'fraction of images' : 'images');
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
    layout: seriesLayout(o, axis(o.xTitle, o.logX ? { type: 'log' } : {}), axis(yTitle), { barmode: overlay ? 'overlay' : 'group', bargap: 0.1 }),
  };
}

/** The layout of a figure of series on one pair of axes: a legend only when there are several series. */
function seriesLayout(
  o: { title: string; series: readonly Series[]; width?: number; height?: number },
  xaxis: Record<string, unknown>,
  yaxis: Record<string, unknown>,
  extra: Layout,
): Layout {
  return baseLayout(o.title, {
    ...extra,
    xaxis,
    yaxis,
    showlegend: o.series.length > 1,
    width: o.width ?? DEFAULT_SIZE.width,
    height: o.height ?? DEFAULT_SIZE.height,
  });
}
