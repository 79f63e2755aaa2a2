/**
 * `storage = …` → an open, migrated Storage (docs/storage.md). Logs where it
 * opened (kind and path, or host, port and database: never the password) and
 * any schema migration it applied.
 */
import { resolve } from "node:path";
import { ConfigError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Storage } from "../muc/storage.ts";
import { MemoryStorage } from "./memory-storage.ts";
import type { MigrationResult } from "./migrations.ts";
import { PostgresStorage } from "./postgres-storage.ts";
import { SqliteStorage } from "./sqlite-storage.ts";
import { describeTarget, parseStorageUrl } from "./storage-url.ts";

export interface OpenStorageOptions {
  readonly logger: Logger;
  /** ms since the epoch, for the schema's record of when each migration ran. */
  readonly clock?: () => number;
}

/**
 * Rejects with a ConfigError (key `storage`) for a value of the wrong form,
 * and a StorageError for a database that cannot be opened or migrated
 * (including one whose schema is newer than this mucgate).
 */
export async function openStorage(url: string, options: OpenStorageOptions): Promise<Storage> {
  const target = parseStorageUrl(url);
  if (typeof target === "string") throw new ConfigError("storage", target);
  const { logger, clock } = options;
  const where = describeTarget(target);
  let store: Storage;
  let migration: MigrationResult | undefined;
  switch (target.kind) {
    case "memory":
      store = new MemoryStorage();
      logger.warn(where, "storage opened: memory, nothing survives a restart");
      return store;
    case "sqlite": {
      const sqlite = SqliteStorage.open(target.path, clock ? { clock } : {});
      ({ migration } = sqlite);
      store = sqlite;
      break;
    }
    case "postgres": {
      const postgres = await PostgresStorage.open(target, clock ? { clock } : {});
      ({ migration } = postgres);
      store = postgres;
      break;
    }
  }
  const shown = target.kind === "sqlite" ? { ...where, path: resolve(target.path) } : where;
  if (migration.from !== migration.to) logger.info({ ...shown, from: migration.from, to: migration.to }, "storage schema migrated");
  logger.info({ ...shown, schema: migration.to }, "storage opened");
  return store;
}
