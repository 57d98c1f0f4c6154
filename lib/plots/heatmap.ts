/**
 * Heatmaps with the value printed in each cell: confusion matrices, counts per source × class.
 */
import { axis, baseLayout, checkLength, formatNumber, TITLE_MARGIN, type Figure } from './figure';

/** Options of {@link heatmapChart}. */
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

/** Room under the cells for the column labels (one line) and, below them, the x-axis title. */
const TICK_LABELS_PX = 30;
const AXIS_TITLE_PX = 40;

/**
 * Heatmap with the value printed in each cell. Plotly's `Blues` runs dark → light, so it is reversed:
 * larger values are darker, and plotly picks a contrasting text colour per cell. Column labels and the
 * x-axis title sit under the cells, so the figure title has the top margin to itself.
 * @throws RangeError when `z` does not have one row per row label and one value per column label.
 * @example heatmapChart({ title: 'Confusion', z: [[90, 10], [5, 95]], x: ['covid', 'other'], y: ['covid', 'other'], xTitle: 'predicted', yTitle: 'true' })
 */
export function heatmapChart(o: HeatmapOptions): Figure {
  checkLength('z', o.z.length, o.y.length, 'row labels');
  o.z.forEach((row, i) => checkLength(`z row ${i}`, row.length, o.x.length, 'column labels'));
  const text = o.text ?? o.z.map((row) => row.map(formatNumber));
  // Room for the labels is set here: plotly's automargin would take it from the cells instead.
  const left = Math.min(460, Math.max(80, 20 + 7.5 * Math.max(...o.y.map((l) => l.length))));
  const bottom = TICK_LABELS_PX + (o.xTitle ? AXIS_TITLE_PX : 0);
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
      xaxis: axis(o.xTitle, { type: 'category', side: 'bottom', showgrid: false, automargin: false, tickangle: 0 }),
      yaxis: axis(o.yTitle, { type: 'category', autorange: 'reversed', showgrid: false, automargin: false }),
      margin: { l: left, r: 30, t: TITLE_MARGIN, b: bottom },
      width: o.width ?? Math.max(560, left + 130 * o.x.length + 150),
      height: o.height ?? Math.max(300, TITLE_MARGIN + bottom + 10 + 30 * o.y.length),
    }),
  };
}
