// Formatting for people, and the period arithmetic the page needs.

export type Period = "day" | "week" | "month" | "quarter" | "year";

export const periods: Period[] = ["day", "week", "month", "quarter", "year"];

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** isoDate is the UTC date of a timestamp: 2026-02-01. */
export function isoDate(ts: string | undefined): string {
  return ts ? ts.slice(0, 10) : "";
}

/** periodLabel names the period starting at ts (UTC) the way a report would. */
export function periodLabel(ts: string | undefined, p: Period): string {
  if (!ts) return "";
  const d = new Date(ts);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (p) {
    case "year":
      return String(y);
    case "quarter":
      return `Q${Math.floor(m / 3) + 1} ${y}`;
    case "month":
      return `${months[m]} ${y}`;
    case "week":
      return `wk ${d.getUTCDate()} ${months[m]}`;
    default:
      return `${d.getUTCDate()} ${months[m]}`;
  }
}

/** addDays adds n days to a YYYY-MM-DD date. */
export function addDays(date: string, n: number): string {
  const d = new Date(date + "T00:00:00Z");
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** addMonths adds n months to a YYYY-MM-DD date that is the first of a month or any day. */
export function addMonths(date: string, n: number): string {
  const d = new Date(date + "T00:00:00Z");
  d.setUTCMonth(d.getUTCMonth() + n);
  return d.toISOString().slice(0, 10);
}

/** startOfDayUTC is the RFC 3339 timestamp of midnight UTC at date. */
export function startOfDayUTC(date: string): string {
  return date + "T00:00:00Z";
}

const intFmt = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const oneDec = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });
const pctFmt = new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 1 });

export function int(n: number): string {
  return intFmt.format(n);
}

export function days(n: number): string {
  return `${oneDec.format(n)} d`;
}

export function pct(r: number): string {
  return pctFmt.format(r);
}

const signedPctFmt = new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 0, signDisplay: "exceptZero" });

/** roiPct shows a return ratio (ROI, (won − cost) / cost) as a signed percentage: −1 is "−100%". */
export function roiPct(r: number): string {
  return signedPctFmt.format(r).replace("-", "−");
}

const moneyFmts = new Map<string, Intl.NumberFormat>();

/** money formats an amount; compact (12.3K) for tiles and axes. */
export function money(n: number, currency: string, compact = false): string {
  const key = currency + (compact ? "c" : "");
  let f = moneyFmts.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat("en", {
        style: "currency", currency,
        notation: compact ? "compact" : "standard",
        maximumFractionDigits: compact ? 1 : 0,
      });
    } catch {
      // An unknown code: a plain number with the code after it.
      const plain = new Intl.NumberFormat("en", { notation: compact ? "compact" : "standard", maximumFractionDigits: compact ? 1 : 0 });
      f = { format: (v: number) => `${plain.format(v)} ${currency}` } as Intl.NumberFormat;
    }
    moneyFmts.set(key, f);
  }
  return f.format(n);
}

/** duration formats seconds as the largest sensible unit. */
export function duration(s: number): string {
  if (s < 1) return "0 s";
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${oneDec.format(s / 3600)} h`;
  return days(s / 86400);
}
