/**
 * Prometheus text exposition (format 0.0.4) for glmv's services, kept dependency-free: request counts by route and
 * status, a latency histogram per route, reward timeouts, verifier errors and per-domain item counts. Plain counters in a Map;
 * `renderMetrics` is the only formatting.
 */

/** Latency buckets in seconds: fine below 50 ms (the reward server's p99 target), coarse up to the deadline. */
export const LATENCY_BUCKETS_S = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

type Histogram = { buckets: number[]; sum: number; count: number };

/** Mutable service counters (one per server). */
export type ServiceMetrics = {
  prefix: string;
  requests: Map<string, number>;
  latency: Map<string, Histogram>;
  items: Map<string, number>;
  timeouts: Map<string, number>;
  /** Items whose verifier threw (stage "verifier_error"), by domain: reward-code bugs, not wrong answers. */
  verifierErrors: Map<string, number>;
  inFlight: number;
};

/** New, empty counters; metric names start with `prefix` (e.g. `glmv_reward`). */
export const createMetrics = (prefix: string): ServiceMetrics => ({
  prefix,
  requests: new Map(),
  latency: new Map(),
  items: new Map(),
  timeouts: new Map(),
  verifierErrors: new Map(),
  inFlight: 0,
});

const bump = (m: Map<string, number>, key: string, by = 1) => m.set(key, (m.get(key) ?? 0) + by);

/** Record one finished request. `route` is the route pattern (never the raw URL: unbounded label values). */
export function observeRequest(m: ServiceMetrics, route: string, status: number, seconds: number): void {
  bump(m.requests, `${route}\u0000${status}`);
  let h = m.latency.get(route);
  if (!h) {
    h = { buckets: LATENCY_BUCKETS_S.map(() => 0), sum: 0, count: 0 };
    m.latency.set(route, h);
  }
  for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) if (seconds <= LATENCY_BUCKETS_S[i]!) h.buckets[i]!++;
  h.sum += seconds;
  h.count++;
}

/** Record one scored item of `domain`: whether it timed out, and whether its verifier threw. */
export function observeItem(
  m: ServiceMetrics,
  domain: string,
  timedOut: boolean,
  verifierError = false,
): void {
  bump(m.items, domain);
  if (timedOut) bump(m.timeouts, domain);
  if (verifierError) bump(m.verifierErrors, domain);
}

/** Label values are escaped as the exposition format requires (backslash, quote, newline). */
const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/**
 * Render the counters as Prometheus text.
 * @example
 * const m = createMetrics("glmv_reward"); observeRequest(m, "/healthz", 200, 0.001);
 * renderMetrics(m).includes('glmv_reward_requests_total{route="/healthz",status="200"} 1') // true
 */
export function renderMetrics(m: ServiceMetrics): string {
  const p = m.prefix;
  const out: string[] = [];
  out.push(`# HELP ${p}_requests_total HTTP requests answered, by route and status.`);
  out.push(`# TYPE ${p}_requests_total counter`);
  for (const [key, n] of m.requests) {
    const [route, status] = key.split("\u0000") as [string, string];
    out.push(`${p}_requests_total{route="${esc(route)}",status="${status}"} ${n}`);
  }
  out.push(`# HELP ${p}_request_duration_seconds Time from request received to answer sent.`);
  out.push(`# TYPE ${p}_request_duration_seconds histogram`);
  for (const [route, h] of m.latency) {
    const r = esc(route);
    LATENCY_BUCKETS_S.forEach((le, i) => {
      out.push(`${p}_request_duration_seconds_bucket{route="${r}",le="${le}"} ${h.buckets[i]}`);
    });
    out.push(`${p}_request_duration_seconds_bucket{route="${r}",le="+Inf"} ${h.count}`);
    out.push(`${p}_request_duration_seconds_sum{route="${r}"} ${h.sum}`);
    out.push(`${p}_request_duration_seconds_count{route="${r}"} ${h.count}`);
  }
  out.push(`# HELP ${p}_items_total Items scored, by domain.`);
  out.push(`# TYPE ${p}_items_total counter`);
  for (const [domain, n] of m.items) out.push(`${p}_items_total{domain="${esc(domain)}"} ${n}`);
  out.push(`# HELP ${p}_timeouts_total Items that hit their deadline (reward 0), by domain.`);
  out.push(`# TYPE ${p}_timeouts_total counter`);
  for (const [domain, n] of m.timeouts) out.push(`${p}_timeouts_total{domain="${esc(domain)}"} ${n}`);
  out.push(
    `# HELP ${p}_verifier_errors_total Items whose verifier threw (reward 0, a bug, not a wrong answer), by domain.`,
  );
  out.push(`# TYPE ${p}_verifier_errors_total counter`);
  for (const [domain, n] of m.verifierErrors)
    out.push(`${p}_verifier_errors_total{domain="${esc(domain)}"} ${n}`);
  out.push(`# HELP ${p}_in_flight_requests Requests being handled now.`);
  out.push(`# TYPE ${p}_in_flight_requests gauge`);
  out.push(`${p}_in_flight_requests ${m.inFlight}`);
  return `${out.join("\n")}\n`;
}
