// Tiny DOM helpers. Text from the server (campaign names, ids) only ever goes in as text.

type Attrs = Record<string, string | number | boolean | undefined>;
type Child = Node | string | number | null | undefined | false;

/** h builds an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/**
 * A number shown on the page: text for people, and data-metric / data-value for machines (the
 * browser test reads them, and so can anyone scraping the page): the raw value, not the
 * rounded text.
 */
export interface Cell {
  text: string;
  metric?: string;
  value?: number | string;
  cls?: string;
}

export function cell(text: string, metric?: string, value?: number | string, cls?: string): Cell {
  return { text, metric, value, cls };
}

/** td renders a cell. */
export function td(c: Cell | string): HTMLTableCellElement {
  if (typeof c === "string") return h("td", {}, c);
  return h("td", { "data-metric": c.metric, "data-value": c.value === undefined ? undefined : String(c.value), class: c.cls }, c.text);
}

/** table renders a table with a header row. */
export function table(headers: string[], rows: (Cell | string)[][], cls = "data"): HTMLTableElement {
  return h("table", { class: cls },
    h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map(td)))));
}

/** numbers wraps a chart's figures in a collapsed "Numbers" section under the chart. */
export function numbers(t: HTMLElement): HTMLElement {
  return h("details", { class: "numbers" }, h("summary", {}, "Numbers"), t);
}
