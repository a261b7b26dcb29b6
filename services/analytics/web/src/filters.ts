// The page's filters and who it calls as, kept in the URL so that a view can be bookmarked
// and shared (and so that a test can open one): ?tenant=acme&from=2026-01-01&to=2026-03-31&
// period=month&owner=u1&source=web_form&currency=EUR. `to` is the last day included. The
// currency defaults to USD, the pipeline's default currency (and the demo data's).

import { addDays, addMonths, periods, type Period } from "./format";

export interface View {
  tenant: string;
  user: string;
  roles: string;
  from: string; // YYYY-MM-DD, first day
  to: string; // YYYY-MM-DD, last day (inclusive)
  period: Period;
  owners: string[];
  source: string;
  currency: string;
}

/** defaultCurrency is the pipeline service's default currency, which the demo data uses. */
export const defaultCurrency = "USD";

const datePattern = /^\d{4}-\d{2}-\d{2}$/;

/** defaultRange is the last twelve months, this one included. */
function defaultRange(now: Date): { from: string; to: string } {
  const firstOfMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString().slice(0, 10);
  return { from: addMonths(firstOfMonth, -11), to: addDays(addMonths(firstOfMonth, 1), -1) };
}

/** readView reads the view from the query string, with defaults for what is missing. */
export function readView(search: string, now = new Date()): View {
  const q = new URLSearchParams(search);
  const def = defaultRange(now);
  const from = q.get("from") ?? "";
  const to = q.get("to") ?? "";
  const period = (q.get("period") ?? "") as Period;
  return {
    tenant: q.get("tenant") || "acme",
    user: q.get("user") || "dashboard",
    roles: q.get("roles") || "analyst",
    from: datePattern.test(from) ? from : def.from,
    to: datePattern.test(to) ? to : def.to,
    period: periods.includes(period) ? period : "month",
    owners: (q.get("owner") ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    source: q.get("source") ?? "",
    currency: (q.get("currency") || defaultCurrency).toUpperCase(),
  };
}

/** writeView is the query string of a view (defaults for user and roles left out). */
export function writeView(v: View): string {
  const q = new URLSearchParams();
  q.set("tenant", v.tenant);
  if (v.user !== "dashboard") q.set("user", v.user);
  if (v.roles !== "analyst") q.set("roles", v.roles);
  q.set("from", v.from);
  q.set("to", v.to);
  q.set("period", v.period);
  if (v.owners.length) q.set("owner", v.owners.join(","));
  if (v.source) q.set("source", v.source);
  q.set("currency", v.currency);
  return "?" + q.toString();
}

/** fillForm shows a view in the filter form. */
export function fillForm(form: HTMLFormElement, v: View): void {
  const set = (name: string, value: string) => {
    (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value = value;
  };
  set("from", v.from);
  set("to", v.to);
  set("period", v.period);
  set("owner", v.owners.join(", "));
  set("source", v.source);
  set("currency", v.currency);
  set("tenant", v.tenant);
}

/** formView reads the filter form over the current view. */
export function formView(form: HTMLFormElement, current: View): View {
  const get = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value.trim();
  return {
    ...current,
    tenant: get("tenant") || "acme",
    from: get("from"),
    to: get("to"),
    period: get("period") as Period,
    owners: get("owner").split(",").map((s) => s.trim()).filter(Boolean),
    source: get("source"),
    currency: get("currency").toUpperCase(),
  };
}
