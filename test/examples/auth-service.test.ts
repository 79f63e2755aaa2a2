import { afterAll, expect, test } from "bun:test";
import { AuthClient } from "../../src/auth/auth-client.ts";
import { startExampleAuthService } from "../../examples/auth-service.ts";

/** The example authorization service, asked by mucgate's own client over HTTP. */
const server = startExampleAuthService();
afterAll(() => server.stop(true));
const client = new AuthClient({ url: `http://127.0.0.1:${server.port}/auth`, timeout: 2 });
const ask = (userJID: string, room: string, nickname: string) => client.ask({ userJID, mucJID: `${room}@rooms.localhost`, nickname });

test("admin* users join as owners and moderators", async () => {
  expect(await ask("admin@localhost", "lobby", "Boss")).toEqual({ allowed: true, standing: { affiliation: "owner", role: "moderator" } });
});

test("guest* nicknames join as visitors", async () => {
  expect(await ask("carol@localhost", "lobby", "Guest42")).toEqual({ allowed: true, standing: { role: "visitor" } });
});

test("others are allowed with no standing; deny* nicknames and non-admins in staff are refused", async () => {
  expect(await ask("alice@localhost", "lobby", "Alice")).toEqual({ allowed: true });
  expect(await ask("alice@localhost", "lobby", "denyme")).toMatchObject({ allowed: false, failure: false });
  expect(await ask("carol@localhost", "staff", "Carol")).toMatchObject({ allowed: false, failure: false });
});
