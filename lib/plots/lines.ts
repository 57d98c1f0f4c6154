/**
 * Line figures: y over x, one panel or small multiples sharing their axes, with optional marked x
 * positions (e.g. where a training phase begins).
 */
import { axis, axisKey, baseLayout, checkLength, DEFAULT_SIZE, domain, escapeText, panelTitle, seriesColour, type Figure, type Trace } from './figure';

/** A line: y over x. Series of one name share colour and legend entry, so a line may come in segments. */
export interface LineSeries {
  name: string;
  x: readonly number[];
  y: readonly number[];
  colour?: string;
  dash?: 'solid' | 'dash' | 'dot';
}

/** A vertical dashed line across a panel at `x`, labelled just above the panel (clear of the data). */
export interface LineMark {
  x: number;
  text: string;
}

/** One panel of a small-multiples figure. */
export interface LinePanel {
  title: string;
  series: readonly LineSeries[];
  marks?: readonly LineMark[];
}

/** Options of {@link lineChart}. */
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

const MARK_COLOUR = '#777777';

/**
 * Line chart, or small multiples of line charts: one panel per entry of `panels`, axes shared so panels
 * compare at a glance. Series with the same name share colour and one legend entry across the figure.
 * @throws RangeError when a series does not have one y per x.
 * @example lineChart({ title: 'CDF', panels: [{ title: 'CDF', series: [{ name: 'covid', x: [0, 1], y: [0, 1] }] }], xTitle: 'level' })
 */
export function lineChart(o: LineChartOptions): Figure {
  const columns = Math.max(1, Math.min(o.columns ?? o.panels.length, o.panels.length));
  const rows = Math.ceil(o.panels.length / columns);
  const grid = panelGrid(o.panels.length, columns, { hGap: 0.06, vGap: 0.18 / rows, titleSpace: 0.08 / rows });
  const names = [...new Set(o.panels.flatMap((p) => p.series.map((s) => s.name)))];
  const inLegend = new Set<string>();
  const data: Trace[] = [];
  const layoutAxes: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  const shapes: Record<string, unknown>[] = [];
  o.panels.forEach((panel, k) => {
    const { xRef, yRef, xDomain, yDomain, row, col } = grid[k];
    for (const s of panel.series) {
      checkLength(s.name, s.y.length, s.x.length, 'x values');
      data.push({
        type: 'scatter',
        mode: 'lines',
        name: s.name,
        legendgroup: s.name,
        showlegend: !inLegend.has(s.name),
        x: [...s.x],
        y: [...s.y],
        xaxis: xRef,
        yaxis: yRef,
        line: { color: s.colour ?? seriesColour(s.name, names.indexOf(s.name)), width: 2, dash: s.dash ?? 'solid' },
      });
      inLegend.add(s.name);
    }
    for (const m of panel.marks ?? []) {
      // 'y domain' spans the panel's height whatever the data range.
      shapes.push({ type: 'line', xref: xRef, yref: `${yRef} domain`, x0: m.x, x1: m.x, y0: 0, y1: 1, line: { color: MARK_COLOUR, width: 1.5, dash: 'dash' } });
      annotations.push({ text: escapeText(m.text), xref: xRef, yref: `${yRef} domain`, x: m.x, y: 1, xanchor: 'center', yanchor: 'bottom', showarrow: false, font: { size: 12, color: MARK_COLOUR } });
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
      ...(shapes.length ? { shapes } : {}),
      width: o.width ?? Math.max(DEFAULT_SIZE.width, 340 * columns),
      height: o.height ?? 120 + 330 * rows,
    }),
  };
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
