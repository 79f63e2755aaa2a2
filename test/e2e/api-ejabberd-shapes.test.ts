/**
 * ejabberd 23.01's room admin API answers, pinned: every case of
 * harness/room-api-cases.ts against a private ejabberd with mod_muc,
 * mod_muc_admin and mod_http_api, on `/api` (API version 0), and a smoke of
 * `/api/v1` (version 1: the same answers in 23.01). Occupants are real clients on
 * its c2s port. Cases use their own rooms and accounts, so they run
 * concurrently; two of them wait out ejabberd's 30-second empty-room check.
 */
import { afterAll, beforeAll, describe, test } from "bun:test";
import { basicAuth, startEjabberdRoomApi, type EjabberdRoomApi } from "./harness/ejabberd-api.ts";
import { ROOM_API_CASES } from "./harness/room-api-cases.ts";
import { CASE_PASSWORD, caseRun, runCase, type RoomApiTarget } from "./harness/room-api-run.ts";

let ejabberd: EjabberdRoomApi;
beforeAll(async () => {
  ejabberd = await startEjabberdRoomApi();
});
afterAll(async () => {
  await ejabberd?.stop();
});

function target(path: string): RoomApiTarget {
  return {
    baseUrl: ejabberd.baseUrl + path,
    service: ejabberd.service,
    host: ejabberd.host,
    authorization(kind, run) {
      switch (kind) {
        case "admin":
          return ejabberd.authorization;
        case "none":
          return undefined;
        case "wrong-password":
          return basicAuth(ejabberd.admin.jid, `${ejabberd.admin.password}-wrong`);
        case "unknown-account":
          return basicAuth(`nobody@${ejabberd.host}`, "whatever");
        case "malformed-basic":
          return "Basic !!!";
        case "other-scheme":
          return "Weird abc";
        case "bearer":
          return "Bearer not-a-token-anyone-issued";
        case "user-account":
          return basicAuth(run.userJid, CASE_PASSWORD);
      }
    },
    xmpp: ejabberd.server,
    register: (user, password) => ejabberd.server.register(user, password),
  };
}

describe("ejabberd /api", () => {
  ROOM_API_CASES.forEach((c, i) => {
    test.concurrent(c.name, () => runCase(target(""), c, caseRun(target(""), "v0", i)), (c.waitMs ?? 0) + 15_000);
  });
});

/** API version 1 answers as version 0 in 23.01 (docs/room-api-ejabberd.md): a smoke of one case per kind of answer. */
const V1_SMOKE = [
  "create_room creates a room and answers 0",
  "create_room of an existing room is a 400 with a bare string",
  "get_room_occupants_number is an object named occupants",
  "get_room_options is one object of string values",
  "an unknown command is a 404 Endpoint not found",
];

for (const name of V1_SMOKE) if (!ROOM_API_CASES.some((c) => c.name === name)) throw new Error(`V1_SMOKE: no case named '${name}'`);

describe("ejabberd /api/v1", () => {
  ROOM_API_CASES.forEach((c, i) => {
    if (!V1_SMOKE.includes(c.name)) return;
    test.concurrent(c.name, () => runCase(target("/v1"), c, caseRun(target("/v1"), "v1", i)), (c.waitMs ?? 0) + 15_000);
  });
});
