/**
 * Cached `Gate.decide()` throughput, the join hot path: every question below is
 * answered once, then asked again and again from the cache.
 *
 *   ./node_modules/.bin/bun bench/gate-decide.ts
 */
import { Gate } from "../src/auth/gate.ts";
import type { AuthQuestion, Decision } from "../src/auth/types.ts";
import { Metrics } from "../src/metrics.ts";

const DISTINCT = 10_000;
const OPS = 10_000_000;

const gate = new Gate({
  client: { ask: async () => ({ allowed: true }) },
  policy: () => true,
  ttl: 3600,
  negativeTtl: 5,
  max: 100_000,
  maxConcurrency: 64,
  metrics: new Metrics(),
});

// Fresh strings per question, as parsing stanzas would produce.
const questions: AuthQuestion[] = Array.from({ length: DISTINCT }, (_, i) => ({
  userJID: `user${i}@example.org`,
  mucJID: `room${i % 100}@rooms.example.org`,
  nickname: `Nick ${i}`,
}));
await Promise.all(questions.map((q) => gate.decide(q)));

let best = 0;
for (let round = 0; round < 5; round++) {
  let allowed = 0;
  const t0 = performance.now();
  for (let i = 0; i < OPS; i++) {
    const d = gate.decide(questions[i % DISTINCT]!) as Decision;
    if (d.allowed) allowed++;
  }
  const ms = performance.now() - t0;
  if (allowed !== OPS) throw new Error("not every decision came from the cache");
  const rate = (OPS / ms) * 1000;
  best = Math.max(best, rate);
  console.log(`round ${round}: ${(rate / 1e6).toFixed(2)} M cached decisions/s (${((ms * 1e6) / OPS).toFixed(0)} ns each)`);
}
console.log(`best: ${(best / 1e6).toFixed(2)} M cached decisions/s over ${DISTINCT} distinct questions`);
