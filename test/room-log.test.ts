import { describe, expect, test } from "bun:test";
import { createLogger } from "../src/log.ts";
import { roomLog } from "../src/room-log.ts";
import { DATA, DOMAIN, MUC_OWNER, MUC_ROOMCONFIG, fixture } from "./muc/fixture.ts";

/** One info line per room life event an operator wants to see. */

describe("the room log", () => {
  test("created, made persistent and configured (naming what changed), destroyed", () => {
    const lines: Record<string, unknown>[] = [];
    const f = fixture();
    f.service.subscribe(roomLog(createLogger("info", { write: (l: string) => void lines.push(JSON.parse(l)) })));
    f.join("alice@a.test/x", "lobby", "Alice");
    const field = (k: string, v: string) => `<field var='${k}'><value>${v}</value></field>`;
    f.iq(
      "alice@a.test/x",
      `lobby@${DOMAIN}`,
      "set",
      `<query xmlns='${MUC_OWNER}'><x xmlns='${DATA}' type='submit'>${field("FORM_TYPE", MUC_ROOMCONFIG)}${field("muc#roomconfig_persistentroom", "1")}${field("muc#roomconfig_roomname", "L")}</x></query>`,
    );
    f.iq("alice@a.test/x", `lobby@${DOMAIN}`, "set", `<query xmlns='${MUC_OWNER}'><destroy/></query>`);
    expect(lines.map((l) => [l.msg, l.room])).toEqual([
      ["room created", `lobby@${DOMAIN}`],
      ["room made persistent", `lobby@${DOMAIN}`],
      ["room configured", `lobby@${DOMAIN}`],
      ["room destroyed", `lobby@${DOMAIN}`],
    ]);
    expect((lines[2]!.changed as string[]).sort()).toEqual(["name", "persistent"]);
  });
});
