// The analytics REST API (the gRPC-gateway in front of crm.analytics.v1.AnalyticsService):
// request fields are query parameters, answers are protojson (int64 as strings, Duration as
// "1.5s", Money as {currencyCode, units, nanos}), errors are google.rpc.Status.

export interface Money {
  currencyCode?: string;
  units?: string;
  nanos?: number;
}

export interface FunnelStep {
  step: string;
  count?: string;
  stepConversion?: number;
  overallConversion?: number;
  medianTime?: string;
  p90Time?: string;
}

export interface FunnelCohort {
  periodStart?: string;
  key?: string;
  steps?: FunnelStep[];
}

export interface StageMetrics {
  pipelineId?: string;
  stageId?: string;
  stageName?: string;
  key?: string;
  entered?: string;
  advanced?: string;
  lost?: string;
  conversion?: number;
  avgTime?: string;
  p50Time?: string;
  p90Time?: string;
}

export interface VelocityRow {
  periodStart?: string;
  key?: string;
  openOpportunities?: string;
  won?: string;
  lost?: string;
  winRate?: number;
  averageDealSize?: Money;
  salesCycleDays?: number;
  velocityPerDay?: Money;
}

export interface ForecastRow {
  periodStart?: string;
  key?: string;
  openOpportunities?: string;
  openAmount?: Money;
  weightedAmount?: Money;
  closedWon?: Money;
}

export interface CampaignPerformance {
  campaignId?: string;
  name?: string;
  channel?: string;
  members?: string;
  sent?: string;
  opened?: string;
  clicked?: string;
  responded?: string;
  converted?: string;
  openRate?: number;
  clickRate?: number;
  responseRate?: number;
  conversionRate?: number;
  cost?: Money;
  leads?: string;
  costPerLead?: Money;
  opportunities?: string;
  costPerOpportunity?: Money;
  influencedPipeline?: Money;
  influencedWon?: Money;
  roi?: number;
  firstTouchWon?: Money;
  lastTouchWon?: Money;
}

export interface StreamStatus {
  stream?: string;
  lastSequence?: string;
  projectedSequence?: string;
  pending?: string;
  lag?: string;
}

export interface FunnelResponse { cohorts?: FunnelCohort[] }
export interface StageMetricsResponse { stages?: StageMetrics[] }
export interface VelocityResponse { rows?: VelocityRow[] }
export interface ForecastResponse { rows?: ForecastRow[] }
export interface CampaignResponse { campaigns?: CampaignPerformance[] }
export interface ProjectionStatusResponse { streams?: StreamStatus[]; rebuilding?: boolean }

/** Who the page calls as: the dev-auth headers the gateway forwards as gRPC metadata. */
export interface Identity {
  tenant: string;
  user: string;
  roles: string;
}

/** ApiError is a failed call, with the server's message and field violations. */
export class ApiError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// google.rpc.Code names, for messages a person can read.
const codeNames: Record<number, string> = {
  1: "Canceled", 2: "Unknown", 3: "InvalidArgument", 4: "DeadlineExceeded", 5: "NotFound",
  6: "AlreadyExists", 7: "PermissionDenied", 8: "ResourceExhausted", 9: "FailedPrecondition",
  10: "Aborted", 11: "OutOfRange", 12: "Unimplemented", 13: "Internal", 14: "Unavailable",
  15: "DataLoss", 16: "Unauthenticated",
};

interface RpcStatus {
  code?: number;
  message?: string;
  details?: { "@type"?: string; fieldViolations?: { field?: string; description?: string }[] }[];
}

function describeStatus(httpStatus: number, body: string): string {
  let st: RpcStatus | undefined;
  try {
    st = JSON.parse(body) as RpcStatus;
  } catch {
    // Not JSON (a proxy's page, or the gateway is not there): show the start of the body.
  }
  if (!st || typeof st !== "object" || (st.code === undefined && st.message === undefined)) {
    const text = body.trim().slice(0, 200);
    return `HTTP ${httpStatus}${text ? ": " + text : ""}`;
  }
  const parts = [`${codeNames[st.code ?? 2] ?? "code " + st.code}: ${st.message ?? ""}`.trim()];
  for (const d of st.details ?? []) {
    for (const v of d.fieldViolations ?? []) {
      parts.push(`${v.field ?? "?"}: ${v.description ?? ""}`);
    }
  }
  return parts.join(" — ");
}

/** Param values: arrays become repeated parameters, empty values are left out. */
export type Params = Record<string, string | string[] | undefined>;

const tokenKey = "evcrm.token";

/**
 * bearerToken is the JWT the page calls with (services running JWT authentication, as the
 * launcher starts them). It arrives once in the address's fragment (#token=..., never sent to a
 * server), is kept in sessionStorage for the tab, and is removed from the address bar so that a
 * bookmarked or shared view does not carry it. Without one, the page sends the development-auth
 * headers only.
 */
export function bearerToken(): string {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    try {
      sessionStorage.setItem(tokenKey, decodeURIComponent(m[1]));
    } catch {
      // storage disabled: the token lives only as long as the fragment
      return decodeURIComponent(m[1]);
    }
    history.replaceState(null, "", location.pathname + location.search);
  }
  try {
    return sessionStorage.getItem(tokenKey) ?? "";
  } catch {
    return "";
  }
}

/** get calls GET path?params as identity and returns the decoded JSON answer. */
export async function get<T>(path: string, params: Params, who: Identity, signal?: AbortSignal): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    for (const one of Array.isArray(v) ? v : [v]) {
      if (one) q.append(k, one);
    }
  }
  const url = q.size ? `${path}?${q}` : path;
  const headers: Record<string, string> = { accept: "application/json", "x-tenant-id": who.tenant };
  if (who.user) headers["x-user-id"] = who.user;
  if (who.roles) headers["x-roles"] = who.roles;
  const token = bearerToken();
  if (token) headers["authorization"] = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(url, { headers, signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError(path, 0, `the analytics service did not answer (${String(e)})`);
  }
  const body = await res.text();
  if (!res.ok) throw new ApiError(path, res.status, describeStatus(res.status, body));
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new ApiError(path, res.status, "the answer is not JSON");
  }
}

/** num turns a protojson int64 (a string) or number into a number (0 when absent). */
export function num(v: string | number | undefined): number {
  if (v === undefined || v === "") return 0;
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** amount is a Money's value in its currency's units. */
export function amount(m: Money | undefined): number {
  if (!m) return 0;
  return num(m.units) + (m.nanos ?? 0) / 1e9;
}

/** seconds parses a protojson Duration ("3.5s"). */
export function seconds(d: string | undefined): number {
  if (!d) return 0;
  const n = Number(d.endsWith("s") ? d.slice(0, -1) : d);
  return Number.isFinite(n) ? n : 0;
}
