import { describe, expect, test } from "bun:test";
import type { Element } from "@xmpp/xml";
import { DOMAIN, fixture, itemOf, statuses } from "./fixture.ts";

/** XEP-0045 §15.7.2 status 332: removed because the MUC service is being shut down. */

describe("service shutdown", () => {
  test("every session in every room gets unavailable with 332 and 110; no room remains", () => {
    const f = fixture();
    f.join("alice@a.test/phone", "lobby", "Alice");
    f.join("alice@a.test/laptop", "lobby", "Alice");
    f.join("bob@b.test/pc", "lobby", "Bob");
    f.join("bob@b.test/pc", "kitchen", "Bob");
    const out: Element[] = [];
    f.service.shutdown(out);
    const selves = out.filter((s) => statuses(s).includes("110"));
    expect(selves.map((s) => `${s.attrs.to} ${s.attrs.from}`).sort()).toEqual(
      [
        `alice@a.test/laptop lobby@${DOMAIN}/Alice`,
        `alice@a.test/phone lobby@${DOMAIN}/Alice`,
        `bob@b.test/pc kitchen@${DOMAIN}/Bob`,
        `bob@b.test/pc lobby@${DOMAIN}/Bob`,
      ].sort(),
    );
    for (const s of out) {
      expect(s.attrs.type).toBe("unavailable");
      expect(statuses(s)).toContain("332");
      expect(itemOf(s)!.attrs.role).toBe("none");
    }
    expect(f.service.rooms.size).toBe(0);
    expect(f.service.occupantCount).toBe(0);
  });

  test("each session hears only of itself: one stanza per session, not the room's copies of everyone's leave", () => {
    // A room of k would otherwise send k(k+1)/2: 255,000 stanzas for 10,000 occupants in rooms of 50 (bench/shutdown.bench.ts).
    const f = fixture();
    const nicks = Array.from({ length: 20 }, (_, i) => `N${i}`);
    for (const nick of nicks) f.join(`${nick.toLowerCase()}@a.test/r`, "lobby", nick);
    f.join("n0@a.test/other", "lobby", "N0");
    const out: Element[] = [];
    f.service.shutdown(out);
    expect(out).toHaveLength(nicks.length + 1);
    for (const s of out) {
      expect(statuses(s)).toEqual(expect.arrayContaining(["110", "332"]));
      // Addressed to one of its own sessions.
      expect(s.attrs.from!.split("/")[1]!.toLowerCase()).toBe(s.attrs.to!.split("@")[0]!);
    }
  });

  test("with no rooms, nothing is sent", () => {
    const f = fixture();
    const out: Element[] = [];
    f.service.shutdown(out);
    expect(out).toEqual([]);
  });
});
