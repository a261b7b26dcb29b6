// The executive dashboard: reads the filters from the URL, calls the analytics REST API
// (same origin, dev-auth headers), and draws every card. Each figure is also in the DOM with
// data-metric / data-value (see dom.ts), and <body data-state> says "loading" or "ready"
// (data-errors counts the cards that failed), so a browser test can wait and read.

import "./style.css";
import {
  amount, ApiError, get, num, seconds,
  type CampaignResponse, type ForecastResponse, type FunnelResponse, type Identity, type Params,
  type ProjectionStatusResponse, type StageMetrics, type StageMetricsResponse, type VelocityResponse, type VelocityRow,
} from "./api";
import { colors, draw, hide } from "./charts";
import { cell, h, numbers, table, type Cell } from "./dom";
import { fillForm, formView, readView, writeView, type View } from "./filters";
import {
  addDays, addMonths, days, duration, int, isoDate, money, pct, periodLabel, roiPct, startOfDayUTC,
} from "./format";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const form = $<HTMLFormElement>("filters");
let view: View = readView(location.search);
fillForm(form, view);

form.addEventListener("submit", (e) => {
  e.preventDefault();
  view = formView(form, view);
  history.replaceState(null, "", writeView(view));
  void load();
});

const identity = (v: View): Identity => ({ tenant: v.tenant, user: v.user, roles: v.roles });

// --- cards ---------------------------------------------------------------------------------

function card(name: string): { el: HTMLElement; body: HTMLElement; chart: HTMLElement | null } {
  const el = document.querySelector<HTMLElement>(`[data-card="${name}"]`)!;
  return { el, body: el.querySelector<HTMLElement>(".body")!, chart: el.querySelector<HTMLElement>(".chart") };
}

/** showError puts a failed call's message where the card's chart would be. */
function showError(name: string, err: unknown): string {
  const c = card(name);
  const msg = err instanceof ApiError ? `${err.path}: ${err.message}` : String(err);
  c.el.dataset.state = "error";
  c.el.querySelectorAll<HTMLElement>(".chart").forEach(hide);
  c.el.querySelectorAll<HTMLElement>(".velocity-inputs").forEach((x) => x.replaceChildren());
  c.body.replaceChildren(h("p", { class: "card-error", role: "alert" }, "Could not load: ", msg));
  return msg;
}

/** showEmpty says so when a card has no data for the filters (rather than an empty chart). */
function showEmpty(name: string, what: string): void {
  const c = card(name);
  c.el.dataset.state = "empty";
  c.el.querySelectorAll<HTMLElement>(".chart").forEach(hide);
  c.body.replaceChildren(h("p", { class: "empty" }, what));
}

function ready(name: string): ReturnType<typeof card> {
  const c = card(name);
  c.el.dataset.state = "ready";
  return c;
}

const stepNames: Record<string, string> = {
  created: "Created", mql: "MQL", sal: "SAL", sql: "SQL", converted: "Converted", won: "Won",
};

const axisMoney = (cur: string) => (v: number) => money(v, cur, true);

// --- funnel --------------------------------------------------------------------------------

interface FunnelTotals { steps: { step: string; count: number; stepRate: number; overall: number }[] }

function funnelTotals(r: FunnelResponse): FunnelTotals {
  // Cohorts (periods) add up: a lead is in exactly one cohort.
  const order: string[] = [];
  const sums = new Map<string, number>();
  for (const c of r.cohorts ?? []) {
    for (const s of c.steps ?? []) {
      if (!sums.has(s.step)) order.push(s.step);
      sums.set(s.step, (sums.get(s.step) ?? 0) + num(s.count));
    }
  }
  const created = sums.get(order[0]) ?? 0;
  let prev = created;
  const steps = order.map((step, i) => {
    const count = sums.get(step) ?? 0;
    const stepRate = i === 0 ? 1 : prev > 0 ? count / prev : 0;
    prev = count;
    return { step, count, stepRate, overall: created > 0 ? count / created : 0 };
  });
  return { steps };
}

function renderFunnel(r: FunnelResponse, v: View): Promise<void> | undefined {
  const t = funnelTotals(r);
  if (!t.steps.length || t.steps[0].count === 0) {
    showEmpty("funnel", "No leads were created in this range with these filters.");
    return;
  }
  const c = ready("funnel");
  const chips = h("ol", { class: "steps" }, ...t.steps.map((s, i) =>
    h("li", {},
      h("span", { class: "step-name" }, stepNames[s.step] ?? s.step),
      h("strong", { "data-metric": `funnel.${s.step}.count`, "data-value": s.count }, int(s.count)),
      i === 0 ? h("span", { class: "rate muted" }, "100%")
        : h("span", { class: "rate", "data-metric": `funnel.${s.step}.step_conversion`, "data-value": s.stepRate, title: "of the previous step" }, pct(s.stepRate)),
    )));
  const rows: Cell[][] = t.steps.map((s) => [
    cell(stepNames[s.step] ?? s.step), cell(int(s.count)), cell(pct(s.stepRate)),
    cell(pct(s.overall), `funnel.${s.step}.overall_conversion`, s.overall)]);
  const cohortRows: Cell[][] = [];
  for (const co of r.cohorts ?? []) {
    const p = isoDate(co.periodStart) + (co.key ? "." + co.key : "");
    for (const s of co.steps ?? []) {
      const sec = seconds(s.medianTime);
      cohortRows.push([cell(periodLabel(co.periodStart, v.period) + (co.key ? " " + co.key : "")), cell(stepNames[s.step] ?? s.step),
        cell(int(num(s.count)), `funnel.${p}.${s.step}.count`, num(s.count)),
        cell(pct(s.stepConversion ?? 0), `funnel.${p}.${s.step}.step_conversion`, s.stepConversion ?? 0),
        cell(duration(sec), `funnel.${p}.${s.step}.median_s`, sec)]);
    }
  }
  c.body.replaceChildren(chips, numbers(h("div", {},
    table(["Step", "Leads", "Step conversion", "Of created"], rows),
    table(["Cohort", "Step", "Leads", "Step conversion", "Median time from previous"], cohortRows))));
  const max = t.steps[0].count;
  return draw(c.chart!, {
    tooltip: { trigger: "item", formatter: (p: { name: string; value: number; dataIndex: number }) =>
      `${p.name}: ${int(p.value)}<br/>${pct(t.steps[p.dataIndex].stepRate)} of previous · ${pct(t.steps[p.dataIndex].overall)} of created` },
    series: [{
      // The labels go to the right of the funnel, two lines each (step and count, then the
      // conversion), so that a narrow segment at the bottom does not cut them off.
      type: "funnel", sort: "none", min: 0, max, minSize: "8%", gap: 3, left: 8, width: "56%", top: 10, bottom: 10,
      label: { position: "right", color: "#0f172a", lineHeight: 16,
        formatter: (p: { name: string; value: number; dataIndex: number }) => {
          const s = t.steps[p.dataIndex];
          const rate = p.dataIndex === 0 ? "leads created" : `${pct(s.stepRate)} of previous · ${pct(s.overall)} of created`;
          return `{name|${p.name}}  {count|${int(p.value)}}\n{rate|${rate}}`;
        },
        rich: {
          name: { fontWeight: 600, fontSize: 13, color: "#0f172a" },
          count: { fontWeight: 700, fontSize: 13, color: "#1d4ed8" },
          rate: { fontSize: 11.5, color: "#64748b" },
        } },
      labelLine: { show: true, length: 12, lineStyle: { color: "#cbd5e1" } },
      itemStyle: { borderWidth: 0 },
      color: ["#1e3a8a", "#1d4ed8", "#2563eb", "#3b82f6", "#60a5fa", colors.won],
      data: t.steps.map((s) => ({ name: stepNames[s.step] ?? s.step, value: s.count })),
    }],
  });
}

// --- stages and time in stage -------------------------------------------------------------

/**
 * builtInStages is the stage order of the pipeline service's built-in pipeline ("default",
 * services/pipeline/internal/domain/pipelinedef Default(): Salesforce's standard sales process),
 * which tenants, the launcher's demo data included, use unless they define their own.
 */
const builtInPipeline = "default";
const builtInStages = ["prospecting", "qualification", "needs_analysis", "value_proposition",
  "identify_decision_makers", "proposal", "negotiation", "closed_won", "closed_lost"];

/**
 * stageOrder orders the stages as well as the page can. The stage-metrics API has no stage
 * order, and the pipeline service that has it is another origin (no CORS), so: the built-in
 * pipeline's stages are in its known order; any other stage (of a pipeline a tenant defined, or
 * one added to the built-in pipeline) comes after, by the opportunities that entered it, most
 * first: deals enter a pipeline's first stage and fewer reach each later one, so for deals that
 * only move forward that is the pipeline's order. On a tie the stage that passed more deals on
 * comes first (a later stage is entered by at most what its predecessor passed on). A
 * pipeline's stages stay together, the busiest pipeline first. The cards say so (stageOrderNote).
 */
function stageOrder(stages: StageMetrics[]): StageMetrics[] {
  const busiest = new Map<string, number>();
  for (const s of stages) {
    const p = s.pipelineId ?? "";
    busiest.set(p, Math.max(busiest.get(p) ?? 0, num(s.entered)));
  }
  const known = (s: StageMetrics) => {
    const i = s.pipelineId === builtInPipeline ? builtInStages.indexOf(s.stageId ?? "") : -1;
    return i < 0 ? builtInStages.length : i;
  };
  return [...stages].sort((a, b) => {
    const pa = a.pipelineId ?? "", pb = b.pipelineId ?? "";
    return (busiest.get(pb) ?? 0) - (busiest.get(pa) ?? 0) || pa.localeCompare(pb) ||
      known(a) - known(b) ||
      num(b.entered) - num(a.entered) || num(b.advanced) - num(a.advanced) ||
      (a.stageName ?? "").localeCompare(b.stageName ?? "");
  });
}

/** stageOrderNote says, under the charts, how the stages were ordered. */
function stageOrderNote(stages: StageMetrics[]): string {
  const guessed = stages.some((s) => s.pipelineId !== builtInPipeline || !builtInStages.includes(s.stageId ?? ""));
  return guessed
    ? "Stage order: the built-in pipeline's stages in its order; other stages by opportunities entered, most first " +
      "(the analytics API has no stage order, so skips and moves back can put a stage out of place)."
    : "Stages in the order of the built-in pipeline.";
}

function stageLabel(s: StageMetrics, manyPipelines: boolean): string {
  const name = s.stageName || s.stageId || "?";
  return manyPipelines ? `${s.pipelineId} · ${name}` : name;
}

function renderStages(r: StageMetricsResponse): Promise<void>[] {
  const stages = stageOrder(r.stages ?? []);
  if (!stages.length) {
    showEmpty("stages", "No opportunity entered a stage in this range.");
    showEmpty("time", "No opportunity left a stage in this range.");
    return [];
  }
  const many = new Set(stages.map((s) => s.pipelineId)).size > 1;
  const labels = stages.map((s) => stageLabel(s, many));
  const key = (s: StageMetrics) => `${s.pipelineId}/${s.stageId}`;

  const c = ready("stages");
  c.body.replaceChildren(numbers(table(["Stage", "Entered", "Advanced", "Lost", "Conversion"], stages.map((s, i) => [
    cell(labels[i]),
    cell(int(num(s.entered)), `stage.${key(s)}.entered`, num(s.entered)),
    cell(int(num(s.advanced)), `stage.${key(s)}.advanced`, num(s.advanced)),
    cell(int(num(s.lost)), `stage.${key(s)}.lost`, num(s.lost)),
    cell(pct(s.conversion ?? 0), `stage.${key(s)}.conversion`, s.conversion ?? 0),
  ]))), h("p", { class: "note stage-order" }, stageOrderNote(stages)));
  c.chart!.hidden = false; // measured for the axis labels below (hidden after an error)
  const labelWidth = Math.max(56, (c.chart!.clientWidth - 90) / labels.length - 6);
  const p1 = draw(c.chart!, {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
    // Every stage's name, wrapped to its category's width rather than overlapping the next.
    xAxis: { type: "category", data: labels,
      axisLabel: { interval: 0, width: labelWidth, overflow: "break", lineHeight: 14 } },
    yAxis: [{ type: "value", minInterval: 1 },
      { type: "value", min: 0, max: 1, axisLabel: { formatter: (x: number) => pct(x) }, splitLine: { show: false } }],
    series: [
      { name: "Entered", type: "bar", data: stages.map((s) => num(s.entered)), color: colors.primary, label: { show: true, position: "top" } },
      { name: "Advanced", type: "bar", data: stages.map((s) => num(s.advanced)), color: colors.won },
      { name: "Lost", type: "bar", data: stages.map((s) => num(s.lost)), color: colors.lost },
      { name: "Conversion", type: "line", yAxisIndex: 1, data: stages.map((s) => s.conversion ?? 0), color: colors.neutral,
        tooltip: { valueFormatter: (x: number) => pct(x) }, label: { show: true, formatter: (p: { value: number }) => pct(p.value), position: "top" } },
    ],
  });

  const t = ready("time");
  const d = (x: string | undefined) => seconds(x) / 86400;
  t.body.replaceChildren(numbers(table(["Stage", "Average", "Median", "90th percentile"], stages.map((s, i) => [
    cell(labels[i]),
    cell(days(d(s.avgTime)), `time.${key(s)}.avg_s`, seconds(s.avgTime)),
    cell(days(d(s.p50Time)), `time.${key(s)}.p50_s`, seconds(s.p50Time)),
    cell(days(d(s.p90Time)), `time.${key(s)}.p90_s`, seconds(s.p90Time)),
  ]))), h("p", { class: "note stage-order" }, stageOrderNote(stages)));
  const p2 = draw(t.chart!, {
    tooltip: { trigger: "axis", valueFormatter: (x: number) => days(x) },
    legend: { top: 0 },
    grid: { left: 8, right: 24, top: 36, bottom: 8, containLabel: true },
    yAxis: { type: "category", data: labels, inverse: true },
    xAxis: { type: "value", axisLabel: { formatter: (x: number) => `${x} d` } },
    series: [
      { name: "Average", type: "bar", data: stages.map((s) => d(s.avgTime)), color: colors.primary,
        label: { show: true, position: "right", formatter: (p: { value: number }) => days(p.value) } },
      { name: "Median", type: "bar", data: stages.map((s) => d(s.p50Time)), color: colors.p50 },
      { name: "90th pct", type: "bar", data: stages.map((s) => d(s.p90Time)), color: colors.p90 },
    ],
  });
  return [p1, p2];
}

// --- forecast ------------------------------------------------------------------------------

function renderForecast(r: ForecastResponse, v: View): Promise<void> | undefined {
  const rows = [...(r.rows ?? [])].sort((a, b) => (a.periodStart ?? "").localeCompare(b.periodStart ?? ""));
  if (!rows.length) {
    showEmpty("forecast", "No open or won opportunity closes in this range.");
    return;
  }
  const c = ready("forecast");
  const cur = v.currency;
  const cells = rows.map((x) => {
    const k = isoDate(x.periodStart) + (x.key ? "." + x.key : "");
    return [cell(periodLabel(x.periodStart, v.period)),
      cell(int(num(x.openOpportunities)), `forecast.${k}.open_opportunities`, num(x.openOpportunities)),
      cell(money(amount(x.openAmount), cur), `forecast.${k}.open_amount`, amount(x.openAmount)),
      cell(money(amount(x.weightedAmount), cur), `forecast.${k}.weighted`, amount(x.weightedAmount)),
      cell(money(amount(x.closedWon), cur), `forecast.${k}.closed_won`, amount(x.closedWon))];
  });
  c.body.replaceChildren(numbers(table(["Close period", "Open deals", "Open amount", "Weighted", "Closed won"], cells)));
  return draw(c.chart!, {
    tooltip: { trigger: "axis", valueFormatter: (x: number) => money(x, cur) },
    legend: { top: 0 },
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: rows.map((x) => periodLabel(x.periodStart, v.period)) },
    yAxis: { type: "value", axisLabel: { formatter: axisMoney(cur) } },
    series: [
      { name: "Open amount", type: "bar", data: rows.map((x) => amount(x.openAmount)), color: colors.open },
      { name: "Weighted", type: "bar", data: rows.map((x) => amount(x.weightedAmount)), color: colors.weighted,
        label: { show: rows.length <= 12, position: "top", formatter: (p: { value: number }) => (p.value ? money(p.value, cur, true) : "") } },
      { name: "Closed won", type: "bar", data: rows.map((x) => amount(x.closedWon)), color: colors.won },
    ],
  });
}

// --- velocity ------------------------------------------------------------------------------

interface Velocity {
  open: number; won: number; lost: number; winRate: number; avgDeal: number; cycle: number; perDay: number; wonAmount: number;
  /** shown is the velocity the page shows: perDay, or with a cycle of one day when the cycle is shorter (floored). */
  shown: number;
  floored: boolean;
}

/**
 * A sales cycle under a day (a deal won minutes or seconds after it was created: an import, a
 * demo) makes open × win rate × deal ÷ cycle explode (billions a day), or 0 when the cycle is 0
 * (the API divides by nothing then). The page shows velocity computed with a cycle of at least
 * minCycleDays and says so; the API's figure stays in data-value and in the tooltips.
 */
const minCycleDays = 1;

function flooredVelocity(open: number, winRate: number, avgDeal: number, cycle: number, won: number, perDay: number): { shown: number; floored: boolean } {
  if (won <= 0 || cycle >= minCycleDays) return { shown: perDay, floored: false };
  return { shown: (open * winRate * avgDeal) / minCycleDays, floored: true };
}

/**
 * velocityTotals combines the periods into the range's figures with the same definitions
 * (docs/analytics.md): rates over every close in the range, the average deal and cycle over
 * every win, and the open opportunities at the end of the last period with a close.
 */
function velocityTotals(r: VelocityResponse): Velocity {
  const rows = [...(r.rows ?? [])].sort((a, b) => (a.periodStart ?? "").localeCompare(b.periodStart ?? ""));
  let won = 0, lost = 0, wonAmount = 0, cycleSum = 0;
  for (const x of rows) {
    const w = num(x.won);
    won += w;
    lost += num(x.lost);
    wonAmount += w * amount(x.averageDealSize);
    cycleSum += w * (x.salesCycleDays ?? 0);
  }
  const last = rows[rows.length - 1];
  const lastStart = last?.periodStart;
  const open = rows.filter((x) => x.periodStart === lastStart).reduce((n, x) => n + num(x.openOpportunities), 0);
  const winRate = won + lost > 0 ? won / (won + lost) : 0;
  const avgDeal = won > 0 ? wonAmount / won : 0;
  const cycle = won > 0 ? cycleSum / won : 0;
  const perDay = cycle > 0 ? (open * winRate * avgDeal) / cycle : 0;
  return { open, won, lost, winRate, avgDeal, cycle, perDay, wonAmount, ...flooredVelocity(open, winRate, avgDeal, cycle, won, perDay) };
}

/** rowVelocity is a period's velocity as shown (floored like the totals). */
function rowVelocity(x: VelocityRow): { shown: number; floored: boolean } {
  return flooredVelocity(num(x.openOpportunities), x.winRate ?? 0, amount(x.averageDealSize), x.salesCycleDays ?? 0,
    num(x.won), amount(x.velocityPerDay));
}

/** cycleText shows a cycle in days, or in hours, minutes or seconds when it is under a day. */
function cycleText(d: number, won: number): string {
  return won > 0 && d < 1 ? duration(d * 86400) : days(d);
}

function renderVelocity(r: VelocityResponse, v: View): Promise<void> | undefined {
  const rows = [...(r.rows ?? [])].sort((a, b) => (a.periodStart ?? "").localeCompare(b.periodStart ?? ""));
  const inputs = $("velocity-inputs");
  if (!rows.length) {
    inputs.replaceChildren();
    showEmpty("velocity", "No opportunity was won or lost in this range.");
    return;
  }
  const c = ready("velocity");
  const cur = v.currency;
  const t = velocityTotals(r);
  const input = (label: string, metric: string, value: number, text: string, op?: string, sub?: string) =>
    h("div", { class: "input" },
      h("span", { class: "label" }, label),
      h("strong", { "data-metric": metric, "data-value": value }, text),
      sub ? h("span", { class: "sub" }, sub) : null,
      op ? h("span", { class: "op", "aria-hidden": "true" }, op) : null);
  const apiFigure = (perDay: number, cycle: number) => cycle > 0
    ? `with the actual cycle: ${money(perDay, cur, true)} / day` : "the API's figure is 0, as it does not divide by a cycle of 0";
  inputs.replaceChildren(
    input("Open opportunities", "velocity.open_opportunities", t.open, int(t.open), "×"),
    input(`Win rate (${int(t.won)} won, ${int(t.lost)} lost)`, "velocity.win_rate", t.winRate, pct(t.winRate), "×"),
    input("Average deal size", "velocity.average_deal_size", t.avgDeal, money(t.avgDeal, cur), "÷"),
    input("Sales cycle", "velocity.sales_cycle_days", t.cycle, cycleText(t.cycle, t.won), "=",
      t.floored ? `counted as ${minCycleDays} d` : undefined),
    h("div", { class: "input result", title: t.floored ? `Computed with a ${minCycleDays}-day cycle: ${apiFigure(t.perDay, t.cycle)}.` : undefined },
      h("span", { class: "label" }, "Velocity"),
      // data-value is the definition's figure (the API's), the text the one shown.
      h("strong", { "data-metric": "velocity.per_day", "data-value": t.perDay, "data-shown": t.shown }, money(t.shown, cur) + " / day"),
      t.floored ? h("span", { class: "sub" }, `with a ${minCycleDays}-day cycle`) : null),
  );
  inputs.append(h("span", { hidden: true, "data-metric": "velocity.won", "data-value": t.won }),
    h("span", { hidden: true, "data-metric": "velocity.lost", "data-value": t.lost }));
  const shown = rows.map(rowVelocity);
  const anyFloored = t.floored || shown.some((x) => x.floored);
  c.body.replaceChildren(numbers(table(["Close period", "Open", "Won", "Lost", "Win rate", "Average deal", "Cycle", "Velocity / day"],
    rows.map((x, i) => {
      const k = isoDate(x.periodStart) + (x.key ? "." + x.key : "");
      const w = num(x.won);
      return [cell(periodLabel(x.periodStart, v.period)),
        cell(int(num(x.openOpportunities)), `velocity.${k}.open_opportunities`, num(x.openOpportunities)),
        cell(int(w), `velocity.${k}.won`, w),
        cell(int(num(x.lost)), `velocity.${k}.lost`, num(x.lost)),
        cell(pct(x.winRate ?? 0), `velocity.${k}.win_rate`, x.winRate ?? 0),
        cell(money(amount(x.averageDealSize), cur), `velocity.${k}.average_deal_size`, amount(x.averageDealSize)),
        cell(cycleText(x.salesCycleDays ?? 0, w), `velocity.${k}.sales_cycle_days`, x.salesCycleDays ?? 0),
        cell(money(shown[i].shown, cur) + (shown[i].floored ? " *" : ""), `velocity.${k}.per_day`, amount(x.velocityPerDay))];
    }))), ...(anyFloored
    ? [h("p", { class: "note velocity-floor" }, `* Sales cycle under a day: velocity is shown with a ${minCycleDays}-day cycle, as a deal won minutes ` +
        `after its creation would make it explode. For the whole range, ${apiFigure(t.perDay, t.cycle)}.`)]
    : []));
  return draw(c.chart!, {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: rows.map((x) => periodLabel(x.periodStart, v.period)) },
    yAxis: [{ type: "value", minInterval: 1 },
      { type: "value", axisLabel: { formatter: axisMoney(cur) }, splitLine: { show: false } }],
    series: [
      { name: "Won deals", type: "bar", stack: "closed", data: rows.map((x) => num(x.won)), color: colors.won },
      { name: "Lost deals", type: "bar", stack: "closed", data: rows.map((x) => num(x.lost)), color: colors.lost },
      { name: "Velocity / day", type: "line", yAxisIndex: 1, data: shown.map((x) => x.shown), color: colors.primary,
        tooltip: { valueFormatter: (x: number) => money(x, cur) + (anyFloored ? " (cycle ≥ 1 d)" : "") } },
    ],
  });
}

// --- campaigns -----------------------------------------------------------------------------

function renderCampaigns(r: CampaignResponse, v: View): void {
  const list = [...(r.campaigns ?? [])].sort((a, b) =>
    amount(b.influencedWon) - amount(a.influencedWon) || (a.name ?? "").localeCompare(b.name ?? ""));
  if (!list.length) {
    showEmpty("campaigns", "No campaign had members or costs in this range.");
    return;
  }
  const c = ready("campaigns");
  const cur = v.currency;
  const m = (x: Parameters<typeof amount>[0]) => amount(x);
  const rows: Cell[][] = list.map((x) => {
    const k = `campaign.${x.campaignId}`;
    const roi = x.roi ?? 0;
    return [
      cell(x.name || x.campaignId || "", `${k}.name`, x.name ?? ""),
      cell(int(num(x.members)), `${k}.members`, num(x.members)),
      cell(int(num(x.sent)), `${k}.sent`, num(x.sent)),
      cell(pct(x.openRate ?? 0), `${k}.open_rate`, x.openRate ?? 0),
      cell(pct(x.clickRate ?? 0), `${k}.click_rate`, x.clickRate ?? 0),
      cell(pct(x.responseRate ?? 0), `${k}.response_rate`, x.responseRate ?? 0),
      cell(pct(x.conversionRate ?? 0), `${k}.conversion_rate`, x.conversionRate ?? 0),
      cell(money(m(x.cost), cur), `${k}.cost`, m(x.cost)),
      cell(int(num(x.leads)), `${k}.leads`, num(x.leads)),
      cell(num(x.leads) ? money(m(x.costPerLead), cur) : "–", `${k}.cost_per_lead`, m(x.costPerLead)),
      cell(int(num(x.opportunities)), `${k}.opportunities`, num(x.opportunities)),
      cell(money(m(x.influencedPipeline), cur), `${k}.influenced_pipeline`, m(x.influencedPipeline)),
      cell(money(m(x.influencedWon), cur), `${k}.influenced_won`, m(x.influencedWon)),
      // ROI is a ratio ((influenced won − cost) / cost, docs/analytics.md): shown as a percentage
      // (−1 is −100%: nothing won back), data-value keeps the ratio.
      cell(m(x.cost) ? roiPct(roi) : "–", `${k}.roi`, roi, !m(x.cost) ? "muted" : roi < 0 ? "neg" : "pos"),
      cell(money(m(x.firstTouchWon), cur), `${k}.first_touch_won`, m(x.firstTouchWon)),
      cell(money(m(x.lastTouchWon), cur), `${k}.last_touch_won`, m(x.lastTouchWon)),
    ];
  });
  const cost = list.reduce((s, x) => s + m(x.cost), 0);
  const first = list.reduce((s, x) => s + m(x.firstTouchWon), 0);
  const last = list.reduce((s, x) => s + m(x.lastTouchWon), 0);
  const leads = list.reduce((s, x) => s + num(x.leads), 0);
  rows.push([cell("All campaigns"),
    cell(int(list.reduce((s, x) => s + num(x.members), 0)), "campaign.total.members", list.reduce((s, x) => s + num(x.members), 0)),
    cell(""), cell(""), cell(""), cell(""), cell(""),
    cell(money(cost, cur), "campaign.total.cost", cost),
    cell(int(leads), "campaign.total.leads", leads),
    cell(leads ? money(cost / leads, cur) : "–", "campaign.total.cost_per_lead", leads ? cost / leads : 0),
    // Influenced revenue is left out: one deal influences every campaign its people were in.
    // Touch attribution credits each won deal to one campaign, so it adds up.
    cell(""), cell(""), cell(""), cell(""),
    cell(money(first, cur), "campaign.total.first_touch_won", first),
    cell(money(last, cur), "campaign.total.last_touch_won", last)]);
  // Compact columns: the channel goes under the campaign's name, and a header row of groups
  // lets the column headers be short, so that the table fits its card at 1440 px (and
  // scrolls inside the card, not the page, when narrower).
  const t = table(["Campaign", "Members", "Sent", "Open", "Click", "Response", "Conversion", "Cost", "Leads", "Per lead",
    "Opps", "Pipeline", "Won", "ROI", "First touch", "Last touch"], rows, "data campaigns");
  const groups: [string, number, string?][] = [["", 2], ["Engagement (of members)", 5], ["Cost and leads", 4],
    ["Influenced", 3, "opportunities whose lead or contact was a member before the opportunity was created; ROI = (won − cost) / cost"],
    ["Won, attributed", 2, "won revenue credited to the first / last campaign touch"]];
  t.tHead!.prepend(h("tr", { class: "groups" }, ...groups.map(([label, span, title]) =>
    h("th", { colspan: span, scope: "colgroup", title, class: label ? "group" : undefined }, label))));
  t.tBodies[0].querySelectorAll("tr").forEach((tr, i) => {
    const ch = list[i]?.channel;
    if (ch) tr.cells[0].append(h("span", { class: "channel" }, ch.replace(/_/g, " ")));
  });
  t.querySelector("tbody tr:last-child")?.classList.add("total");
  c.body.replaceChildren(h("div", { class: "scroll" }, t),
    h("p", { class: "note" }, "Influenced: opportunities whose lead or contact was a member before the opportunity was created; ",
      "ROI = (influenced won − cost) / cost, as a percentage (−100%: nothing won back). ",
      "First / last touch: won revenue credited to the first / last campaign touch before it."));
}

// --- projection status ---------------------------------------------------------------------

function renderProjection(r: ProjectionStatusResponse): void {
  const c = ready("projection");
  const streams = r.streams ?? [];
  const pending = streams.reduce((n, s) => n + num(s.pending), 0);
  const lag = Math.max(0, ...streams.map((s) => seconds(s.lag)));
  const state = r.rebuilding ? "rebuilding" : pending > 0 ? "behind" : "current";
  const text = r.rebuilding ? "Rebuilding the analytics tables" : pending > 0
    ? `${int(pending)} events behind · lag ${duration(lag)}` : "Up to date";
  const badge = $("projection-badge");
  badge.dataset.value = state;
  badge.className = `status ${state}`;
  badge.textContent = `Projection: ${text}`;
  c.body.replaceChildren(
    h("p", { class: `freshness ${state}`, "data-metric": "projection.pending", "data-value": pending }, text),
    table(["Stream", "Projected", "Last event", "Pending", "Lag"], streams.map((s) => {
      const k = `projection.${s.stream}`;
      return [cell(s.stream ?? ""),
        cell(int(num(s.projectedSequence)), `${k}.projected_sequence`, num(s.projectedSequence)),
        cell(int(num(s.lastSequence)), `${k}.last_sequence`, num(s.lastSequence)),
        cell(int(num(s.pending)), `${k}.pending`, num(s.pending)),
        cell(duration(seconds(s.lag)), `${k}.lag_s`, seconds(s.lag))];
    })));
}

// --- KPI tiles ----------------------------------------------------------------------------

function tile(label: string, metric: string, value: number | undefined, text: string, sub = ""): HTMLElement {
  return h("div", { class: value === undefined ? "tile unavailable" : "tile", "data-metric": metric, "data-value": value },
    h("span", { class: "label" }, label), h("strong", {}, value === undefined ? "–" : text), h("span", { class: "sub" }, sub));
}

function renderKPIs(f?: FunnelResponse, vel?: VelocityResponse, fc?: ForecastResponse, v?: View): void {
  const cur = v!.currency;
  const ft = f ? funnelTotals(f) : undefined;
  const created = ft?.steps.find((s) => s.step === "created")?.count;
  const won = ft?.steps.find((s) => s.step === "won");
  const vt = vel ? velocityTotals(vel) : undefined;
  const weighted = fc ? (fc.rows ?? []).reduce((s, x) => s + amount(x.weightedAmount), 0) : undefined;
  const openAmt = fc ? (fc.rows ?? []).reduce((s, x) => s + amount(x.openAmount), 0) : undefined;
  $("kpis").replaceChildren(
    tile("Leads created", "kpi.leads_created", created, int(created ?? 0), "in the range"),
    tile("Lead → won", "kpi.lead_to_won", won?.overall, pct(won?.overall ?? 0), won ? `${int(won.count)} of ${int(created ?? 0)} leads` : ""),
    tile("Weighted pipeline", "kpi.weighted_pipeline", weighted, money(weighted ?? 0, cur, true),
      openAmt !== undefined ? `of ${money(openAmt, cur, true)} open` : ""),
    tile("Won revenue", "kpi.won_revenue", vt?.wonAmount, money(vt?.wonAmount ?? 0, cur, true), vt ? `${int(vt.won)} ${vt.won === 1 ? "deal" : "deals"}` : ""),
    tile("Win rate", "kpi.win_rate", vt?.winRate, pct(vt?.winRate ?? 0), vt ? `${int(vt.won)} won · ${int(vt.lost)} lost` : ""),
    tile("Sales velocity", "kpi.velocity_per_day", vt?.perDay, money(vt?.shown ?? 0, cur, true) + "/day",
      vt?.floored ? `per day, with a ${minCycleDays}-day cycle (actual: ${cycleText(vt.cycle, vt.won)})` : "expected revenue per day"),
  );
}

// --- loading ------------------------------------------------------------------------------

let inflight: AbortController | undefined;

async function load(): Promise<void> {
  inflight?.abort();
  const ctl = new AbortController();
  inflight = ctl;
  const v = view;
  document.body.dataset.state = "loading";
  const who = identity(v);
  const to = addDays(v.to, 1); // the API's ranges are half-open
  const range: Params = { "range.from": startOfDayUTC(v.from), "range.to": startOfDayUTC(to) };
  const filters: Params = { "filters.sources": v.source ? [v.source] : [], "filters.ownerIds": v.owners };
  const period = "PERIOD_" + v.period.toUpperCase();
  // The forecast looks ahead: expected close dates from the start of the range to six months
  // after its end, so the coming quarter's deals are on the chart.
  const fcTo = addMonths(to, 6);
  $("forecast-range").textContent = `by expected close, ${v.from} to ${addDays(fcTo, -1)}`;
  $("subtitle").textContent = [`Tenant ${v.tenant}`, `${v.from} – ${v.to}`, `by ${v.period}`,
    v.owners.length ? `owner ${v.owners.join(", ")}` : "all owners", v.source ? `source ${v.source}` : "all sources", v.currency].join(" · ");

  const [funnel, stages, velocity, forecast, campaigns, status] = await Promise.allSettled([
    get<FunnelResponse>("/v1/analytics/funnel", { ...range, period, ...filters }, who, ctl.signal),
    get<StageMetricsResponse>("/v1/analytics/stage-metrics", { ...range, ...filters }, who, ctl.signal),
    get<VelocityResponse>("/v1/analytics/sales-velocity", { ...range, period, ...filters, currency: v.currency }, who, ctl.signal),
    get<ForecastResponse>("/v1/analytics/forecast", { "range.from": startOfDayUTC(v.from), "range.to": startOfDayUTC(fcTo), period, ...filters, currency: v.currency }, who, ctl.signal),
    get<CampaignResponse>("/v1/analytics/campaign-performance", { ...range, currency: v.currency }, who, ctl.signal),
    get<ProjectionStatusResponse>("/v1/analytics/projection-status", {}, who, ctl.signal),
  ]);
  if (ctl.signal.aborted) return;

  const errors: string[] = [];
  const drawn: (Promise<void> | undefined)[] = [];
  const run = <T>(name: string, r: PromiseSettledResult<T>, render: (x: T) => void) => {
    if (r.status === "rejected") {
      errors.push(showError(name, r.reason));
      return;
    }
    try {
      render(r.value);
    } catch (e) {
      errors.push(showError(name, e));
    }
  };
  run("funnel", funnel, (x) => drawn.push(renderFunnel(x, v)));
  if (stages.status === "rejected") {
    errors.push(showError("stages", stages.reason));
    showError("time", stages.reason);
  } else {
    drawn.push(...renderStages(stages.value));
  }
  run("forecast", forecast, (x) => drawn.push(renderForecast(x, v)));
  run("velocity", velocity, (x) => drawn.push(renderVelocity(x, v)));
  run("campaigns", campaigns, (x) => renderCampaigns(x, v));
  run("projection", status, renderProjection);
  if (status.status === "rejected") {
    const badge = $("projection-badge");
    badge.className = "status error";
    badge.dataset.value = "error";
    badge.textContent = "Projection: unknown";
  }
  const ok = <T>(r: PromiseSettledResult<T>) => (r.status === "fulfilled" ? r.value : undefined);
  renderKPIs(ok(funnel), ok(velocity), ok(forecast), v);

  const banner = $("errors");
  banner.hidden = errors.length === 0;
  banner.replaceChildren(...errors.map((e) => h("p", {}, e)));
  await Promise.all(drawn);
  if (ctl.signal.aborted) return;
  document.body.dataset.errors = String(errors.length);
  document.body.dataset.state = "ready";
}

// The projection badge follows the projector between reloads of the rest.
setInterval(async () => {
  if (document.body.dataset.state !== "ready" || document.hidden) return;
  try {
    renderProjection(await get<ProjectionStatusResponse>("/v1/analytics/projection-status", {}, identity(view)));
  } catch {
    // The next full load shows the error; a failed refresh keeps the last answer.
  }
}, 15000);

void load();
