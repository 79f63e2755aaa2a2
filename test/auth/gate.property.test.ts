import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { Gate } from "../../src/auth/gate.ts";
import type { AuthAnswer, AuthQuestion, Decision } from "../../src/auth/types.ts";
import { Metrics } from "../../src/metrics.ts";
import { ALLOW, FakeClient, FakeClock, settle } from "./fake-client.ts";

type Outcome = "allow" | "deny" | "failure";

const users = ["romeo@example.org", "juliet@example.org", "nurse@capulet.lit"];
const rooms = ["teaparty@rooms.example.org", "balcony@rooms.example.org"];
const nicks = ["Romeo", "romeo", "R & J", "☕"];

/** Every question from a small pool, so random draws repeat. */
const POOL: AuthQuestion[] = users.flatMap((userJID) =>
  rooms.flatMap((mucJID) => nicks.map((nickname) => ({ userJID, mucJID, nickname }))),
);

const keyOf = (q: AuthQuestion) => JSON.stringify([q.userJID, q.mucJID, q.nickname]);

/** The answer the fake service gives: the reason names the question, so a mix-up shows. */
function answerFor(q: AuthQuestion, outcome: Outcome): AuthAnswer {
  if (outcome === "allow") return ALLOW;
  return { allowed: false, failure: outcome === "failure", reason: `${outcome} ${keyOf(q)}` };
}

function expectAnswered(d: Decision, q: AuthQuestion, outcome: Outcome): void {
  expect(d.allowed).toBe(outcome === "allow");
  expect(d.failure).toBe(outcome === "failure");
  expect(d.reason).toBe(outcome === "allow" ? "" : `${outcome} ${keyOf(q)}`);
}

const outcomes = fc.array(fc.constantFrom<Outcome>("allow", "deny", "failure"), {
  minLength: POOL.length,
  maxLength: POOL.length,
});

describe("property: coalescing", () => {
  test("concurrent questions (random duplicates) cause one request per distinct question, and each caller gets its own answer", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: POOL.length - 1 }), { minLength: 1, maxLength: 60 }),
        outcomes,
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 30 }),
        async (picks, outcome, maxConcurrency, order) => {
          const client = new FakeClient();
          const gate = new Gate({ client, policy: () => true, ttl: 30, negativeTtl: 5, max: 1000, maxConcurrency });
          const asked = picks.map((i) => ({ ...POOL[i]! })); // fresh objects: identity must not matter
          const pending = asked.map((q) => gate.decide(q));
          // Answer open requests in a random order until every caller is done.
          let step = 0;
          for (;;) {
            await settle();
            if (client.open.length === 0) break;
            const call = client.open[order[step++ % order.length]! % client.open.length]!;
            call.answer(answerFor(call.question, outcome[POOL.findIndex((p) => keyOf(p) === keyOf(call.question))]!));
          }
          const decisions = await Promise.all(pending);
          const distinct = new Set(picks);
          expect(client.calls).toHaveLength(distinct.size);
          expect(new Set(client.calls.map((c) => keyOf(c.question))).size).toBe(distinct.size);
          decisions.forEach((d, i) => expectAnswered(d, asked[i]!, outcome[picks[i]!]!));
          // Exactly one caller per distinct question was the one that fetched.
          expect(decisions.filter((d) => d.source === "fetch")).toHaveLength(distinct.size);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("property: bounded concurrency", () => {
  test("with random maxConcurrency and completion order, in-flight requests never exceed the cap and every question completes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.nat({ max: POOL.length - 1 }), { minLength: 1, maxLength: 40 }),
        outcomes,
        async (s, maxConcurrency, picks, outcome) => {
          let inFlight = 0;
          let peak = 0;
          const calls: AuthQuestion[] = [];
          const client = {
            ask(q: AuthQuestion): Promise<AuthAnswer> {
              calls.push(q);
              peak = Math.max(peak, ++inFlight);
              const i = POOL.findIndex((p) => keyOf(p) === keyOf(q));
              // The scheduler resolves these in a random order: random latencies.
              return s.schedule(Promise.resolve(answerFor(q, outcome[i]!)), `ask ${i}`).then((a) => {
                inFlight--;
                return a;
              });
            },
          };
          const metrics = new Metrics();
          const gate = new Gate({ client, policy: () => true, ttl: 30, negativeTtl: 5, max: 1000, maxConcurrency, metrics });
          const pending = picks.map((i) => gate.decide(POOL[i]!));
          let done = 0;
          for (const p of pending) void Promise.resolve(p).then(() => done++);
          await s.waitFor(Promise.all(pending));
          const decisions = await Promise.all(pending);
          await settle();
          expect(done).toBe(picks.length);
          expect(peak).toBeLessThanOrEqual(maxConcurrency);
          expect(inFlight).toBe(0);
          expect(calls).toHaveLength(new Set(picks).size); // all asked at once: duplicates coalesce
          decisions.forEach((d, i) => expectAnswered(d, POOL[picks[i]!]!, outcome[picks[i]!]!));
          expect((await metrics.authInFlight.get()).values[0]!.value).toBe(0);
          expect((await metrics.authQueued.get()).values[0]!.value).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});

type Step = { kind: "ask"; advance: number; q: number } | { kind: "forget"; user: number };

describe("property: TTL expiry with an injected clock", () => {
  test("a random sequence of (advance time, ask | forget) makes exactly the requests a simple model predicts", async () => {
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 9, arbitrary: fc.record({ kind: fc.constant("ask" as const), advance: fc.oneof(fc.constant(0), fc.constantFrom(1, 999, 1000, 1001, 2000, 5000), fc.integer({ min: 0, max: 12_000 })), q: fc.nat({ max: POOL.length - 1 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("forget" as const), user: fc.nat({ max: users.length - 1 }) }) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        outcomes,
        fc.array(step, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 2_000_000 }),
        async (ttl, negativeTtl, outcome, steps, start) => {
          const clock = new FakeClock(start);
          const client = new FakeClient((q) => answerFor(q, outcome[POOL.findIndex((p) => keyOf(p) === keyOf(q))]!));
          const gate = new Gate({ client, policy: () => true, ttl, negativeTtl, max: 1000, maxConcurrency: 4, perf: clock });

          // The model: key → time stored and TTL (ms); fresh while now - stored <= ttl.
          const model = new Map<number, { at: number; ttl: number }>();
          let predicted = 0;
          for (const st of steps) {
            if (st.kind === "forget") {
              let expected = 0;
              for (const [i, e] of model) {
                if (POOL[i]!.userJID !== users[st.user]) continue;
                if (clock.now() - e.at <= e.ttl) expected++;
                model.delete(i);
              }
              expect(gate.forget({ userJID: users[st.user] })).toBe(expected);
              continue;
            }
            clock.advance(st.advance);
            const now = clock.now();
            const cached = model.get(st.q);
            const fresh = cached !== undefined && now - cached.at <= cached.ttl;
            if (!fresh) {
              predicted++;
              const o = outcome[st.q]!;
              const t = o === "allow" ? ttl * 1000 : o === "deny" ? negativeTtl * 1000 : 0;
              if (t > 0) model.set(st.q, { at: now, ttl: t });
              else model.delete(st.q);
            }
            const d = gate.decide(POOL[st.q]!);
            const decision = d instanceof Promise ? await d : d;
            expect(decision.source).toBe(fresh ? "cache" : "fetch");
            expect(d instanceof Promise).toBe(!fresh);
            expectAnswered(decision, POOL[st.q]!, outcome[st.q]!);
            expect(client.calls).toHaveLength(predicted);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
