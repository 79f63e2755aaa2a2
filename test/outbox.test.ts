import { describe, expect, test } from "bun:test";
import { Element } from "@xmpp/xml";
import { createLogger } from "../src/log.ts";
import { Outbox } from "../src/outbox.ts";

/** Commit before send (docs/storage.md "Durability"): the order of events a crash could observe. */

const stanza = (id: string) => new Element("message", { id });
const ids = (batch: Element[]) => batch.map((s) => s.attrs.id).join(",");

function outbox(commit: () => void | Promise<void>) {
  const events: string[] = [];
  const lines: string[] = [];
  const box = new Outbox({
    commit: () => {
      events.push("commit");
      return commit();
    },
    send: (batch) => events.push(`send ${ids(batch)}`),
    logger: createLogger("info", { write: (l: string) => void lines.push(l) }),
  });
  return { box, events, lines };
}

describe("the outbox", () => {
  test("everything sent in one turn waits for one commit, then goes out together, in order", async () => {
    const { box, events } = outbox(() => {});
    box.send([stanza("a")]);
    box.send([stanza("b"), stanza("c")]);
    expect(events).toEqual([]); // nothing leaves before the end of the turn
    await Promise.resolve();
    expect(events).toEqual(["commit", "send a,b,c"]);
  });

  test("an asynchronous commit holds its batch and every later one until it is done; order never changes", async () => {
    let release!: () => void;
    let first = true;
    const { box, events } = outbox(() => {
      if (!first) return Promise.resolve();
      first = false;
      return new Promise<void>((r) => (release = r));
    });
    box.send([stanza("a")]);
    await Promise.resolve();
    box.send([stanza("b")]);
    await Promise.resolve();
    expect(events).toEqual(["commit"]);
    release();
    await box.flush();
    expect(events).toEqual(["commit", "send a", "commit", "send b"]);
  });

  test("a failed commit is logged and the stanzas still go; the next success clears the failing state", async () => {
    let fail = true;
    const { box, events, lines } = outbox(() => {
      if (fail) throw new Error("disk full");
    });
    box.send([stanza("a")]);
    await box.flush();
    expect(events).toEqual(["commit", "send a"]);
    expect(box.failing).toBe(true);
    expect(box.failures).toBe(1);
    expect(lines.some((l) => l.includes("storage commit failed") && l.includes("disk full"))).toBe(true);
    fail = false;
    box.send([stanza("b")]);
    await box.flush();
    expect(box.failing).toBe(false);
    expect(box.failures).toBe(1); // counted for ever: the metric is a counter
  });

  test("pending counts the stanzas accepted and not yet handed to the link, through a slow commit", async () => {
    let release!: () => void;
    const committed = new Promise<void>((r) => (release = r));
    const { box } = outbox(() => committed);
    box.send([stanza("a"), stanza("b")]);
    expect(box.pending).toBe(2);
    await Promise.resolve();
    box.send([stanza("c")]);
    expect(box.pending).toBe(3);
    release();
    await box.flush();
    expect(box.pending).toBe(0);
  });

  test("flush commits and sends what waits now, without waiting for the turn to end", async () => {
    const { box, events } = outbox(() => {});
    box.send([stanza("a")]);
    await box.flush();
    expect(events).toEqual(["commit", "send a"]);
  });
});
