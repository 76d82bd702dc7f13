/**
 * A uPlot time series in a <figure>: resizes with its container, draws threshold lines as dashed
 * series, incidents as shaded bands with their reference and events (deployments) as thin vertical
 * markers with a tooltip. uPlot draws 10,000 points per series in a few milliseconds, which keeps
 * 30 days of 5-minute points fast.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: number[];
  width?: number;
  /** Dots on the values: for sparse series (weekly points) whose gaps would hide lone values. */
  points?: boolean;
}

export interface ChartBand {
  fromMs: number;
  toMs: number;
  label: string;
}

/** A moment drawn as a thin vertical line over the plot (a deployment); `failed` ones in red. */
export interface ChartMarker {
  id: string;
  atMs: number;
  /** The tooltip: what happened then. */
  label: string;
  failed?: boolean;
}

export interface TimeChartProps {
  title: string;
  /** One sentence for screen readers: what the chart shows now. */
  summary: string;
  timesMs: number[];
  series: ChartSeries[];
  bands?: ChartBand[];
  markers?: ChartMarker[];
  yFormat?: (value: number) => string;
  yRange?: [number | null, number | null];
  height?: number;
  testId?: string;
  /** uPlot's legend under the plot (default shown). */
  legend?: boolean;
  /** Words for the marker key under the plot; without them no key is drawn. */
  markerKey?: { normal: string; failed: string };
}

export function TimeChart(props: TimeChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const {
    title,
    summary,
    timesMs,
    series,
    bands,
    markers,
    yFormat,
    yRange,
    height = 220,
    testId,
    legend = true,
    markerKey,
  } = props;

  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const data: uPlot.AlignedData = [timesMs.map((t) => t / 1000), ...series.map((s) => s.values)];
    const format = yFormat ?? ((v: number) => String(v));
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      legend: { show: legend },
      cursor: { drag: { x: true, y: false } },
      scales: {
        x: { time: true },
        y:
          yRange === undefined
            ? { auto: true }
            : {
                range: (_u, min, max) => [yRange[0] ?? min, yRange[1] ?? max],
              },
      },
      axes: [
        { stroke: '#333', grid: { stroke: '#e3e3e3' } },
        {
          stroke: '#333',
          grid: { stroke: '#e3e3e3' },
          size: 70,
          values: (_u, ticks) => ticks.map((v) => format(v)),
        },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 1.5,
          dash: s.dash,
          spanGaps: false,
          points: { show: s.points ?? false, size: 5 },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)),
        })),
      ],
      hooks: {
        drawClear: [
          (u) => {
            if (!bands?.length) return;
            const ctx = u.ctx;
            ctx.save();
            for (const band of bands) {
              const x0 = u.valToPos(band.fromMs / 1000, 'x', true);
              const x1 = u.valToPos(band.toMs / 1000, 'x', true);
              const left = Math.max(x0, u.bbox.left);
              const right = Math.min(x1, u.bbox.left + u.bbox.width);
              if (right <= left) continue;
              ctx.fillStyle = 'rgba(200, 30, 30, 0.12)';
              ctx.fillRect(left, u.bbox.top, Math.max(right - left, 2), u.bbox.height);
              ctx.fillStyle = '#8a1414';
              ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
              ctx.fillText(band.label, left + 4, u.bbox.top + 14 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
        // Markers are elements over the plot rather than canvas strokes, so each has a native
        // tooltip and a test or a person can find it; they move with zoom and resize.
        draw: [(u) => placeMarkers(u, markers ?? [])],
      },
    };
    const chart = new uPlot(opts, data, el);
    const observer = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(el.clientWidth, 200), height }),
    );
    observer.observe(el);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [timesMs, series, bands, markers, yFormat, yRange, height, legend]);

  return (
    <figure className="chart" data-testid={testId} data-markers={markers?.length ?? 0}>
      <figcaption>{title}</figcaption>
      <div ref={holder} role="img" aria-label={`${title}. ${summary}`} />
      {markerKey && markers && markers.length > 0 && (
        // The summary says the same for screen readers.
        <p className="marker-key small muted" aria-hidden="true">
          <span className="marker-swatch" /> {markerKey.normal} <span className="marker-swatch failed" />{' '}
          {markerKey.failed}
        </p>
      )}
    </figure>
  );
}

/** Puts one thin line per marker inside the x range into the plot's overlay, replacing the last ones. */
function placeMarkers(u: uPlot, markers: readonly ChartMarker[]): void {
  const layer = u.over;
  for (const old of layer.querySelectorAll('.chart-marker')) old.remove();
  const min = u.scales.x?.min;
  const max = u.scales.x?.max;
  if (min === undefined || max === undefined || min === null || max === null) return;
  for (const m of markers) {
    const at = m.atMs / 1000;
    if (at < min || at > max) continue;
    const el = document.createElement('div');
    el.className = m.failed ? 'chart-marker failed' : 'chart-marker';
    el.dataset.marker = m.id;
    if (m.failed) el.dataset.failed = 'true';
    el.title = m.label;
    el.style.left = `${u.valToPos(at, 'x')}px`;
    layer.append(el);
  }
}
