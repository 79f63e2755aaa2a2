/**
 * ejabberd 23.01's room admin API answers, pinned: every case of
 * harness/room-api-cases.ts against a private ejabberd with mod_muc,
 * mod_muc_admin and mod_http_api, on `/api` (API version 0) and `/api/v1`
 * (version 1: the same answers in 23.01). Occupants are real clients on
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

for (const [label, path] of [["v0", ""], ["v1", "/v1"]] as const) {
  describe(`ejabberd /api${path}`, () => {
    ROOM_API_CASES.forEach((c, i) => {
      test.concurrent(c.name, () => runCase(target(path), c, caseRun(target(path), label, i)), (c.waitMs ?? 0) + 15_000);
    });
  });
}
