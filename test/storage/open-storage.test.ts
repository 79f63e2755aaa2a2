/** openStorage's refusals (the kinds themselves: the storage suite). */
import { expect, test } from "bun:test";
import { ConfigError } from "../../src/errors.ts";
import { silentLogger } from "../../src/log.ts";
import { openStorage } from "../../src/storage/open-storage.ts";

test("anything but memory, sqlite:<path> or postgres://… is a ConfigError naming the key storage, without the password", async () => {
  for (const url of ["", "redis://u:hunter2@h/0", "sqlite:", "postgres://u:hunter2@h", "postgresql://u:hunter2@h/db?opt=1"]) {
    let error: unknown;
    try {
      await openStorage(url, { logger: silentLogger });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe("storage");
    expect((error as Error).message).not.toContain("hunter2");
  }
});
