import type { Room } from "./room.ts";
import { DEFAULT_ROOM_CONFIG, type RoomConfig } from "./room-config.ts";
import type { RoomRecord, StoredRoom } from "./storage.ts";

/**
 * A room as the storage port keeps it, and back. `data` is the core's own
 * document; its `v` lets a later mucgate read what an earlier one wrote.
 */
const VERSION = 1;

interface RoomData {
  readonly v: number;
  readonly config: Partial<RoomConfig>;
}

export function roomRecord(room: Room): RoomRecord {
  const data: RoomData = { v: VERSION, config: room.config };
  return {
    jid: room.jid,
    persistent: false,
    public: room.config.public,
    name: room.config.name,
    createdAt: room.createdAt,
    data: data as unknown as Record<string, unknown>,
  };
}

/** The configuration stored for a room, over `defaults` for anything it lacks (a field added since it was saved). */
export function storedConfig(stored: StoredRoom, defaults: RoomConfig = DEFAULT_ROOM_CONFIG): RoomConfig {
  const data = stored.record.data as Partial<RoomData>;
  const config: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(data.config ?? {})) {
    // Only known keys of the right type: a document from another version never breaks a room.
    if (Object.hasOwn(defaults, key) && typeof value === typeof (defaults as unknown as Record<string, unknown>)[key]) config[key] = value;
  }
  return config as unknown as RoomConfig;
}
