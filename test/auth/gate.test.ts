import { describe, expect, test } from "bun:test";
import { Gate, type GateOptions } from "../../src/auth/gate.ts";
import type { AuthQuestion, Decision } from "../../src/auth/types.ts";
import { createLogger } from "../../src/log.ts";
import { Metrics } from "../../src/metrics.ts";
import { ALLOW, deny, fail, FakeClient, FakeClock, settle } from "./fake-client.ts";

const romeo: AuthQuestion = { userJID: "romeo@example.org", mucJID: "teaparty@rooms.example.org", nickname: "Romeo" };
const juliet: AuthQuestion = { userJID: "juliet@example.org", mucJID: "teaparty@rooms.example.org", nickname: "Juliet" };
const romeoElsewhere: AuthQuestion = { ...romeo, mucJID: "balcony@rooms.example.org" };

function gate(client: FakeClient, extra: Partial<GateOptions> = {}): Gate {
  return new Gate({
    client,
    policy: () => true,
    ttl: 30,
    negativeTtl: 5,
    max: 1000,
    maxConcurrency: 64,
    perf: new FakeClock(1_000_000),
    ...extra,
  });
}

const isPromise = (x: unknown): x is Promise<Decision> => x instanceof Promise;

async function decided(g: Gate, q: AuthQuestion): Promise<Decision> {
  return await g.decide(q);
}

async function gauge(g: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await g.get()).values[0]?.value ?? 0;
}

describe("Gate decisions", () => {
  test("the first question is fetched; a cached decision comes back synchronously, the same object each time", async () => {
    const client = new FakeClient((_q) => ALLOW);
    const g = gate(client);
    const first = g.decide(romeo);
    expect(isPromise(first)).toBe(true);
    expect(await first).toEqual({ allowed: true, failure: false, reason: "", source: "fetch" });
    const hit = g.decide(romeo);
    expect(isPromise(hit)).toBe(false);
    expect(hit).toEqual({ allowed: true, failure: false, reason: "", source: "cache" });
    expect(g.decide(romeo)).toBe(hit);
    expect(client.calls).toHaveLength(1);
  });

  test("a denial carries the service's error text and is cached", async () => {
    const client = new FakeClient(() => deny("not on the list"));
    const g = gate(client);
    expect(await decided(g, romeo)).toEqual({ allowed: false, failure: false, reason: "not on the list", source: "fetch" });
    expect(g.decide(romeo)).toEqual({ allowed: false, failure: false, reason: "not on the list", source: "cache" });
    expect(client.calls).toHaveLength(1);
  });

  test("concurrent identical questions share one request; each caller gets the answer", async () => {
    const client = new FakeClient();
    const g = gate(client);
    const ps = [g.decide(romeo), g.decide({ ...romeo }), g.decide({ ...romeo })];
    await settle();
    expect(client.calls).toHaveLength(1);
    client.open[0]!.answer(ALLOW);
    const ds = await Promise.all(ps);
    expect(ds.map((d) => d.source)).toEqual(["fetch", "coalesced", "coalesced"]);
    expect(ds.every((d) => d.allowed)).toBe(true);
  });

  test("the key is the exact (userJID, mucJID, nickname): a different nickname or case is another question", async () => {
    const client = new FakeClient(() => ALLOW);
    const g = gate(client);
    await decided(g, romeo);
    await decided(g, { ...romeo, nickname: "romeo" });
    await decided(g, { ...romeo, nickname: "Romeo2" });
    await decided(g, romeoElsewhere);
    expect(client.calls).toHaveLength(4);
  });

  test("parts cannot run into each other: ('a','b\\u0001c') and ('a\\u0001b','c') stay apart", async () => {
    const client = new FakeClient((q) => (q.mucJID === "x" ? ALLOW : deny()));
    const g = gate(client);
    await decided(g, { userJID: "a", mucJID: "x", nickname: "b c" });
    expect(await decided(g, { userJID: "a", mucJID: "x b", nickname: "c" })).toMatchObject({ allowed: false });
    expect(client.calls).toHaveLength(2);
  });

  test("a question containing NUL fails closed without a request", async () => {
    const client = new FakeClient(() => ALLOW);
    const g = gate(client);
    const d = await decided(g, { ...romeo, nickname: "Rom\u0000eo" });
    expect(d).toMatchObject({ allowed: false, failure: true });
    expect(client.calls).toHaveLength(0);
  });

  test("mustAuthorize is the policy", () => {
    const g = gate(new FakeClient(), { policy: (room, host) => room === "secret" && host === "example.org" });
    expect(g.mustAuthorize("secret", "example.org")).toBe(true);
    expect(g.mustAuthorize("lobby", "example.org")).toBe(false);
  });
});

describe("Gate standing (affiliation and role with the allow)", () => {
  const owner = { affiliation: "owner", role: "moderator" } as const;

  test("an allow's standing comes back with the decision, and again from the cache", async () => {
    const client = new FakeClient(() => ({ allowed: true, standing: owner }));
    const g = gate(client);
    expect(await decided(g, romeo)).toEqual({ allowed: true, failure: false, reason: "", source: "fetch", standing: owner });
    const hit = g.decide(romeo);
    expect(isPromise(hit)).toBe(false);
    expect(hit).toEqual({ allowed: true, failure: false, reason: "", source: "cache", standing: owner });
    expect(client.calls).toHaveLength(1);
  });

  test("coalesced questions share the standing of the one request", async () => {
    const client = new FakeClient();
    const g = gate(client);
    const ps = [g.decide(romeo), g.decide({ ...romeo })];
    await settle();
    expect(client.calls).toHaveLength(1);
    client.open[0]!.answer({ allowed: true, standing: { role: "visitor" } });
    const [a, b] = await Promise.all(ps);
    expect(a!.standing).toEqual({ role: "visitor" });
    expect(b).toMatchObject({ source: "coalesced", standing: { role: "visitor" } });
    expect(client.calls).toHaveLength(1);
  });

  test("each question keeps its own standing; a plain allow has none", async () => {
    const client = new FakeClient((q) => (q.nickname === "Romeo" ? { allowed: true, standing: owner } : ALLOW));
    const g = gate(client);
    expect((await decided(g, romeo)).standing).toEqual(owner);
    expect((await decided(g, juliet)).standing).toBeUndefined();
    expect((g.decide(juliet) as Decision).standing).toBeUndefined();
  });
});

describe("Gate failures", () => {
  test("a failure is never cached: the next question asks again", async () => {
    const client = new FakeClient(() => fail("HTTP 502"));
    const g = gate(client);
    expect(await decided(g, romeo)).toEqual({ allowed: false, failure: true, reason: "HTTP 502", source: "fetch" });
    const again = g.decide(romeo);
    expect(isPromise(again)).toBe(true);
    await again;
    expect(client.calls).toHaveLength(2);
    expect(g.size).toBe(0);
  });

  test("concurrent waiters on one failing request all get that failure", async () => {
    const client = new FakeClient();
    const g = gate(client);
    const ps = [g.decide(romeo), g.decide(romeo), g.decide(romeo)];
    await settle();
    client.open[0]!.answer(fail("timeout after 5s"));
    const ds = await Promise.all(ps);
    expect(client.calls).toHaveLength(1);
    for (const d of ds) expect(d).toMatchObject({ allowed: false, failure: true, reason: "timeout after 5s" });
    expect(ds.map((d) => d.source)).toEqual(["fetch", "coalesced", "coalesced"]);
  });

  test("a client that throws or rejects yields a failure; decide never rejects", async () => {
    const throwing = { ask: () => { throw new Error("sync boom"); } };
    const rejecting = { ask: () => Promise.reject(new Error("async boom")) };
    for (const client of [throwing, rejecting]) {
      const g = new Gate({ client, policy: () => true, ttl: 30, negativeTtl: 5, max: 10, maxConcurrency: 1 });
      const d = await decided(g, romeo);
      expect(d).toMatchObject({ allowed: false, failure: true, source: "fetch" });
      expect(d.reason).toContain("boom");
    }
  });
});

describe("Gate TTLs (injected clock)", () => {
  test("an allow is reused until ttl, then asked again", async () => {
    const clock = new FakeClock(0); // also a clock starting at 0
    const client = new FakeClient(() => ALLOW);
    const g = gate(client, { perf: clock, ttl: 30 });
    await decided(g, romeo);
    clock.advance(30_000);
    expect(isPromise(g.decide(romeo))).toBe(false);
    clock.advance(1);
    expect(isPromise(g.decide(romeo))).toBe(true);
    await settle();
    expect(client.calls).toHaveLength(2);
  });

  test("a denial is reused until negativeTtl, then asked again", async () => {
    const clock = new FakeClock(5);
    const client = new FakeClient(() => deny());
    const g = gate(client, { perf: clock, ttl: 30, negativeTtl: 5 });
    await decided(g, romeo);
    clock.advance(5_000);
    expect(g.decide(romeo)).toMatchObject({ source: "cache", allowed: false });
    clock.advance(1);
    expect(await decided(g, romeo)).toMatchObject({ source: "fetch" });
    expect(client.calls).toHaveLength(2);
  });

  test("ttl 0 does not cache allows; negativeTtl 0 does not cache denials (both still coalesce)", async () => {
    for (const [answer, opts] of [
      [ALLOW, { ttl: 0 }],
      [deny(), { negativeTtl: 0 }],
    ] as const) {
      const client = new FakeClient();
      const g = gate(client, opts);
      const ps = [g.decide(romeo), g.decide(romeo)];
      await settle();
      client.open[0]!.answer(answer);
      expect((await Promise.all(ps)).map((d) => d.source)).toEqual(["fetch", "coalesced"]);
      const again = g.decide(romeo);
      expect(isPromise(again)).toBe(true);
      await settle();
      client.open[0]!.answer(answer);
      await again;
      expect(client.calls).toHaveLength(2);
    }
  });

  test("fractional seconds are honoured", async () => {
    const clock = new FakeClock(1);
    const client = new FakeClient(() => ALLOW);
    const g = gate(client, { perf: clock, ttl: 0.25 });
    await decided(g, romeo);
    clock.advance(250);
    expect(isPromise(g.decide(romeo))).toBe(false);
    clock.advance(1);
    expect(isPromise(g.decide(romeo))).toBe(true);
  });
});

describe("Gate.forget", () => {
  async function filled() {
    const client = new FakeClient(() => ALLOW);
    const clock = new FakeClock(1000);
    const g = gate(client, { perf: clock });
    for (const q of [romeo, juliet, romeoElsewhere, { ...romeo, nickname: "Romy" }]) await decided(g, q);
    return { g, client, clock };
  }

  test("by user drops that user's decisions in every room, and only those", async () => {
    const { g, client } = await filled();
    expect(g.forget({ userJID: "romeo@example.org" })).toBe(3);
    expect(isPromise(g.decide(juliet))).toBe(false);
    expect(isPromise(g.decide(romeo))).toBe(true);
    expect(isPromise(g.decide(romeoElsewhere))).toBe(true);
    await settle();
    expect(client.calls).toHaveLength(6);
  });

  test("by room drops every user's decisions in that room, and only those", async () => {
    const { g } = await filled();
    expect(g.forget({ mucJID: "teaparty@rooms.example.org" })).toBe(3);
    expect(isPromise(g.decide(romeoElsewhere))).toBe(false);
    expect(isPromise(g.decide(juliet))).toBe(true);
  });

  test("by user and room drops that user's decisions (every nickname) in that room", async () => {
    const { g } = await filled();
    expect(g.forget({ userJID: "romeo@example.org", mucJID: "teaparty@rooms.example.org" })).toBe(2);
    expect(isPromise(g.decide(romeoElsewhere))).toBe(false);
    expect(isPromise(g.decide(juliet))).toBe(false);
    expect(isPromise(g.decide(romeo))).toBe(true);
    expect(isPromise(g.decide({ ...romeo, nickname: "Romy" }))).toBe(true);
  });

  test("with neither drops everything", async () => {
    const { g } = await filled();
    expect(g.forget({})).toBe(4);
    expect(g.forget()).toBe(0);
    expect(isPromise(g.decide(juliet))).toBe(true);
  });

  test("unknown user or room drops nothing", async () => {
    const { g } = await filled();
    expect(g.forget({ userJID: "nobody@example.org" })).toBe(0);
    expect(g.forget({ mucJID: "nowhere@rooms.example.org" })).toBe(0);
    expect(g.forget({ userJID: "juliet@example.org", mucJID: "balcony@rooms.example.org" })).toBe(0);
    expect(isPromise(g.decide(romeo))).toBe(false);
  });

  test("expired decisions are dropped but not counted", async () => {
    const { g, clock } = await filled();
    clock.advance(31_000);
    expect(g.forget({ userJID: "romeo@example.org" })).toBe(0);
    expect(g.forget()).toBe(0);
  });

  test("a decision evicted or expired leaves no trace in the indexes", async () => {
    const client = new FakeClient(() => ALLOW);
    const clock = new FakeClock(1000);
    const g = gate(client, { perf: clock, max: 2 });
    await decided(g, romeo);
    await decided(g, juliet);
    await decided(g, romeoElsewhere); // evicts romeo (least recently used)
    expect(isPromise(g.decide(juliet))).toBe(false);
    expect(g.forget({ mucJID: "teaparty@rooms.example.org" })).toBe(1);
    clock.advance(31_000);
    expect(isPromise(g.decide(romeoElsewhere))).toBe(true); // expired: dropped on read
    await settle();
    expect(g.forget({ userJID: "romeo@example.org" })).toBe(1);
    expect(g.size).toBe(0);
  });

  test("a request in flight when forgotten still answers its waiters, but the answer is not stored", async () => {
    const client = new FakeClient();
    const g = gate(client);
    const before = g.decide(romeo);
    await settle();
    expect(g.forget({ userJID: "romeo@example.org" })).toBe(0); // nothing settled yet
    client.open[0]!.answer(ALLOW);
    expect(await before).toMatchObject({ allowed: true, source: "fetch" });
    expect(isPromise(g.decide(romeo))).toBe(true);
    await settle();
    expect(client.calls).toHaveLength(2);
  });

  test("a question asked after a forget of its in-flight twin starts its own request", async () => {
    const client = new FakeClient();
    const g = gate(client);
    const a = g.decide(romeo);
    await settle();
    g.forget({ mucJID: romeo.mucJID });
    const b = g.decide(romeo);
    await settle();
    expect(client.calls).toHaveLength(2);
    client.open[1]!.answer(deny("revoked"));
    client.open[0]!.answer(ALLOW);
    expect(await a).toMatchObject({ allowed: true });
    expect(await b).toMatchObject({ allowed: false, reason: "revoked" });
    expect(g.decide(romeo)).toMatchObject({ source: "cache", allowed: false, reason: "revoked" });
  });
});

describe("Gate concurrency toward the service", () => {
  test("at most maxConcurrency requests are in flight; the rest wait, and the gauges say so", async () => {
    const client = new FakeClient();
    const metrics = new Metrics();
    const g = gate(client, { maxConcurrency: 2, metrics });
    const qs = Array.from({ length: 5 }, (_, i) => ({ ...romeo, nickname: `n${i}` }));
    const ps = qs.map((q) => g.decide(q));
    await settle();
    expect(client.open).toHaveLength(2);
    expect(await gauge(metrics.authInFlight)).toBe(2);
    expect(await gauge(metrics.authQueued)).toBe(3);
    client.open[0]!.answer(ALLOW);
    await settle();
    expect(client.open).toHaveLength(2);
    expect(client.calls).toHaveLength(3);
    while (client.open.length) {
      client.open[0]!.answer(ALLOW);
      await settle();
    }
    await Promise.all(ps);
    expect(client.maxInFlight).toBe(2);
    expect(await gauge(metrics.authInFlight)).toBe(0);
    expect(await gauge(metrics.authQueued)).toBe(0);
  });

  test("queued requests start in the order they were asked (FIFO)", async () => {
    const client = new FakeClient();
    const g = gate(client, { maxConcurrency: 1 });
    const nicks = ["a", "b", "c", "d", "e"];
    const ps = nicks.map((nickname) => g.decide({ ...romeo, nickname }));
    for (let i = 0; i < nicks.length; i++) {
      await settle();
      expect(client.open).toHaveLength(1);
      client.open[0]!.answer(ALLOW);
    }
    await Promise.all(ps);
    expect(client.calls.map((c) => c.question.nickname)).toEqual(nicks);
  });
});

describe("Gate metrics and logs", () => {
  test("count hits, misses, coalesced and decisions by source and outcome", async () => {
    const metrics = new Metrics();
    const client = new FakeClient((q) => (q.nickname === "Romeo" ? ALLOW : q.nickname === "Juliet" ? deny() : fail()));
    const g = gate(client, { metrics });
    await Promise.all([g.decide(romeo), g.decide(romeo)]);
    g.decide(romeo);
    await decided(g, juliet);
    g.decide(juliet);
    await decided(g, { ...romeo, nickname: "X" });
    expect(metrics.cache.miss.value).toBe(3);
    expect(metrics.cache.coalesced.value).toBe(1);
    expect(metrics.cache.hit.value).toBe(2);
    expect(metrics.decisions.fetch.allow.value).toBe(1);
    expect(metrics.decisions.coalesced.allow.value).toBe(1);
    expect(metrics.decisions.cache.allow.value).toBe(1);
    expect(metrics.decisions.fetch.deny.value).toBe(1);
    expect(metrics.decisions.cache.deny.value).toBe(1);
    expect(metrics.decisions.fetch.failure.value).toBe(1);
  });

  test("log each fetched denial at debug (the join path logs the denial) and each failure at warn, with the question and the error text", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger("debug", { write: (s: string) => void lines.push(JSON.parse(s)) });
    const client = new FakeClient((q) => (q.nickname === "Romeo" ? deny("not invited") : fail("HTTP 500: db down")));
    const g = gate(client, { logger });
    await decided(g, romeo);
    g.decide(romeo); // a hit: no log line
    await decided(g, juliet);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: "debug", userJID: romeo.userJID, mucJID: romeo.mucJID, nickname: "Romeo", error: "not invited" });
    expect(lines[1]).toMatchObject({ level: "warn", userJID: juliet.userJID, nickname: "Juliet", error: "HTTP 500: db down" });
  });
});

describe("Gate options", () => {
  const ok: GateOptions = { client: new FakeClient(), policy: () => true, ttl: 30, negativeTtl: 5, max: 10, maxConcurrency: 4 };
  const cases: [keyof GateOptions, unknown][] = [
    ["maxConcurrency", 0],
    ["maxConcurrency", 1.5],
    ["max", 0],
    ["max", Number.POSITIVE_INFINITY],
    ["ttl", -1],
    ["ttl", Number.NaN],
    ["negativeTtl", "5"],
    ["client", {}],
    ["policy", null],
    ["perf", {}],
  ];
  for (const [name, value] of cases) {
    test(`${name} = ${String(value)} is refused at construction, naming the option`, () => {
      const make = () => new Gate({ ...ok, [name]: value } as GateOptions);
      expect(make).toThrow(TypeError);
      expect(make).toThrow(new RegExp(`^${name}: `));
    });
  }
});

describe("the question budget (muc_http_auth_max_requests_per_user)", () => {
  const nick = (n: number): AuthQuestion => ({ ...romeo, nickname: `Romeo${n}` });

  test("past its budget a user's new questions are refused without asking, for the rest of the minute; others are not affected", async () => {
    const clock = new FakeClock(1_000_000);
    const client = new FakeClient(() => ALLOW);
    const g = gate(client, { perf: clock, maxQuestionsPerUser: 3 });
    for (let i = 0; i < 3; i++) expect((await decided(g, nick(i))).allowed).toBe(true);
    const refused = g.decide(nick(3));
    expect(isPromise(refused)).toBe(false);
    expect(refused).toMatchObject({ allowed: false, failure: true, limited: true });
    expect(client.calls).toHaveLength(3);
    // Cached answers cost nothing; another user has a budget of its own.
    expect(g.decide(nick(0))).toMatchObject({ allowed: true, source: "cache" });
    expect((await decided(g, juliet)).allowed).toBe(true);
    clock.advance(60_000);
    expect((await decided(g, nick(3))).allowed).toBe(true);
    expect(client.calls).toHaveLength(5);
  });

  test("joining a question already in flight spends nothing", async () => {
    const client = new FakeClient();
    const g = gate(client, { maxQuestionsPerUser: 1 });
    const a = g.decide(romeo);
    const b = g.decide({ ...romeo });
    expect(isPromise(b)).toBe(true);
    await settle();
    client.open[0]!.answer(ALLOW);
    expect((await a).allowed && (await b).allowed).toBe(true);
    expect(g.decide(romeoElsewhere)).toMatchObject({ limited: true });
  });
});
