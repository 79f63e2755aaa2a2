/**
 * Issue 13 through a real Prosody: stanzas that used to drop the component
 * link for every room — an id of 100,000 `"`, huge bodies (relayed and
 * kept in history), a huge status, a huge room name then disco#info and
 * disco#items — sent while a canary occupant in another room gets a message
 * every 100 ms. The link never drops and the canary loses nothing.
 *
 * mucgate runs with component_stanza_size_limit at 240 KiB (below
 * Prosody's 512 KiB and above its 256 KiB c2s limit) and the length caps
 * raised, so that the same run shows both sides: stanzas up to about 200 kB
 * are relayed byte for byte (the old re-escaping made a 100 kB id 600 kB),
 * and one that would leave over the limit is refused, to its sender only.
 */
import { expect, test } from "bun:test";
import { groupchat, xml, type Element, type TestClient } from "./harness/client.ts";
import { useRig } from "./harness/rig.ts";
import { errorOf, groupchatFrom, join, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC_OWNER } from "./muc-fixture.ts";

const LIMIT = 240 * 1024;
const rig = useRig({
  mucgates: {
    mucgate: {
      config: {
        component_stanza_size_limit: LIMIT,
        muc_max_char_count: 300_000,
        muc_max_status_length: 300_000,
        muc_max_stanza_id_length: 300_000,
        max_room_name: 300_000,
        // Above the default 256 KiB, so that the huge stored body is still in the history a newcomer gets (step 6).
        max_history_bytes: 1024 * 1024,
      },
    },
  },
});

/** Raw XML on the client's stream: xmpp.js would re-escape the quotes, and 600 kB is over Prosody's c2s limit. */
const raw = (client: TestClient, text: string) => (client.xmpp as unknown as { write(s: string): Promise<void> }).write(text);

test("no stanza breaks the component link; the canary in another room loses nothing", async () => {
  const canaryRoom = rig.room("canary");
  const room = rig.room("attack");
  const [sender, canary, mallory, bob] = await Promise.all([rig.client("sender"), rig.client("canary"), rig.client("mallory"), rig.client("bob")]);
  await join(sender, canaryRoom, "Sender");
  await join(canary, canaryRoom, "Canary");
  await join(mallory, room, "Mallory");
  await join(bob, room, "Bob");

  let sent = 0;
  let chirping = true;
  const chirps = (async () => {
    while (chirping) {
      // A failed step ends the test and closes the clients: stop chirping then, rather than throw between tests.
      await sender.send(groupchat(canaryRoom, `chirp ${sent++}`)).catch(() => (chirping = false));
      await Bun.sleep(100);
    }
  })();

  // 1. An id of 100,000 `"`: relayed to both occupants as it came.
  const quotes = '"'.repeat(100_000);
  await raw(mallory, `<message to='${room}' type='groupchat' id='${quotes}'><body>x</body></message>`);
  const echoed = await bob.waitFor((s) => s.name === "message" && s.attrs.id === quotes, { timeout: 10_000 });
  expect(echoed.getChildText("body")).toBe("x");
  await mallory.waitFor((s) => s.name === "message" && s.attrs.id === quotes, { timeout: 10_000 });

  // 2. A body of 150,000 `>` (four times longer re-escaped), relayed and kept in history.
  const arrows = ">".repeat(150_000);
  await raw(mallory, `<message to='${room}' type='groupchat' id='arrows'><body>${arrows}</body></message>`);
  expect((await bob.waitFor({ name: "message", id: "arrows" }, { timeout: 10_000 })).getChildText("body")).toBe(arrows);

  // 3. A body that would leave over the limit: refused, to its sender only.
  await raw(mallory, `<message to='${room}' type='groupchat' id='too-big'><body>${"y".repeat(LIMIT - 1000)}</body></message>`);
  const refusal = await mallory.waitFor({ name: "message", type: "error", id: "too-big" }, { timeout: 10_000 });
  expect(errorOf(refusal)).toEqual({ type: "modify", condition: "policy-violation" });

  // 4. A status of 100,000 `"` in a presence broadcast to the room.
  await raw(mallory, `<presence to='${room}/Mallory'><status>${quotes}</status></presence>`);
  expect((await bob.waitFor((s) => s.name === "presence" && s.getChildText("status") === quotes, { timeout: 10_000 })).attrs.from).toBe(`${room}/Mallory`);

  // 5. A room name of 100,000 characters, then disco#info and disco#items on the service.
  const name = `"${">".repeat(99_998)}"`;
  await raw(
    mallory,
    `<iq type='set' id='cfg' to='${room}'><query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'>` +
      `<field var='muc#roomconfig_roomname'><value>${name}</value></field></x></query></iq>`,
  );
  expect((await mallory.waitFor({ name: "iq", id: "cfg" }, { timeout: 10_000 })).attrs.type).toBe("result");
  const info = await bob.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: NS_DISCO_INFO })), 10_000);
  expect(info.getChild("query")!.getChild("identity")!.attrs.name).toBe(name);
  const items = await bob.iq(xml("iq", { type: "get", to: rig.service }, xml("query", { xmlns: NS_DISCO_ITEMS })), 10_000);
  expect(items.getChild("query")!.getChildren("item").find((i: Element) => i.attrs.jid === room)?.attrs.name).toBe(name);

  // 6. A newcomer gets the stored huge body in its history and the huge status in the roster.
  const carol = await rig.client("carol");
  const joined = await join(carol, room, "Carol");
  expect(joined.received.some((s) => s.name === "message" && s.getChildText("body") === arrows)).toBe(true);
  expect(joined.received.some((s) => s.name === "presence" && s.getChildText("status") === quotes)).toBe(true);

  chirping = false;
  await chirps;
  const last = `chirp ${sent - 1}`;
  await canary.waitFor(groupchatFrom(`${canaryRoom}/Sender`, last), { timeout: 10_000 });
  const heard = canary.stanzas.filter((s) => s.name === "message" && /^chirp \d+$/.test(s.getChildText("body") ?? "")).map((s) => s.getChildText("body"));
  expect(heard).toEqual(Array.from({ length: sent }, (_, i) => `chirp ${i}`));
  expect(sent).toBeGreaterThan(10);

  // The link never dropped: one "component online", no "component offline".
  const log = rig.mucgate.json();
  expect(log.filter((l) => l.msg === "component online")).toHaveLength(1);
  expect(log.filter((l) => String(l.msg).startsWith("component offline"))).toEqual([]);
  expect(log.filter((l) => l.msg === "stanza over component_stanza_size_limit not sent")).toEqual([]);
  expect((await rig.mucgate.health()).status).toBe(200);
}, 30_000);
