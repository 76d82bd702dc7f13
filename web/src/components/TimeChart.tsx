/**
 * A uPlot time series in a <figure>: resizes with its container, draws threshold lines as dashed
 * series and incidents as shaded bands with their reference. uPlot draws 10,000 points per series
 * in a few milliseconds, which keeps 30 days of 5-minute points fast.
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
}

export interface ChartBand {
  fromMs: number;
  toMs: number;
  label: string;
}

export interface TimeChartProps {
  title: string;
  /** One sentence for screen readers: what the chart shows now. */
  summary: string;
  timesMs: number[];
  series: ChartSeries[];
  bands?: ChartBand[];
  yFormat?: (value: number) => string;
  yRange?: [number | null, number | null];
  height?: number;
  testId?: string;
}

export function TimeChart(props: TimeChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const { title, summary, timesMs, series, bands, yFormat, yRange, height = 220, testId } = props;

  useEffect(() => {
    const el = holder.current;
    if (!el) return;
    const data: uPlot.AlignedData = [timesMs.map((t) => t / 1000), ...series.map((s) => s.values)];
    const format = yFormat ?? ((v: number) => String(v));
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height,
      legend: { show: true },
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
          points: { show: false },
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
  }, [timesMs, series, bands, yFormat, yRange, height]);

  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div ref={holder} role="img" aria-label={`${title}. ${summary}`} />
    </figure>
  );
}
