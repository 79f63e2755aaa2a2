import { describe, expect, test } from "bun:test";
import { DOMAIN, STANZAS, fixture, itemOf, lobby, recipients, statuses, to } from "./fixture.ts";

/**
 * Errors bounced by a user's server (XEP-0045 §7.14: "the MUC service is
 * responsible for monitoring error stanzas it receives in order to determine
 * if the user has gone offline"): the session is removed with status 333.
 * An error is never answered with an error (RFC 6120 §8.3.1).
 */

const ALICE = "alice@a.test/phone";
const BOB = "bob@b.test/pc";
const ROOM = `lobby@${DOMAIN}`;

const room = () => lobby([ALICE, "Alice"], [BOB, "Bob"]);

const bounce = (kind: "message" | "presence", from: string, to: string, condition: string, type = "cancel") =>
  `<${kind} type='error' from='${from}' to='${to}'><error type='${type}'><${condition} xmlns='${STANZAS}'/></error></${kind}>`;

describe("error bounces from a user's server", () => {
  test("a presence error removes the session; the room sees it leave with 333", () => {
    const f = room();
    const out = f.send(bounce("presence", BOB, `${ROOM}/Bob`, "remote-server-not-found"));
    expect(recipients(out).sort()).toEqual([ALICE, BOB].sort());
    const seen = to(out, ALICE)[0]!;
    expect(seen.attrs).toMatchObject({ type: "unavailable", from: `${ROOM}/Bob` });
    expect(statuses(seen)).toEqual(["333"]);
    expect(itemOf(seen)!.attrs.role).toBe("none");
    expect(statuses(to(out, BOB)[0]!)).toEqual(["333", "110"]);
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(false);
  });

  test.each(["service-unavailable", "recipient-unavailable", "remote-server-timeout", "item-not-found", "gone"])(
    "a message error %s (the session is gone) removes the session with 333",
    (condition) => {
      const f = room();
      const out = f.send(bounce("message", BOB, ROOM, condition));
      expect(statuses(to(out, ALICE)[0]!)).toEqual(["333"]);
      expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(false);
    },
  );

  test("a message error that does not mean the session is gone changes nothing", () => {
    const f = room();
    expect(f.send(bounce("message", BOB, ROOM, "resource-constraint", "wait"))).toEqual([]);
    expect(f.send(bounce("message", BOB, `${ROOM}/Alice`, "policy-violation", "modify"))).toEqual([]);
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(true);
  });

  test("a message error without an <error/> child counts as gone", () => {
    const f = room();
    f.send(`<message type='error' from='${BOB}' to='${ROOM}'/>`);
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(false);
  });

  test("an error bouncing a private message (to room/nick) also removes the session", () => {
    const f = room();
    f.send(bounce("message", BOB, `${ROOM}/Alice`, "service-unavailable"));
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(false);
  });

  test("with several sessions, only the failing one goes; the room sees nothing", () => {
    const f = room();
    f.join("bob@b.test/phone", "lobby", "Bob");
    const out = f.send(bounce("presence", "bob@b.test/phone", `${ROOM}/Bob`, "gone"));
    expect(recipients(out)).toEqual(["bob@b.test/phone"]);
    expect(statuses(out[0]!)).toEqual(["333", "110"]);
    expect(f.service.room(ROOM)!.occupants.get("Bob")!.sessions.has(BOB)).toBe(true);
  });

  test("the last occupant bounced away empties and removes the room", () => {
    const f = fixture();
    f.join(ALICE, "lobby", "Alice");
    f.send(bounce("presence", ALICE, `${ROOM}/Alice`, "gone"));
    expect(f.service.room(ROOM)).toBeUndefined();
  });

  test("errors from non-occupants, to unknown rooms or to the service are ignored, never answered", () => {
    const f = room();
    expect(f.send(bounce("message", "mallory@m.test/x", ROOM, "gone"))).toEqual([]);
    expect(f.send(bounce("presence", "mallory@m.test/x", `${ROOM}/Mal`, "gone"))).toEqual([]);
    expect(f.send(bounce("message", BOB, `nowhere@${DOMAIN}`, "gone"))).toEqual([]);
    expect(f.send(bounce("message", BOB, DOMAIN, "gone"))).toEqual([]);
    expect(f.send(`<iq type='error' id='x' from='${BOB}' to='${ROOM}'><error type='cancel'><gone xmlns='${STANZAS}'/></error></iq>`)).toEqual([]);
    expect(f.send(bounce("message", BOB, "elsewhere.test", "gone"))).toEqual([]);
  });

  test("an IQ error from an occupant does not remove it (only presence and message errors do)", () => {
    const f = room();
    f.send(`<iq type='error' id='x' from='${BOB}' to='${ROOM}'><error type='cancel'><service-unavailable xmlns='${STANZAS}'/></error></iq>`);
    expect(f.service.room(ROOM)!.occupants.has("Bob")).toBe(true);
  });
});
