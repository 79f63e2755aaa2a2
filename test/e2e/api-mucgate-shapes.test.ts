/**
 * mucgate's room API (docs/room-api.md) against the same cases that pin
 * ejabberd 23.01's answers (harness/room-api-cases.ts): real Prosody, real
 * clients as occupants, mucgate as a process. Every case runs on `/api`;
 * a smoke on `/api/v1` (the same handler). ejabberd's quirks (`odd.copy:
 * false`) are not required, and the cases below, where mucgate answers
 * otherwise by design, are left out or adapted — each with its reason.
 */
import { describe, expect, test } from "bun:test";
import { callApi } from "./harness/ejabberd-api.ts";
import { NS_MUC_USER, statusCodes } from "./harness/stanzas.ts";
import { DEFAULT_ROOM_OPTIONS, ROOM_API_CASES, type Expected, type RoomApiCase } from "./harness/room-api-cases.ts";
import { caseRun, runCase, type RoomApiTarget } from "./harness/room-api-run.ts";
import { useRig } from "./harness/rig.ts";

const rig = useRig();

/** Cases whose answer differs by design, and why (docs/room-api.md "Differences from ejabberd"). */
const DIFFERENT: Record<string, string> = {
  "a call without credentials is a 403 code 32": "one configured Authorization value: anything else is 401 code 10",
  "a valid account that is not allowed is a 403 code 32": "no accounts: 401 code 10",
  "an unknown Bearer token is a 401 code 10 about OAuth": "no OAuth: the same 401 code 10 as any wrong value",
  "an unknown command is a 404 whatever the credentials": "Authorization is checked first: 401",
  "create_room_with_opts sets every option it is given": "members_only, moderated, password… are refused until mucgate has those settings",
  "create_room_with_opts takes options as an object too": "max_users is refused (no limit to set)",
  "change_room_option password leaves password_protected alone": "password is refused (no password-protected rooms yet)",
  "an empty temporary room made over the API is gone 30 seconds later": "31 s of waiting; test/http/room-api.test.ts runs it on an injected timer",
  "an empty persistent room made over the API stays": "31 s of waiting; persistence has its own tests",
};

/**
 * get_room_options as mucgate answers it: ejabberd's keys in ejabberd's
 * order, every value a string; values mucgate has no setting for say what
 * it does (moderated "false", max_users "0"), so only the ones the case set
 * are compared.
 */
function optionsShape(expected: Record<string, string>): Expected["body"] {
  const set = Object.entries(expected).filter(([k, v]) => DEFAULT_ROOM_OPTIONS[k as keyof typeof DEFAULT_ROOM_OPTIONS] !== v);
  return (body: unknown) =>
    body !== null &&
    typeof body === "object" &&
    Bun.deepEquals(Object.keys(body), Object.keys(DEFAULT_ROOM_OPTIONS)) &&
    Object.values(body).every((v) => typeof v === "string") &&
    set.every(([k, v]) => (body as Record<string, string>)[k] === v);
}

function adaptExpected<T extends { expect: Expected }>(call: T): T {
  const body = call.expect.body;
  if (body && typeof body === "object" && !Array.isArray(body) && "allow_query_users" in body) {
    return { ...call, expect: { ...call.expect, body: optionsShape(body as Record<string, string>) } };
  }
  return call;
}

/** The case as mucgate must pass it, or undefined when it does not apply. */
function forMucgate(c: RoomApiCase): RoomApiCase | undefined {
  if (c.odd?.copy === false || c.name in DIFFERENT) return undefined;
  let adapted: RoomApiCase = { ...adaptExpected(c), then: c.then?.map(adaptExpected) };
  if (c.name.startsWith("destroy_room sends each occupant")) {
    // mucgate's §10.9 presence keeps what its XMPP destroy sends: the occupant's own item (jid, affiliation) and 110.
    const destroyed = (who: "user" | "other") => ({
      to: who,
      what: "§10.9 destroy presence",
      match: (s: import("@xmpp/xml").Element, r: import("./harness/room-api-cases.ts").CaseRun) => {
        const x = s.getChild("x", NS_MUC_USER);
        return (
          s.name === "presence" &&
          s.attrs.type === "unavailable" &&
          s.attrs.from === `${r.roomJid}/${r.nick[who]}` &&
          x?.getChild("destroy")?.children.length === 0 &&
          x.getChild("item")?.attrs.role === "none" &&
          statusCodes(s).includes(110)
        );
      },
    });
    adapted = { ...adapted, receives: [destroyed("user"), destroyed("other")] };
  }
  return adapted;
}

function target(path: string): RoomApiTarget {
  const m = rig.mucgate;
  return {
    baseUrl: `${m.httpUrl}${path}`,
    service: rig.service,
    host: rig.prosody.domain,
    authorization: (kind) => {
      switch (kind) {
        case "admin":
          return m.kickAuth;
        case "none":
          return undefined;
        default:
          return `${m.kickAuth}-not`;
      }
    },
    xmpp: rig.prosody,
    register: async (user, password) => rig.prosody.register(user, password),
  };
}

const CASES = ROOM_API_CASES.map((c, i) => [i, forMucgate(c)] as const).filter((e): e is readonly [number, RoomApiCase] => e[1] !== undefined);

describe("mucgate /api", () => {
  for (const [i, c] of CASES) {
    test.concurrent(c.name, () => runCase(target("/api"), c, caseRun(target("/api"), "mg", i), { quirks: false }), 15_000);
  }
});

describe("mucgate /api/v1", () => {
  test("is the same API: create, list, options, destroy", async () => {
    const t = target("/api/v1");
    const auth = { authorization: rig.mucgate.kickAuth };
    const room = { name: "v1-smoke", service: t.service };
    expect((await callApi(t.baseUrl, "create_room", { ...room, host: t.host }, auth)).body).toBe(0);
    expect((await callApi(t.baseUrl, "muc_online_rooms", { service: t.service }, auth)).body).toContain(`v1-smoke@${t.service}`);
    expect((await callApi(t.baseUrl, "get_room_options", room, auth)).body).toSatisfy(optionsShape({}) as (b: unknown) => boolean);
    expect((await callApi(t.baseUrl, "get_room_occupants_number", room, auth)).body).toEqual({ occupants: 0 });
    expect((await callApi(t.baseUrl, "destroy_room", room, auth)).body).toBe(0);
    expect((await callApi(t.baseUrl, "destroy_room", room, auth)).body).toBe("Room doesn't exists");
  });

  test("a wrong Authorization is 401 code 10 there too", async () => {
    const answer = await callApi(target("/api/v1").baseUrl, "muc_online_rooms", { service: rig.service }, { authorization: "Basic eHg6eXk=" });
    expect([answer.status, answer.body]).toEqual([401, { status: "error", code: 10, message: "You are not authorized to call this command." }]);
  });
});

