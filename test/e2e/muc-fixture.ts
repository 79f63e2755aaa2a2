/**
 * What the `muc-*.test.ts` end-to-end files share besides their stack
 * (`useRig` in harness/rig.ts: one Prosody, auth service and mucgate per file,
 * clients stopped after each test, so their rooms empty): the predicates and
 * the join the XEP-0045 assertions keep needing, and a bare component probe.
 */
import { expect, setDefaultTimeout } from "bun:test";
import { Component } from "@xmpp/component-core";
import { joinPresence, NS_MUC_USER, stanzaError, statusCodes, type Element, type HistoryRequest, type TestClient } from "./harness/client.ts";

export const NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0";
export const NS_DELAY = "urn:xmpp:delay";
export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
export const NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
export const NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin";
export const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner";
export const NS_PING = "urn:xmpp:ping";

// Real servers on a machine shared with other test runs: generous, but a
// hung test still ends. Waits for single stanzas keep the client's 3 s.
setDefaultTimeout(20_000);

/** Sent by the room or one of its occupants. */
export function fromRoom(room: string): (s: Element) => boolean {
  return (s) => s.attrs.from === room || (s.attrs.from ?? "").startsWith(`${room}/`);
}

/** XEP-0045 §7.2.16 subject message (subject, no body) from the room or an occupant. */
export function isSubject(room: string): (s: Element) => boolean {
  const ours = fromRoom(room);
  return (s) => s.name === "message" && ours(s) && s.getChild("subject") !== undefined && s.getChild("body") === undefined;
}

/** Available presence from `room` carrying status 110: the self-presence of a join. */
export function isSelfPresence(room: string): (s: Element) => boolean {
  const ours = fromRoom(room);
  return (s) => s.name === "presence" && s.attrs.type === undefined && ours(s) && statusCodes(s).includes(110);
}

/** Presence from `from` of this type (`""` = available). */
export function presenceFrom(from: string, type = ""): (s: Element) => boolean {
  return (s) => s.name === "presence" && s.attrs.from === from && (s.attrs.type ?? "") === type;
}

/** Groupchat message from `from` with this body. */
export function groupchatFrom(from: string, body: string): (s: Element) => boolean {
  return (s) => s.name === "message" && s.attrs.type === "groupchat" && s.attrs.from === from && s.getChildText("body") === body;
}

/** The muc#user `<item/>` of a presence. */
export function mucItem(stanza: Element): Record<string, string> {
  const item = stanza.getChild("x", NS_MUC_USER)?.getChild("item");
  if (!item) throw new Error(`no muc#user item in ${stanza.toString()}`);
  return item.attrs as Record<string, string>;
}

/** The `{ type, condition }` of an error stanza; throws for any other stanza. */
export function errorOf(stanza: Element): { type: string; condition: string } {
  const e = stanzaError(stanza);
  if (!e) throw new Error(`not an error stanza: ${stanza.toString()}`);
  return { type: e.type, condition: e.condition };
}

/** The XEP-0421 occupant id of a stanza, `undefined` when it has none. */
export function occupantId(stanza: Element): string | undefined {
  const el = stanza.getChildren("occupant-id").filter((c) => c.getNS() === NS_OCCUPANT_ID);
  if (el.length > 1) throw new Error(`more than one occupant-id in ${stanza.toString()}`);
  return el[0]?.attrs.id;
}

export interface Joined {
  /** The joiner's own presence (status 110). */
  self: Element;
  /** The subject message that ends the join. */
  subject: Element;
  /** Everything received from the join's presence up to and including the subject, in order. */
  received: Element[];
}

/**
 * Join `room/nick` and wait for the join to complete as §7.2 orders it: the
 * self-presence, then the subject (which must come after it). Everything in
 * between (history) and before (other occupants) is in `received`.
 */
export async function join(client: TestClient, room: string, nick: string, options: { history?: HistoryRequest } = {}): Promise<Joined> {
  const start = client.mark();
  await client.send(joinPresence(`${room}/${nick}`, options));
  const self = await client.waitFor(isSelfPresence(room), { since: start });
  const selfIndex = client.stanzas.indexOf(self);
  const subject = await client.waitFor(isSubject(room), { since: selfIndex + 1 });
  const end = client.stanzas.indexOf(subject);
  // Move the cursor past the join: later waits look at what follows it.
  await client.waitFor((s) => s === subject);
  const received = client.stanzas.slice(start, end + 1).filter((s) => fromRoom(room)(s));
  return { self, subject, received };
}

/** Fail with the received stanzas listed when `cond` is false. */
export function expectIn(received: readonly Element[], cond: boolean, what: string): void {
  if (!cond) expect(`${what}\nreceived:\n${received.map((s) => `  ${s.toString()}`).join("\n")}`).toBe("");
}

/**
 * A bare XEP-0114 component on another slot of the same Prosody. Prosody
 * checks what clients send (IQ children, ids, presence types) before routing
 * it; what a component sends to another component is routed as is. So this
 * is how a test puts stanzas a client's server would never pass in front of
 * mucgate, through the real server.
 */
export interface Probe {
  /** The probe's domain; stanzas must come from it or a JID on it. */
  readonly domain: string;
  readonly stanzas: readonly Element[];
  send(stanza: Element): Promise<void>;
  /** The first stanza after the cursor matching; moves the cursor past it. */
  waitFor(match: (s: Element) => boolean, timeout?: number): Promise<Element>;
  /** Fails if a matching stanza arrives after the cursor within `ms`. */
  expectNothing(match: (s: Element) => boolean, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function connectProbe(target: { componentDomain: string; componentSecret: string; componentService: string }): Promise<Probe> {
  const entity = new Component({ service: target.componentService, domain: target.componentDomain });
  const stanzas: Element[] = [];
  let cursor = 0;
  entity.on("error", () => {});
  entity.on("open", (header: Element) => {
    entity.authenticate(header.attrs.id ?? "", target.componentSecret).catch((err: unknown) => entity.emit("error", err));
  });
  entity.on("stanza", (s: Element) => stanzas.push(s));
  await entity.start();

  const find = (match: (s: Element) => boolean, from: number) => {
    for (let i = from; i < stanzas.length; i++) if (match(stanzas[i]!)) return i;
    return -1;
  };
  const poll = async (match: (s: Element) => boolean, timeout: number): Promise<number> => {
    const deadline = performance.now() + timeout;
    for (;;) {
      const i = find(match, cursor);
      if (i >= 0 || performance.now() >= deadline) return i;
      await Bun.sleep(5);
    }
  };
  return {
    domain: target.componentDomain,
    stanzas,
    send: (stanza) => entity.send(stanza),
    async waitFor(match, timeout = 3000) {
      const i = await poll(match, timeout);
      if (i < 0) {
        const got = stanzas.slice(cursor).map((s) => `  ${s.toString()}`).join("\n") || "  (nothing)";
        throw new Error(`probe: no stanza matching ${match.toString().slice(0, 200)} within ${timeout} ms; received:\n${got}`);
      }
      cursor = i + 1;
      return stanzas[i]!;
    },
    async expectNothing(match, ms = 300) {
      const i = await poll(match, ms);
      if (i >= 0) throw new Error(`probe: expected nothing, got ${stanzas[i]!.toString()}`);
    },
    async stop() {
      await Promise.race([entity.stop().catch(() => {}), Bun.sleep(2000)]);
      entity.socket?.destroy?.();
    },
  };
}

/** What a fresh-room helper needs of the rig (harness/rig.ts). */
export interface RoomsAndClients {
  room(label: string): string;
  client(user: string): Promise<TestClient>;
}

/** Alice (owner) and Bob (participant) in a fresh room; Alice has seen Bob come in. */
export async function aliceAndBob(rig: RoomsAndClients, label: string): Promise<{ room: string; alice: TestClient; bob: TestClient }> {
  const room = rig.room(label);
  const alice = await rig.client("alice");
  const bob = await rig.client("bob");
  await join(alice, room, "Alice");
  await join(bob, room, "Bob");
  await alice.waitFor(presenceFrom(`${room}/Bob`));
  return { room, alice, bob };
}
