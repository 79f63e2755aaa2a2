/**
 * Room events and the join path (README "Events"): joins/s through the MUC
 * core with `muc_events_url` pointing at a slow receiver (every answer
 * after 200 ms) against the same joins without events, alternated in one
 * process. Joins go in batches of 500 with a turn of the event loop between
 * them, so deliveries (fetches, retries) run meanwhile as they would in
 * production. The target: ≥ 0.95 × the joins/s without events.
 *
 *   ./node_modules/.bin/bun bench/events.bench.ts
 */
import type { Element } from "@xmpp/xml";
import { roomEvents } from "../src/events/room-event.ts";
import { WebhookQueue } from "../src/events/webhook-queue.ts";
import { MucService } from "../src/muc/service.ts";
import { xml } from "../test/muc/fixture.ts";
import { median, progress, runStandalone, type BenchResult } from "./support/report.ts";

const JOINS = 20_000;
const ROOMS = 1_000;
const BATCH = 500;
const REPS = 5;
const DOMAIN = "rooms.bench";

const receiver = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  idleTimeout: 0,
  fetch: async (req) => {
    await req.text();
    await Bun.sleep(200);
    return new Response(null, { status: 204 });
  },
});

const joins = Array.from({ length: JOINS }, (_, i) =>
  xml(`<presence from='u${i}@users.bench/r' to='room${i % ROOMS}@${DOMAIN}/n${i}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`),
);

/** ms for every join, with or without events. */
async function run(withEvents: boolean): Promise<{ ms: number; queued: number }> {
  const service = new MucService({ domain: DOMAIN, secret: "bench" });
  let queue: WebhookQueue | undefined;
  if (withEvents) {
    queue = new WebhookQueue({ url: `http://127.0.0.1:${receiver.port}/events`, timeout: 5, maxQueued: 100_000 });
    let id = 0;
    service.subscribe(roomEvents((e) => queue!.push(e), () => `e${++id}`));
  }
  const out: Element[] = [];
  const t0 = performance.now();
  for (let i = 0; i < JOINS; i += BATCH) {
    for (let j = i; j < i + BATCH; j++) {
      out.length = 0;
      service.handle(joins[j]!, out);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const ms = performance.now() - t0;
  const queued = queue?.queued ?? 0;
  await queue?.close(0);
  return { ms, queued };
}

async function eventsBench(): Promise<BenchResult> {
  await run(false);
  await run(true); // warm-up
  const without: number[] = [];
  const withEvents: number[] = [];
  let queued = 0;
  for (let r = 0; r < REPS; r++) {
    progress(`rep ${r + 1}/${REPS}`);
    without.push((await run(false)).ms);
    const w = await run(true);
    withEvents.push(w.ms);
    queued = w.queued;
  }
  const rate = (ms: number) => (JOINS / ms) * 1000;
  const base = rate(median(without));
  const value = rate(median(withEvents));
  return {
    title: `Events — ${JOINS.toLocaleString()} joins into ${ROOMS.toLocaleString()} rooms (MucService.handle), muc_events_url at a receiver answering after 200 ms`,
    rows: [
      { figure: "joins with events to a slow receiver", value, unit: "/s", baseline: { name: "no events", value: base }, target: { op: ">=", value: 0.95 * base } },
    ],
    notes: [
      `Median of ${REPS} alternated repetitions; joins in batches of ${BATCH} with an event-loop turn between them.`,
      `Events still queued when the joins were done: ${queued.toLocaleString()} (the receiver takes ~20 a second): the join path never waited for them.`,
    ],
  };
}

if (import.meta.main) await runStandalone(eventsBench);
