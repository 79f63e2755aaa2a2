/**
 * Run by the storage suite as a child process:
 *   bun test/storage/crash-writer.ts <storage URL> <count>
 * archives `count` messages, committing each, prints the id of the last one
 * committed, archives one more without committing, and kills itself with
 * SIGKILL — a crash right after an occupant could have received the last
 * committed message.
 */
import { writeSync } from "node:fs";
import { silentLogger } from "../../src/log.ts";
import { openStorage } from "../../src/storage/open-storage.ts";

const [url, countText] = process.argv.slice(2);
if (url === undefined || countText === undefined) throw new Error("usage: crash-writer.ts <storage URL> <count>");
const store = await openStorage(url, { logger: silentLogger });
const room = "crash@rooms.test";
const message = (id: string, stamp: number) => ({ id, stamp, from: `${room}/writer`, bare: "writer@users.test", stanza: `<message><body>${id}</body></message>` });
store.putRoom({ jid: room, persistent: true, public: false, name: "crash", createdAt: 1, data: {} });
const count = Number(countText);
for (let i = 0; i < count; i++) {
  store.archive(room, message(`committed-${i}`, 1000 + i));
  await store.commit();
}
store.archive(room, message("uncommitted", 1000 + count));
writeSync(1, `committed-${count - 1}\n`); // synchronously: nothing of it may be lost with the process
process.kill(process.pid, "SIGKILL");
