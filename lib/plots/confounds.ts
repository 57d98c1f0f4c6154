/**
 * The confound figure: for each value of a property that is not the image's content (a source, an age
 * group), the share of each class among its images. A bar that is one colour end to end is a value only one
 * class has — a shortcut a network can take instead of reading the lungs.
 */
import { axis, axisKey, baseLayout, DEFAULT_SIZE, domain, escapeText, panelTitle, seriesColour, TITLE_MARGIN, type Figure, type Trace } from './figure';

/** One panel: a property and its cross-table, value → images per class (e.g. a row of `auditConfounds`). */
export interface SharePanel {
  property: string;
  table: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** Options of {@link classShareChart}. */
export interface ClassShareOptions {
  title: string;
  /** Panels, stacked top to bottom; each gets height in proportion to its number of values. */
  panels: readonly SharePanel[];
  /** Classes in stacking order (colours from the class palette). */
  classes: readonly string[];
  width?: number;
}

/** Height in CSS pixels of one bar row, and of the gap (with the panel title) between panels. */
const ROW = 34;
const GAP = 56;

/**
 * Horizontal 100 % stacked bars: one bar per property value (labelled with its image count), one segment per
 * class, one panel per property. Hover shows the count behind each share.
 * @throws RangeError when there is no panel, or a panel has no value
 * @example classShareChart({ title: 'Class share', classes: ['covid', 'viral', 'normal'], panels: audit.rows.filter((r) => r.property === 'source') })
 */
export function classShareChart(o: ClassShareOptions): Figure {
  if (o.panels.length === 0) throw new RangeError('class share chart: no panel');
  for (const p of o.panels) if (Object.keys(p.table).length === 0) throw new RangeError(`class share chart: panel '${p.property}' has no value`);
  const rows = o.panels.map((p) => Object.keys(p.table).length);
  const plotHeight = ROW * rows.reduce((a, b) => a + b, 0) + GAP * o.panels.length;
  const height = plotHeight + TITLE_MARGIN + 70;
  const data: Trace[] = [];
  const axes: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  let top = 1;
  o.panels.forEach((panel, k) => {
    // Reversed so that the first (largest) value is at the top: plotly draws category axes bottom-up.
    const values = Object.keys(panel.table).reverse();
    const totals = values.map((v) => o.classes.reduce((a, c) => a + (panel.table[v][c] ?? 0), 0));
    const labels = values.map((v, i) => escapeText(`${v} (${totals[i]})`));
    // Each panel: its title in a GAP-high band, then one ROW per value.
    const yHi = top - GAP / plotHeight;
    const yDomain = domain(yHi - (ROW * rows[k]) / plotHeight, yHi);
    const xDomain = domain(0, 1);
    const ref = k === 0 ? '' : String(k + 1);
    o.classes.forEach((c, ci) => {
      const counts = values.map((v) => panel.table[v][c] ?? 0);
      const share = counts.map((n, i) => (totals[i] ? (100 * n) / totals[i] : 0));
      data.push({
        type: 'bar',
        orientation: 'h',
        name: c,
        legendgroup: c,
        showlegend: k === 0,
        x: share.map((s) => Math.round(s * 10) / 10),
        y: labels,
        customdata: counts,
        hovertemplate: `${escapeText(c)}: %{x:.1f} %% (%{customdata} images)<extra>%{y}</extra>`,
        marker: { color: seriesColour(c, ci) },
        xaxis: `x${ref}`,
        yaxis: `y${ref}`,
      });
    });
    axes[axisKey('xaxis', k)] = axis(k === o.panels.length - 1 ? '% of the value’s images' : undefined, {
      domain: xDomain, anchor: `y${ref}`, range: [0, 100], ...(k > 0 ? { matches: 'x' } : {}),
    });
    axes[axisKey('yaxis', k)] = axis(undefined, { domain: yDomain, anchor: `x${ref}`, type: 'category', automargin: true, showgrid: false });
    annotations.push(panelTitle(panel.property, xDomain, yDomain));
    top = yHi - (ROW * rows[k]) / plotHeight;
  });
  return {
    data,
    layout: baseLayout(o.title, {
      ...axes,
      barmode: 'stack',
      annotations,
      legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1, yanchor: 'bottom', bgcolor: 'rgba(255,255,255,0.8)' },
      width: o.width ?? Math.max(DEFAULT_SIZE.width, 900),
      height,
    }),
  };
}
