import type { Logger } from "./log.ts";
import type { ChangeListener } from "./muc/service.ts";

/**
 * One info line for each change of a room's life an operator wants to see:
 * created, destroyed, made persistent or temporary, configured (which
 * settings changed). Occupants coming and going are not logged here.
 */
export function roomLog(logger: Logger): ChangeListener {
  return (room, change) => {
    switch (change.kind) {
      case "created":
        logger.info({ room: room.jid, by: change.creator }, "room created");
        return;
      case "destroyed":
        logger.info({ room: room.jid, reason: change.reason, occupants: change.occupants.length }, "room destroyed");
        return;
      case "config-changed": {
        const changed = Object.keys(change.config).filter((key) => change.config[key as keyof typeof change.config] !== change.previous[key as keyof typeof change.previous]);
        if (changed.length === 0) return;
        if (change.config.persistent !== change.previous.persistent) {
          logger.info({ room: room.jid }, change.config.persistent ? "room made persistent" : "room made temporary");
        }
        logger.info({ room: room.jid, changed }, "room configured");
        return;
      }
    }
  };
}
