/**
 * The room API and storage (docs/room-api.md): what a command changes is
 * stored as the same change from XMPP would be, and a stored room nobody
 * is in is loaded before a command looks at it. mucgate as a process on
 * SQLite (the default), restarted between the calls.
 */
import { expect, test } from "bun:test";
import { callApi } from "./harness/ejabberd-api.ts";
import { joinPresence } from "./harness/client.ts";
import { expectJoined, mucItem } from "./harness/gate-kit.ts";
import { useRig } from "./harness/rig.ts";

const rig = useRig();

test("a persistent room made and configured over the API, with an owner, survives a restart; the owner joins as owner", async () => {
  const m = rig.mucgate;
  const api = (command: string, args: unknown) => callApi(`${m.httpUrl}/api`, command, args, { authorization: m.kickAuth });
  const room = { name: "kept", service: rig.service };
  const options = [{ name: "title", value: "Kept" }, { name: "persistent", value: "true" }];
  expect((await api("create_room_with_opts", { ...room, host: rig.prosody.domain, options })).body).toBe(0);
  expect((await api("set_room_affiliation", { ...room, jid: "alice@localhost", affiliation: "owner" })).body).toBe(0);
  expect((await api("change_room_option", { ...room, option: "description", value: "Survives" })).body).toBe(0);

  await m.restart();

  const opts = (await api("get_room_options", room)).body as Record<string, string>;
  expect(opts).toMatchObject({ title: "Kept", description: "Survives", persistent: "true" });
  expect((await api("get_room_affiliations", room)).body).toEqual([{ username: "alice", domain: "localhost", affiliation: "owner", reason: "" }]);

  const alice = await rig.client("alice");
  await alice.send(joinPresence(`kept@${rig.service}/alice`));
  const self = await expectJoined(alice, `kept@${rig.service}/alice`);
  expect(mucItem(self)).toMatchObject({ affiliation: "owner", role: "moderator" });

  // destroy_room of a stored room forgets it for good.
  expect((await api("destroy_room", room)).body).toBe(0);
  await m.restart();
  expect((await api("get_room_options", room)).body).toEqual({});
});
