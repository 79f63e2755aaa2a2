import { describe, expect, test } from "bun:test";
import { ArchiveExpiry } from "../src/archive-expiry.ts";
import { createLogger } from "../src/log.ts";
import { MemoryStorage } from "../src/storage/memory-storage.ts";

/** muc_log_expires_after: old archived messages are deleted in the background. */

const message = (id: string, stamp: number) => ({ id, stamp, from: "r@muc/a", bare: "a@x", stanza: "<message type='groupchat'><body>x</body></message>" });

describe("archive expiry", () => {
  test("a run deletes what is older than the retention, keeps the rest, and logs how many went", async () => {
    const storage = new MemoryStorage();
    const now = 1_000_000_000;
    storage.archive("r@muc", message("old", now - 3_601_000));
    storage.archive("r@muc", message("new", now - 10_000));
    const lines: string[] = [];
    const expiry = new ArchiveExpiry({ storage, keepSeconds: 3600, now: () => now, logger: createLogger("info", { write: (l: string) => void lines.push(l) }) });
    await expiry.run();
    const left = storage.queryArchive("r@muc", { max: 10 });
    expect(left.found && left.messages.map((m) => m.id)).toEqual(["new"]);
    expect(lines.some((l) => l.includes("expired archived messages") && l.includes('"deleted":1'))).toBe(true);
  });

  test("a failed run is logged and never rejects", async () => {
    const lines: string[] = [];
    const expiry = new ArchiveExpiry({
      storage: { expireArchive: () => Promise.reject(new Error("db gone")), commit: () => {} },
      keepSeconds: 60,
      logger: createLogger("info", { write: (l: string) => void lines.push(l) }),
    });
    await expiry.run();
    expect(lines.some((l) => l.includes("archive expiry failed") && l.includes("db gone"))).toBe(true);
  });

  test("a retention that is not positive is a TypeError", () => {
    expect(() => new ArchiveExpiry({ storage: new MemoryStorage(), keepSeconds: 0, logger: createLogger("silent") })).toThrow(TypeError);
  });
});
