// ECharts, with only the parts the page uses (keeps the bundle small), the SVG renderer (crisp
// at any zoom, and text stays text), and one instance per chart element.

import * as echarts from "echarts/core";
import { BarChart, FunnelChart, LineChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

echarts.use([BarChart, FunnelChart, LineChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export type Option = echarts.EChartsCoreOption;

export const colors = {
  primary: "#2f6fdf",
  weighted: "#1d4ed8",
  open: "#bfd3f6",
  won: "#16a34a",
  lost: "#dc2626",
  neutral: "#64748b",
  p50: "#7aa7f0",
  p90: "#f59e0b",
};

// The page's font, spelled out: ECharts measures label widths on a canvas, where "inherit"
// means nothing, and mismeasured labels overlap or are cut off.
export const font = `system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif`;

const charts = new Map<HTMLElement, echarts.ECharts>();

/**
 * draw shows option in el and resolves once ECharts has finished rendering (animations
 * included), so the page can tell when it is complete.
 */
export function draw(el: HTMLElement, option: Option): Promise<void> {
  el.hidden = false; // before init or resize: ECharts takes the element's size
  let chart = charts.get(el);
  if (!chart) {
    chart = echarts.init(el, undefined, { renderer: "svg" });
    charts.set(el, chart);
  } else {
    chart.resize();
  }
  const c = chart;
  return new Promise((resolve) => {
    // A chart with nothing to animate may render synchronously inside setOption: listen first,
    // and do not wait forever for an event that has already passed.
    const done = () => {
      c.off("finished", done);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, 3000);
    c.on("finished", done);
    c.setOption({ animationDuration: 400, textStyle: { fontFamily: font }, ...option }, true);
  });
}

/** hide clears a chart (an error or no data is shown instead). */
export function hide(el: HTMLElement): void {
  charts.get(el)?.clear();
  el.hidden = true;
}

addEventListener("resize", () => charts.forEach((c) => c.resize()));
