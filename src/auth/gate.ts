import { LRUCache } from "lru-cache";
import pLimit, { type LimitFunction } from "p-limit";
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import { Metrics, type DecisionSource } from "../metrics.ts";
import type { AuthAsker } from "./auth-client.ts";
import type { Policy } from "./policy.ts";
import { QuestionBudget } from "./question-budget.ts";
import { outcomeOf, type AuthAnswer, type AuthQuestion, type Decision, type JoinAuthorizer } from "./types.ts";

export interface GateOptions {
  /** Asks the authorization service one question (normally an `AuthClient`). */
  readonly client: AuthAsker;
  /** `must_be_authorized`, from `compilePolicy`. */
  readonly policy: Policy;
  /** Seconds an `allowed: true` decision is reused (`muc_http_auth_cache_ttl`); 0 = not cached. */
  readonly ttl: number;
  /** Seconds an `allowed: false` decision is reused (`muc_http_auth_negative_cache_ttl`); 0 = not cached. */
  readonly negativeTtl: number;
  /** Most decisions kept, in-flight questions included (`muc_http_auth_cache_size`). */
  readonly max: number;
  /** Most requests in flight toward the service (`muc_http_auth_max_concurrency`); the rest wait, FIFO. */
  readonly maxConcurrency: number;
  /** Clock in milliseconds for TTLs (default `performance`); tests inject one. */
  readonly perf?: { now(): number } | undefined;
  /** `muc_http_auth_max_requests_per_user`: new questions per user per minute; undefined: no limit. */
  readonly maxQuestionsPerUser?: number | undefined;
  readonly metrics?: Metrics | undefined;
  readonly logger?: Logger | undefined;
}

/** What `forget` drops: a user's decisions, a room's, one user's in one room, or (neither) all. */
export interface ForgetTarget {
  readonly userJID?: string | undefined;
  readonly mucJID?: string | undefined;
}

/**
 * Separates the three parts of a cache key. NUL cannot occur in XML 1.0 (§2.2),
 * so no JID or nickname that arrived in a stanza contains it; questions that do
 * anyway are refused before they could be cached (see `#miss`), so every cached
 * key has exactly two separators and no two questions share a key.
 */
const SEP = "\u0000";

/**
 * What a hit hands out: the cached Decision itself, frozen, so a hit allocates
 * nothing. Every allow is the same object; a denial carries its own reason.
 */
/** Refused without asking (README "Limits"); a failure, so never cached. */
const LIMITED: Decision = Object.freeze({ allowed: false, failure: true, reason: "over muc_http_auth_max_requests_per_user", source: "fetch", limited: true });

const CACHED_ALLOW: Decision = Object.freeze({ allowed: true, failure: false, reason: "", source: "cache" });

/**
 * Rejection value that carries an answer which must not be stored (a failure,
 * or a kind whose TTL is 0) to every caller waiting on that one request: on a
 * rejected fetch lru-cache deletes the key and rethrows the same value to each
 * waiter of the shared promise.
 */
class Uncached {
  constructor(readonly answer: AuthAnswer) {}
}

/** The leader's question, also the identity of one request in `#inFlight`. */
class Pending {
  constructor(readonly question: AuthQuestion) {}
}

function failureAnswer(reason: string): AuthAnswer {
  return { allowed: false, failure: true, reason };
}

/** A stored decision as the answer it was made from (only allows and denials are stored). */
function answerOf(d: Decision): AuthAnswer {
  return d.allowed ? { allowed: true, standing: d.standing } : { allowed: false, failure: false, reason: d.reason };
}

function reasonOf(a: AuthAnswer): string {
  return a.allowed ? "" : a.reason;
}

function positiveInteger(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new TypeError(`${name}: must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** Seconds (≥ 0, finite) to lru-cache milliseconds; 0 stays 0 (= do not cache). */
function ttlMs(name: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new TypeError(`${name}: must be a number of seconds ≥ 0, got ${String(v)}`);
  }
  return Math.ceil(v * 1000);
}

/**
 * The join gate (mod_muc_http_auth's check, XEP-0045 §7.2 join path): decides
 * whether a user may enter a room by asking the authorization service, and
 * remembers the decision.
 *
 * - Decisions are cached per exact (userJID, mucJID, nickname), parts already
 *   normalised by the caller (see `AuthQuestion`): allow for `ttl`, deny for
 *   `negativeTtl`; failures are never cached.
 * - Concurrent identical questions share one request: lru-cache's `fetch()` keeps
 *   the in-flight promise in the cache slot and hands it to every later caller.
 * - At most `maxConcurrency` requests are in flight (p-limit, FIFO queue).
 * - `decide` returns the Decision itself on a cache hit (no promise, no
 *   allocation but the key string, no logging) and a promise otherwise; it
 *   never rejects.
 */
export class Gate implements JoinAuthorizer {
  readonly #client: AuthAsker;
  readonly #policy: Policy;
  readonly #ttlMs: number;
  readonly #negativeTtlMs: number;
  readonly #limit: LimitFunction;
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  readonly #cache: LRUCache<string, Decision, Pending>;
  /** Shared options for the hot-path `get`, so lru-cache's default `{}` is not allocated per call. */
  readonly #getOptions: LRUCache.GetOptions<string, Decision, Pending> = {};
  /**
   * Requests in flight, by key: `forget` drops these too, so an answer to a
   * question asked before a `forget` is handed to its waiters but not stored.
   */
  readonly #inFlight = new Map<string, Pending>();
  readonly #budget: QuestionBudget | undefined;

  constructor(options: GateOptions) {
    const { client, policy, perf } = options;
    if (client === null || typeof client !== "object" || typeof client.ask !== "function") {
      throw new TypeError("client: must have an ask(question) method");
    }
    if (typeof policy !== "function") throw new TypeError("policy: must be a function (see compilePolicy)");
    this.#ttlMs = ttlMs("ttl", options.ttl);
    this.#negativeTtlMs = ttlMs("negativeTtl", options.negativeTtl);
    const max = positiveInteger("max", options.max);
    this.#limit = pLimit(positiveInteger("maxConcurrency", options.maxConcurrency));
    if (perf !== undefined && (perf === null || typeof perf.now !== "function")) {
      throw new TypeError("perf: must have a now() method returning milliseconds");
    }
    this.#client = client;
    this.#policy = policy;
    this.#metrics = options.metrics ?? new Metrics();
    this.#budget = options.maxQuestionsPerUser === undefined ? undefined : new QuestionBudget(options.maxQuestionsPerUser, perf ? () => perf.now() : undefined);
    this.#logger = options.logger ?? silentLogger;

    this.#cache = new LRUCache<string, Decision, Pending>({
      max,
      // lru-cache reads a start time of 0 as "no TTL": shift an injected clock
      // that starts at 0 by 1 ms (durations, hence expiry, are unchanged). And
      // its default ttlResolution caches "now" for 1 ms of real time, which
      // would hide an injected clock's jumps: read such a clock every time.
      ...(perf ? { perf: { now: () => perf.now() + 1 }, ttlResolution: 0 } : {}),
      // forget() or eviction while a request is in flight must not cut its
      // waiters off: they still get the answer; lru-cache just does not store it.
      ignoreFetchAbort: true,
      fetchMethod: (key, _stale, { options: setOptions, context }) => this.#fetchEntry(key, setOptions, context),
    });
  }

  mustAuthorize(roomNode: string, userHost: string): boolean {
    return this.#policy(roomNode, userHost);
  }

  decide(q: AuthQuestion): Decision | Promise<Decision> {
    const key = q.userJID + SEP + q.mucJID + SEP + q.nickname;
    // A pending fetch is stored in the same slot, but `get` never returns it:
    // it returns the stale value a refresh would replace, and there is none
    // (expired entries are dropped here, below, before a new fetch starts).
    // So anything `get` returns is a settled, fresh Decision.
    const cached = this.#cache.get(key, this.#getOptions);
    if (cached !== undefined) {
      const m = this.#metrics;
      m.cache.hit.inc();
      (cached.allowed ? m.decisions.cache.allow : m.decisions.cache.deny).inc();
      return cached;
    }
    // Only a question that would start a request spends the budget; joining one in flight is free.
    if (this.#budget && !this.#inFlight.has(key) && !this.#budget.take(q.userJID)) return LIMITED;
    return this.#miss(key, q);
  }

  /**
   * Drop cached decisions: a user's (`userJID`), a room's (`mucJID`), one user's
   * in one room (both), or every one (neither). Matching requests in flight are
   * dropped too: their waiters still get the answer, but it is not stored.
   * Returns how many cached (settled, unexpired) decisions were dropped.
   *
   * Cost: one pass over the keys (≈ 10 ms for 100,000 decisions). forget is a
   * rare administrative call; indexes to avoid the pass cost ≈ 380 bytes per
   * cached decision, more than the decision itself (bench/memory.bench.ts).
   */
  forget(target: ForgetTarget = {}): number {
    const { userJID, mucJID } = target;
    if (userJID === undefined && mucJID === undefined) {
      let n = 0;
      for (const _ of this.#cache.keys()) n++; // keys() skips stale entries and requests in flight
      this.#cache.clear();
      this.#inFlight.clear();
      return n;
    }
    // A key is exactly "user SEP room SEP nick" (SEP never occurs inside a part).
    const matches =
      userJID !== undefined && mucJID !== undefined
        ? (key: string) => key.startsWith(userJID + SEP + mucJID + SEP)
        : userJID !== undefined
          ? (key: string) => key.startsWith(userJID + SEP)
          : (key: string) => key.slice(key.indexOf(SEP) + 1, key.lastIndexOf(SEP)) === mucJID;

    for (const key of this.#inFlight.keys()) {
      if (!matches(key)) continue;
      this.#inFlight.delete(key);
      this.#cache.delete(key);
    }
    const keys: string[] = [];
    for (const key of this.#cache.keys()) if (matches(key)) keys.push(key);
    for (const key of keys) this.#cache.delete(key);
    return keys.length;
  }

  /** Entries held, requests in flight included (for tests and diagnostics). */
  get size(): number {
    return this.#cache.size;
  }

  async #miss(key: string, q: AuthQuestion): Promise<Decision> {
    let source: DecisionSource = "fetch";
    let answer: AuthAnswer;
    try {
      if (q.userJID.includes(SEP) || q.mucJID.includes(SEP) || q.nickname.includes(SEP)) {
        answer = failureAnswer("malformed question (NUL character)");
      } else {
        const status: LRUCache.Status<string, Decision, Pending> = {};
        const pending = new Pending(q);
        const fetched = this.#cache.fetch(key, { context: pending, status });
        // fetchMethod ran synchronously inside fetch() when this call started a request.
        if (status.fetch === "inflight") {
          source = "coalesced";
          this.#metrics.cache.coalesced.inc();
        } else if (status.fetch === "hit") {
          source = "cache";
          this.#metrics.cache.hit.inc();
        } else {
          this.#metrics.cache.miss.inc();
        }
        try {
          const stored = await fetched;
          answer = stored ? answerOf(stored) : failureAnswer("no answer");
        } catch (err) {
          answer = err instanceof Uncached ? err.answer : failureAnswer(`internal error: ${String(err)}`);
        } finally {
          // By now lru-cache has stored the answer or not.
          if (this.#inFlight.get(key) === pending) this.#inFlight.delete(key);
        }
      }
    } catch (err) {
      answer = failureAnswer(`internal error: ${String(err)}`);
    }
    const outcome = outcomeOf(answer);
    this.#metrics.decisions[source][outcome].inc();
    const standing = answer.allowed ? answer.standing : undefined;
    return standing
      ? { allowed: true, failure: false, reason: "", source, standing }
      : { allowed: answer.allowed, failure: outcome === "failure", reason: reasonOf(answer), source };
  }

  /** lru-cache's fetchMethod: one request; resolves to what is stored, rejects with `Uncached` otherwise. */
  async #fetchEntry(key: string, setOptions: LRUCache.FetcherFetchOptions<string, Decision, Pending>, pending: Pending): Promise<Decision> {
    this.#inFlight.set(key, pending);
    const q = pending.question;
    const answer = await this.#request(q);
    const outcome = outcomeOf(answer);
    // The join path logs the one line per denied join; here only the
    // backend's health is worth a line of its own (failures, at warn).
    if (outcome === "deny") {
      this.#logger.debug(
        { userJID: q.userJID, mucJID: q.mucJID, nickname: q.nickname, error: reasonOf(answer) },
        "join denied by the authorization service",
      );
    } else if (outcome === "failure") {
      this.#logger.warn(
        { userJID: q.userJID, mucJID: q.mucJID, nickname: q.nickname, error: reasonOf(answer) },
        "no usable answer from the authorization service: join denied (fail closed)",
      );
    }
    const ttl = outcome === "allow" ? this.#ttlMs : outcome === "deny" ? this.#negativeTtlMs : 0;
    if (ttl === 0) throw new Uncached(answer);
    setOptions.ttl = ttl; // per-entry TTL by outcome, read by lru-cache when it stores the value
    // The standing is part of the decision: cached and coalesced with it.
    if (answer.allowed) return answer.standing ? Object.freeze({ ...CACHED_ALLOW, standing: answer.standing }) : CACHED_ALLOW;
    return Object.freeze({ allowed: false, failure: false, reason: reasonOf(answer), source: "cache" });
  }

  /** One request through the concurrency limit; never rejects. */
  #request(q: AuthQuestion): Promise<AuthAnswer> {
    this.#metrics.authQueued.inc();
    return this.#limit(this.#ask, q);
  }

  readonly #ask = async (q: AuthQuestion): Promise<AuthAnswer> => {
    const m = this.#metrics;
    m.authQueued.dec();
    m.authInFlight.inc();
    try {
      return await this.#client.ask(q);
    } catch (err) {
      // The client contract says ask() never rejects; a broken one still fails closed.
      return failureAnswer(`client error: ${String(err)}`);
    } finally {
      m.authInFlight.dec();
    }
  };
}
