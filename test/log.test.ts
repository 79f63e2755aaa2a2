import { afterEach, expect, test } from "bun:test";
import { createLogger, logWarnings } from "../src/log.ts";

afterEach(() => {
  process.removeAllListeners("warning");
});

test("runtime warnings become JSON log lines instead of Bun's own text on stderr", async () => {
  const lines: string[] = [];
  logWarnings(createLogger("info", { write: (s: string) => void lines.push(s) }));
  process.emitWarning("something odd", { code: "X_ODD" });
  await Bun.sleep(10);
  expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ level: "warn", msg: "something odd", warning: "Warning", code: "X_ODD" })]);
  expect(process.listenerCount("warning")).toBe(1);
});
