/**
 * Room events end to end (README "Events"): mucgate as a process with
 * muc_events_url and muc_events_secret, a real receiver, real clients on
 * Prosody. What a join, a kick over HTTP and a leave POST, signed.
 */
import { afterAll, expect, test } from "bun:test";
import crypto from "node:crypto";
import { joinPresence, leavePresence } from "./harness/client.ts";
import { expectJoined } from "./harness/gate-kit.ts";
import { useRig } from "./harness/rig.ts";
import { Receiver } from "../events/receiver.ts";

const SECRET = "events-e2e-secret";
const receiver = new Receiver().start();
afterAll(() => receiver.stop());

const rig = useRig({ mucgates: { main: { config: { muc_events_url: receiver.url, muc_events_secret: SECRET } } } });

test("a join, an HTTP kick and a leave reach the receiver in order, each signed", async () => {
  receiver.delayMs = 50; // a slow receiver: joins do not wait for it
  const [alice, bob] = await Promise.all([rig.client("alice"), rig.client("bob")]);
  const room = rig.room("events");
  const t0 = performance.now();
  await alice.send(joinPresence(`${room}/alice`));
  await expectJoined(alice, `${room}/alice`);
  await bob.send(joinPresence(`${room}/bob`));
  await expectJoined(bob, `${room}/bob`);
  expect(performance.now() - t0).toBeLessThan(2000);
  expect((await rig.mucgate.kick({ nickname: "bob", muc: room, reason: "bye" })).status).toBe(200);
  await alice.send(leavePresence(`${room}/alice`));

  const got = await receiver.waitFor(7);
  const mine = got.filter((g) => g.event.room === room);
  expect(mine.map((g) => g.event.type)).toEqual([
    "room_created",
    "affiliation_changed",
    "occupant_joined",
    "occupant_joined",
    "occupant_kicked",
    "occupant_left",
    "room_destroyed",
  ]);
  expect(mine[4]!.event).toMatchObject({ nick: "bob", jid: "bob@localhost", reason: "bye" });
  for (const g of mine) {
    const expected = `sha256=${crypto.createHmac("sha256", SECRET).update(g.body).digest("hex")}`;
    expect(g.headers["x-mucgate-signature-256"]).toBe(expected);
    expect(g.headers["x-mucgate-delivery"]).toBe(g.event.id as string);
  }
});
