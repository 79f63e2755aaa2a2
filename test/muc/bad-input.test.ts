import { describe, expect, test } from "bun:test";
import { Element } from "@xmpp/xml";
import { DOMAIN, PING, errorCondition, type Fixture, lobby } from "./fixture.ts";

/**
 * Malformed and unexpected input: every refusal is an error to the sender
 * alone (RFC 6120 §8.3), never an error answering an error (§8.3.1), and the
 * service keeps serving everyone else afterwards.
 */

const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";
const ROOM = `lobby@${DOMAIN}`;

const room = () => lobby([ALICE, "Alice"], [BOB, "Bob"]);

/** The room still works: a message from Alice reaches both occupants. */
function stillServing(f: Fixture): void {
  const out = f.say(ALICE, "lobby", "still here", "alive");
  expect(out.map((s) => s.attrs.to).sort()).toEqual([ALICE, BOB].sort());
  expect(f.service.room(ROOM)!.occupants.size).toBe(2);
}

function refusedWith(f: Fixture, stanza: string | Element, condition: string, sender = BOB): void {
  const out = f.send(stanza);
  expect(out).toHaveLength(1);
  expect(out[0]!.attrs.type).toBe("error");
  expect(out[0]!.attrs.to).toBe(sender);
  expect(errorCondition(out[0]!)).toBe(condition);
  stillServing(f);
}

describe("bad input", () => {
  test("an IQ get/set without a child is bad-request", () => {
    const f = room();
    refusedWith(f, `<iq type='get' id='1' from='${BOB}' to='${ROOM}'/>`, "bad-request");
    refusedWith(f, `<iq type='set' id='1' from='${BOB}' to='${DOMAIN}'> </iq>`, "bad-request");
  });

  test("an IQ get/set with two children is bad-request", () => {
    const f = room();
    refusedWith(f, `<iq type='get' id='1' from='${BOB}' to='${ROOM}'><ping xmlns='${PING}'/><ping xmlns='${PING}'/></iq>`, "bad-request");
    refusedWith(f, `<iq type='get' id='1' from='${BOB}' to='${ROOM}/Alice'><a xmlns='urn:a'/><b xmlns='urn:b'/></iq>`, "bad-request");
  });

  test("an IQ without an id, or of an unknown type, is bad-request", () => {
    const f = room();
    refusedWith(f, `<iq type='get' from='${BOB}' to='${ROOM}'><ping xmlns='${PING}'/></iq>`, "bad-request");
    refusedWith(f, `<iq type='fetch' id='1' from='${BOB}' to='${ROOM}'><ping xmlns='${PING}'/></iq>`, "bad-request");
  });

  test("an IQ in a namespace nobody serves is service-unavailable, on the service and on a room", () => {
    const f = room();
    refusedWith(f, `<iq type='get' id='1' from='${BOB}' to='${ROOM}'><query xmlns='urn:unknown'/></iq>`, "service-unavailable");
    refusedWith(f, `<iq type='get' id='1' from='${BOB}' to='${DOMAIN}'><query xmlns='urn:unknown'/></iq>`, "service-unavailable");
  });

  test("the error reply keeps the IQ id and comes from the address asked", () => {
    const f = room();
    const out = f.send(`<iq type='get' id='abc' from='${BOB}' to='${ROOM}'><query xmlns='urn:unknown'/></iq>`);
    expect(out[0]!.attrs).toEqual({ type: "error", from: ROOM, to: BOB, id: "abc" });
  });

  test("a `to` of another domain is jid-malformed, answered from this service's domain", () => {
    const f = room();
    const out = f.send(`<message type='groupchat' from='${BOB}' to='lobby@elsewhere.test'><body>x</body></message>`);
    expect(out).toHaveLength(1);
    expect(errorCondition(out[0]!)).toBe("jid-malformed");
    // Never from lobby@elsewhere.test: a component may only send from its own domain.
    expect(out[0]!.attrs.from).toBe(DOMAIN);
    stillServing(f);
  });

  test("a malformed or missing `to` is jid-malformed", () => {
    const f = room();
    refusedWith(f, `<message type='groupchat' from='${BOB}' to='a@b@${DOMAIN}'><body>x</body></message>`, "jid-malformed");
    refusedWith(f, `<message type='groupchat' from='${BOB}'><body>x</body></message>`, "jid-malformed");
    refusedWith(f, new Element("presence", { from: BOB, to: `lobby@${DOMAIN}/bad\u0001` }), "jid-malformed");
  });

  test("a stanza without a usable `from` is dropped silently", () => {
    const f = room();
    expect(f.send(`<message type='groupchat' to='${ROOM}'><body>x</body></message>`)).toEqual([]);
    expect(f.send(`<presence to='${ROOM}/Ghost'/>`)).toEqual([]);
    expect(f.send(`<iq type='get' id='1' to='${ROOM}'><ping xmlns='${PING}'/></iq>`)).toEqual([]);
    expect(f.send(`<message type='groupchat' from='' to='${ROOM}'><body>x</body></message>`)).toEqual([]);
    expect(f.send(`<message type='groupchat' from='@/' to='${ROOM}'><body>x</body></message>`)).toEqual([]);
    stillServing(f);
  });

  test("an error stanza is never answered with an error, whatever is wrong with it", () => {
    const f = room();
    const errors = [
      `<message type='error' from='${BOB}' to='lobby@elsewhere.test'/>`,
      `<presence type='error' from='${BOB}' to='not a jid@@'/>`,
      `<iq type='error' id='1' from='${BOB}' to='${DOMAIN}'/>`,
      `<iq type='error' from='${BOB}' to='${ROOM}/Nobody'/>`,
      `<message type='error' from='${BOB}' to='${ROOM}/Nobody'/>`,
      `<presence type='error' from='${BOB}'/>`,
    ];
    for (const e of errors) expect(f.send(e).filter((s) => s.attrs.to === BOB && s.attrs.type === "error")).toEqual([]);
  });

  test("stanzas that are not presence, message or iq are ignored", () => {
    const f = room();
    expect(f.send(`<handshake from='${BOB}' to='${ROOM}'/>`)).toEqual([]);
    stillServing(f);
  });

  test("deeply odd but well-formed payloads are relayed without harm", () => {
    const f = room();
    const nested = "<a xmlns='urn:x'>".repeat(50) + "</a>".repeat(50);
    const out = f.send(`<message type='groupchat' from='${BOB}' to='${ROOM}'><body>x</body>${nested}</message>`);
    expect(out).toHaveLength(2);
    stillServing(f);
  });
});
