/** The storage suite against the in-memory store. */
import { MemoryStorage } from "../../src/storage/memory-storage.ts";
import { storageSuite } from "./storage.suite.ts";

storageSuite({
  kind: "memory",
  runs: 200,
  fresh: async () => ({ url: "memory", open: async () => new MemoryStorage() }),
});
