import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import { roomEvents, type RoomEvent } from "../../src/events/room-event.ts";
import { DEFAULT_ROOM_CONFIG } from "../../src/muc/room-config.ts";
import { DOMAIN, fixture } from "../muc/fixture.ts";

/** Room changes as the backend hears of them (README "Events"), from a real service in memory. */

const ROOM = `lobby@${DOMAIN}`;
const ALICE = "alice@a.test/x";
const BOB = "bob@b.test/y";

function withEvents() {
  const f = fixture();
  const events: RoomEvent[] = [];
  let id = 0;
  f.service.subscribe(roomEvents((e) => events.push(e), () => `id-${++id}`));
  return { f, events, types: () => events.map((e) => e.type) };
}

describe("room events", () => {
  test("a join that creates a room: room_created by the creator, its owner affiliation, occupant_joined", () => {
    const { f, events } = withEvents();
    f.join(ALICE, "lobby", "Alice");
    expect(events).toEqual([
      { id: "id-1", type: "room_created", time: "2026-01-01T00:00:00.000Z", room: ROOM, jid: "alice@a.test" },
      { id: "id-2", type: "affiliation_changed", time: "2026-01-01T00:00:00.000Z", room: ROOM, jid: "alice@a.test", affiliation: "owner", previous: "none" },
      { id: "id-3", type: "occupant_joined", time: "2026-01-01T00:00:00.000Z", room: ROOM, nick: "Alice", jid: "alice@a.test", role: "moderator", affiliation: "owner" },
    ]);
  });

  test("a room made by the operator has no creator", () => {
    const { f, events } = withEvents();
    f.service.openRoom(ROOM, []);
    expect(events).toEqual([{ id: "id-1", type: "room_created", time: "2026-01-01T00:00:00.000Z", room: ROOM }]);
  });

  test("leave, kick and ban are occupant_left (with its cause), occupant_kicked and occupant_banned, with reason and actor", () => {
    const { f, events } = withEvents();
    f.join(ALICE, "lobby", "Alice");
    f.join(BOB, "lobby", "Bob");
    f.join("carol@c.test/z", "lobby", "Carol");
    events.length = 0;
    f.leave("carol@c.test/z", "lobby", "Carol");
    f.kick(ALICE, "lobby", "Bob", "spam");
    f.join(BOB, "lobby", "Bob");
    events.length = events.findIndex((e) => e.type === "occupant_kicked") + 1;
    f.service.setAffiliation(ROOM, "bob@b.test", "outcast", "banned", [] as Element[]);
    expect(events.map(({ id: _id, time: _time, ...rest }) => rest)).toEqual([
      { type: "occupant_left", room: ROOM, nick: "Carol", jid: "carol@c.test", cause: "leave" },
      { type: "occupant_kicked", room: ROOM, nick: "Bob", jid: "bob@b.test", reason: "spam", actor: "Alice" },
      { type: "affiliation_changed", room: ROOM, jid: "bob@b.test", affiliation: "outcast", previous: "none", reason: "banned" },
      { type: "occupant_banned", room: ROOM, nick: "Bob", jid: "bob@b.test", reason: "banned" },
    ]);
  });

  test("room_configured names what changed; an unchanged configuration is no event; room_destroyed", () => {
    const { f, events, types } = withEvents();
    f.join(ALICE, "lobby", "Alice");
    events.length = 0;
    const room = f.service.room(ROOM)!;
    f.service.configure(ROOM, { ...room.config, name: "Lobby", persistent: true }, []);
    f.service.configure(ROOM, room.config, []);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "room_configured", changed: ["name", "persistent"], config: { ...DEFAULT_ROOM_CONFIG, name: "Lobby", persistent: true } });
    f.service.destroy(ROOM, { reason: "done" }, []);
    expect(types()).toEqual(["room_configured", "room_destroyed"]);
    expect(events[1]).toMatchObject({ room: ROOM, reason: "done" });
  });

  test("every event has its own id", () => {
    const { f, events } = withEvents();
    f.join(ALICE, "lobby", "Alice");
    f.join(BOB, "lobby", "Bob");
    f.leave(BOB, "lobby", "Bob");
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });
});
