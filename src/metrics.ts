import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Every Prometheus metric mucgate exposes on `GET /metrics`, on a private
 * registry (custom metrics only: no process collectors, which Bun does not fully
 * support).
 *
 * Counting happens on the join hot path, where a prom-client `inc()` (it hashes
 * its labels on every call, ~400 ns) would cost more than a cached decision.
 * So hot counters are plain numbers (`Tally`) that the registry reads when it
 * is scraped: each prom-client counter's `collect()` adds what was counted
 * since the last scrape.
 */
export type JoinOutcome = "allowed" | "denied" | "conflict" | "error" | "cancelled";
export type DecisionOutcome = "allow" | "deny" | "failure";
export type DecisionSource = "cache" | "coalesced" | "fetch";
export type KickVia = "http" | "xmpp";

const JOIN_OUTCOMES: readonly JoinOutcome[] = ["allowed", "denied", "conflict", "error", "cancelled"];
const DECISION_OUTCOMES: readonly DecisionOutcome[] = ["allow", "deny", "failure"];
const DECISION_SOURCES: readonly DecisionSource[] = ["cache", "coalesced", "fetch"];

/** A counter cheap enough for the hot path; reported at scrape time. */
export class Tally {
  value = 0;
  reported = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

type Children<K extends string> = Record<K, Tally>;

/** A prom-client counter fed from tallies, one per label set. */
function tallied(
  options: { name: string; help: string; labelNames: string[] },
  registers: Registry[],
  labelSets: Record<string, string>[],
): Tally[] {
  const tallies = labelSets.map(() => new Tally());
  new Counter({
    ...options,
    registers,
    collect() {
      labelSets.forEach((labels, i) => {
        const t = tallies[i]!;
        this.inc(labels, t.value - t.reported); // also exports zero series
        t.reported = t.value;
      });
    },
  });
  return tallies;
}

function bind<K extends string>(
  options: { name: string; help: string },
  registers: Registry[],
  label: string,
  values: readonly K[],
): Children<K> {
  const tallies = tallied({ ...options, labelNames: [label] }, registers, values.map((v) => ({ [label]: v })));
  const out = {} as Children<K>;
  values.forEach((v, i) => (out[v] = tallies[i]!));
  return out;
}

export class Metrics {
  readonly registry = new Registry();

  readonly joins: Children<JoinOutcome>;
  /** Decisions handed to joins, by outcome and where they came from. */
  readonly decisions: Record<DecisionSource, Children<DecisionOutcome>>;
  /** HTTP requests actually sent to the auth service, by outcome. */
  readonly authRequests: Children<DecisionOutcome>;
  readonly cache: Children<"hit" | "miss" | "coalesced">;
  readonly authLatency: Histogram<string>;
  readonly authInFlight: Gauge<string>;
  readonly authQueued: Gauge<string>;
  readonly kicks: Children<KickVia>;
  readonly rooms: Gauge<string>;
  readonly occupants: Gauge<string>;
  /** Room events for muc_events_url (README "Events"): queued, delivered, retried attempts, refused (4xx), dropped (queue full). */
  readonly events: Children<"queued" | "delivered" | "retried" | "rejected" | "dropped">;

  constructor() {
    const registers = [this.registry];
    this.joins = bind({ name: "mucgate_joins_total", help: "Room joins by outcome" }, registers, "outcome", JOIN_OUTCOMES);

    const sets = DECISION_SOURCES.flatMap((source) => DECISION_OUTCOMES.map((outcome) => ({ source, outcome })));
    const tallies = tallied(
      {
        name: "mucgate_auth_decisions_total",
        help: "Join authorization decisions by outcome and source (cache hit, coalesced, fresh request)",
        labelNames: ["outcome", "source"],
      },
      registers,
      sets,
    );
    this.decisions = {} as Record<DecisionSource, Children<DecisionOutcome>>;
    sets.forEach(({ source, outcome }, i) => {
      (this.decisions[source] ??= {} as Children<DecisionOutcome>)[outcome] = tallies[i]!;
    });

    this.authRequests = bind(
      { name: "mucgate_auth_requests_total", help: "HTTP requests sent to the authorization service, by outcome" },
      registers,
      "outcome",
      DECISION_OUTCOMES,
    );
    this.cache = bind(
      {
        name: "mucgate_auth_cache_total",
        help: "Decision cache lookups: hit, miss (a request was sent) or coalesced (joined a request in flight)",
      },
      registers,
      "event",
      ["hit", "miss", "coalesced"] as const,
    );

    this.authLatency = new Histogram({
      name: "mucgate_auth_request_duration_seconds",
      help: "Latency of HTTP requests to the authorization service",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.authInFlight = new Gauge({
      name: "mucgate_auth_requests_in_flight",
      help: "HTTP requests to the authorization service in flight",
      registers,
    });
    this.authQueued = new Gauge({
      name: "mucgate_auth_requests_queued",
      help: "HTTP requests to the authorization service waiting for a concurrency slot",
      registers,
    });

    this.kicks = bind({ name: "mucgate_kicks_total", help: "Occupants kicked, by interface" }, registers, "via", [
      "http",
      "xmpp",
    ] as const);

    this.events = bind({ name: "mucgate_events_total", help: "Room events for muc_events_url, by outcome" }, registers, "outcome", [
      "queued",
      "delivered",
      "retried",
      "rejected",
      "dropped",
    ] as const);

    const stats = () => this.#roomStats();
    this.rooms = new Gauge({
      name: "mucgate_rooms",
      help: "Rooms in memory",
      registers,
      collect() {
        this.set(stats().rooms);
      },
    });
    const storage = () => this.#storageStats();
    new Gauge({
      name: "mucgate_storage_failing",
      help: "1 while the last storage commit failed (GET /health answers 503 degraded), else 0",
      registers,
      collect() {
        this.set(storage().failing ? 1 : 0);
      },
    });
    let reportedFailures = 0;
    new Counter({
      name: "mucgate_storage_commit_failures_total",
      help: "Storage commits that failed (the stanzas were sent anyway)",
      registers,
      collect() {
        const failures = storage().failures;
        this.inc(failures - reportedFailures);
        reportedFailures = failures;
      },
    });
    this.occupants = new Gauge({
      name: "mucgate_occupants",
      help: "Occupants (nicknames) in all rooms",
      registers,
      collect() {
        this.set(stats().occupants);
      },
    });
  }

  #roomStats: () => { rooms: number; occupants: number } = () => ({ rooms: 0, occupants: 0 });
  #storageStats: () => { failing: boolean; failures: number } = () => ({ failing: false, failures: 0 });

  /** Where the storage series read from at scrape time. */
  observeStorage(stats: () => { failing: boolean; failures: number }): void {
    this.#storageStats = stats;
  }

  /** Where the room and occupant gauges read from at scrape time. */
  observeRooms(stats: () => { rooms: number; occupants: number }): void {
    this.#roomStats = stats;
  }

  /** Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
