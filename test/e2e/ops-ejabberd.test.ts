/**
 * Server-agnostic, tested: the same representative end-to-end suite runs
 * against every server in SERVER_KINDS — ejabberd (Debian's package, its
 * `ejabberd_service` listener) and Prosody as the control — with identical
 * assertions. Each server starts once per describe block (ejabberd's VM takes
 * a couple of seconds); the tests inside share it, one mucgate and one auth
 * service, and use distinct rooms so they don't depend on one another's state.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { deny, startAuthServer, type AuthServer } from "./harness/auth-server.ts";
import {
  connectClient,
  groupchat,
  joinPresence,
  leavePresence,
  NS_MUC_USER,
  privateMessage,
  stanzaError,
  statusCodes,
  xml,
  type Element,
  type TestClient,
} from "./harness/client.ts";
import type { EjabberdServer } from "./harness/ejabberd.ts";
import { startMucgate, type MucgateProcess } from "./harness/mucgate.ts";
import { SERVER_KINDS, startXmppServer, type XmppServer } from "./harness/servers.ts";
import { waitUntil } from "./harness/wait-until.ts";

const USERS = ["alice", "bob", "carol", "dave", "mallory"] as const;
const PASSWORD = "pw-e2e";

/** `ip:port` of every TCP socket `pid` listens on (from /proc: no ss/netstat needed). */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {}
  }
  const out: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "0A" || !inodes.has(f[9]!)) continue; // 0A = LISTEN
      const [hex, port] = f[1]!.split(":");
      const ip =
        hex!.length === 8
          ? [3, 2, 1, 0].map((i) => parseInt(hex!.slice(i * 2, i * 2 + 2), 16)).join(".")
          : `[${hex}]`; // IPv6: anything here is a failure anyway
      out.push(`${ip}:${parseInt(port!, 16)}`);
    }
  }
  return out;
}

function isSubject(s: Element): boolean {
  return s.name === "message" && s.getChild("subject") !== undefined && s.getChild("body") === undefined;
}

for (const kind of SERVER_KINDS) {
  describe(`against ${kind}`, () => {
    let server: XmppServer;
    let auth: AuthServer;
    let mucgate: MucgateProcess;
    let muc: string;
    const clients: TestClient[] = [];

    async function login(user: (typeof USERS)[number]): Promise<TestClient> {
      const c = await connectClient({ server, username: user, password: PASSWORD });
      clients.push(c);
      return c;
    }

    /** Join and read through to the subject (the end of the join); returns the self-presence. */
    async function enter(c: TestClient, room: string, nick: string): Promise<Element> {
      await c.send(joinPresence(`${room}/${nick}`));
      const self = await c.waitFor((s) => s.name === "presence" && s.attrs.from === `${room}/${nick}` && statusCodes(s).includes(110));
      await c.waitFor((s) => isSubject(s) && s.attrs.from === room);
      return self;
    }

    beforeAll(async () => {
      server = await startXmppServer(kind);
      await server.registerMany(USERS.map((user) => ({ user, password: PASSWORD })));
      auth = startAuthServer();
      // Persistent rooms, 332 on stop: the rooms outlive the crash in storage; SIGTERM tells everyone.
      mucgate = await startMucgate({
        prosody: server,
        authUrl: auth.url,
        startTimeout: 15_000,
        config: { muc_room_default_persistent: true, muc_keep_occupants_on_restart: false },
      });
      muc = server.componentDomain;
    }, 60_000);

    afterEach(async () => {
      for (const c of clients.splice(0)) await c.stop();
    });

    afterAll(async () => {
      await mucgate?.stop();
      await auth?.stop();
      await server?.stop();
    }, 30_000);

    if (kind === "ejabberd") {
      test("the private ejabberd listens on loopback only, and ejabberdctl reaches it", async () => {
        const ej = server as EjabberdServer;
        const listening = listeningAddresses(ej.pid!);
        expect(listening.length).toBeGreaterThanOrEqual(4); // c2s, component, api, distribution
        for (const address of listening) expect(address).toStartWith("127.0.0.1:");
        expect(listening).toEqual(expect.arrayContaining([`127.0.0.1:${ej.c2sPort}`, `127.0.0.1:${ej.componentPort}`]));

        const r = await ej.ejabberdctl("register", "ctluser", ej.domain, "ctl-pw");
        expect(r).toMatchObject({ exitCode: 0 });
        const c = await connectClient({ server, username: "ctluser", password: "ctl-pw" });
        clients.push(c);
        expect(c.bareJid).toBe(`ctluser@${ej.domain}`);
      }, 15_000);
    }

    test("join order: existing occupants, then self-presence with 110 (201 for the creator), then the subject", async () => {
      const room = `order@${muc}`;
      const alice = await login("alice");
      const bob = await login("bob");
      expect(statusCodes(await enter(alice, room, "Alice"))).toEqual(expect.arrayContaining([110, 201]));

      const start = bob.mark();
      await bob.send(joinPresence(`${room}/Bob`));
      const other = await bob.waitFor({ name: "presence", from: `${room}/Alice` });
      const self = await bob.waitFor({ name: "presence", from: `${room}/Bob` });
      const subject = await bob.waitFor(isSubject);
      expect(statusCodes(other)).not.toContain(110);
      expect(statusCodes(self)).toContain(110);
      expect(statusCodes(self)).not.toContain(201);
      expect(subject.attrs.from).toBe(room);
      // Exactly that order, nothing from the room in between.
      const fromRoom = bob.stanzas.slice(start).filter((s) => s.attrs.from?.startsWith(room));
      expect(fromRoom.map((s) => s.attrs.from)).toEqual([`${room}/Alice`, `${room}/Bob`, room]);
      // The room's owner sees the newcomer.
      const seen = await alice.waitFor({ name: "presence", from: `${room}/Bob` });
      expect(seen.getChild("x", NS_MUC_USER)?.getChild("item")?.attrs.role).toBe("participant");
    });

    test("groupchat reaches every occupant, the sender included, with its id", async () => {
      const room = `chat@${muc}`;
      const alice = await login("alice");
      const bob = await login("bob");
      await enter(alice, room, "alice");
      await enter(bob, room, "bob");
      await alice.send(groupchat(room, `hello over ${kind}`, "m-1"));
      for (const c of [alice, bob]) {
        const m = await c.waitFor({ name: "message", type: "groupchat", from: `${room}/alice` });
        expect(m.getChildText("body")).toBe(`hello over ${kind}`);
        expect(m.attrs.id).toBe("m-1");
      }
    });

    test("a private message goes to one occupant, from the sender's occupant JID", async () => {
      const room = `pm@${muc}`;
      const alice = await login("alice");
      const bob = await login("bob");
      const carol = await login("carol");
      for (const [c, n] of [
        [alice, "alice"],
        [bob, "bob"],
        [carol, "carol"],
      ] as const)
        await enter(c, room, n);
      await alice.send(privateMessage(`${room}/bob`, "just for you"));
      const m = await bob.waitFor({ name: "message", type: "chat" });
      expect(m.attrs.from).toBe(`${room}/alice`);
      expect(m.getChildText("body")).toBe("just for you");
      await carol.expectNothing({ name: "message", type: "chat" }, 200);
    });

    test("leave: the leaver gets its unavailable with 110, the others the unavailable", async () => {
      const room = `leave@${muc}`;
      const alice = await login("alice");
      const bob = await login("bob");
      await enter(alice, room, "alice");
      await enter(bob, room, "bob");
      await alice.waitFor({ name: "presence", from: `${room}/bob` });
      await bob.send(leavePresence(`${room}/bob`, "bye"));
      const own = await bob.waitFor({ name: "presence", type: "unavailable", from: `${room}/bob` });
      expect(statusCodes(own)).toContain(110);
      const seen = await alice.waitFor({ name: "presence", type: "unavailable", from: `${room}/bob` });
      expect(statusCodes(seen)).not.toContain(110);
      expect(seen.getChildText("status")).toBe("bye");
    });

    test("a client that disconnects without leaving is removed: the server's unavailable reaches the room", async () => {
      const room = `vanish@${muc}`;
      const alice = await login("alice");
      const bob = await login("bob");
      await enter(alice, room, "alice");
      await enter(bob, room, "bob");
      await alice.waitFor({ name: "presence", from: `${room}/bob` });
      await bob.stop();
      await alice.waitFor({ name: "presence", type: "unavailable", from: `${room}/bob` });
    });

    test("nick change: unavailable with 303 and the new nick, then available under the new nick", async () => {
      const room = `nick@${muc}`;
      const alice = await login("alice");
      const bob = await login("bob");
      await enter(alice, room, "alice");
      await enter(bob, room, "bob");
      await alice.waitFor({ name: "presence", from: `${room}/bob` });
      await bob.send(xml("presence", { to: `${room}/robert` }));
      for (const c of [bob, alice]) {
        const gone = await c.waitFor({ name: "presence", type: "unavailable", from: `${room}/bob` });
        expect(statusCodes(gone)).toContain(303);
        expect(gone.getChild("x", NS_MUC_USER)?.getChild("item")?.attrs.nick).toBe("robert");
        await c.waitFor({ name: "presence", type: "", from: `${room}/robert` });
      }
    });

    test("a nick in use by someone else: conflict, and the room sees nothing", async () => {
      const room = `conflict@${muc}`;
      const alice = await login("alice");
      const carol = await login("carol");
      await enter(alice, room, "sam");
      await carol.send(joinPresence(`${room}/sam`));
      const err = await carol.waitFor({ name: "presence", type: "error" });
      expect(stanzaError(err)).toMatchObject({ type: "cancel", condition: "conflict" });
      await alice.expectNothing((s) => s.name === "presence" && s.attrs.from === `${room}/sam`, 200);
    });

    test("the gate: a denial is not-authorized and invisible; an allowed join goes through with the right question", async () => {
      const room = `gated@${muc}`;
      const alice = await login("alice");
      const mallory = await login("mallory");
      await enter(alice, room, "alice");
      const before = auth.requests.length;
      auth.enqueue(deny("mallory is not welcome"));
      await mallory.send(joinPresence(`${room}/mallory`));
      const err = await mallory.waitFor({ name: "presence", type: "error" });
      expect(err.attrs.from).toBe(`${room}/mallory`);
      expect(stanzaError(err)).toMatchObject({ type: "auth", condition: "not-authorized" });
      await alice.expectNothing((s) => s.attrs.from === `${room}/mallory`, 200);
      const asked = auth.requests.slice(before);
      expect(asked.map((r) => [r.userJID, r.mucJID, r.nickname])).toEqual([[`mallory@${server.domain}`, room, "mallory"]]);

      const dave = await login("dave");
      await enter(dave, room, "dave");
      await alice.waitFor({ name: "presence", from: `${room}/dave` });
      expect(auth.requests.at(-1)).toMatchObject({ userJID: `dave@${server.domain}`, mucJID: room, nickname: "dave" });
    });

    test("HTTP kick: 307 with the reason to the kicked occupant and to the room", async () => {
      const room = `kick@${muc}`;
      const alice = await login("alice");
      const bob = await login("bob");
      await enter(alice, room, "alice");
      await enter(bob, room, "bob");
      await alice.waitFor({ name: "presence", from: `${room}/bob` });
      const res = await mucgate.kick({ nickname: "bob", muc: room, reason: "spam" });
      expect(res.status).toBe(200);
      for (const c of [bob, alice]) {
        const p = await c.waitFor({ name: "presence", type: "unavailable", from: `${room}/bob` });
        expect(statusCodes(p)).toContain(307);
        expect(p.getChild("x", NS_MUC_USER)?.getChild("item")?.getChildText("reason")).toBe("spam");
      }
      expect(statusCodes(bob.stanzas.at(-1)!)).toContain(110);
    });

    test("disco#info: the service and a room describe themselves", async () => {
      const room = `disco@${muc}`;
      const alice = await login("alice");
      await enter(alice, room, "alice");
      const svc = await alice.iq(xml("iq", { type: "get", to: muc }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
      expect(svc.attrs.type).toBe("result");
      expect(svc.getChild("query")?.getChild("identity")?.attrs).toMatchObject({ category: "conference", type: "text" });
      const info = await alice.iq(xml("iq", { type: "get", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
      expect(info.attrs.type).toBe("result");
      const features = info.getChild("query")!.getChildren("feature").map((f) => f.attrs.var);
      expect(features).toEqual(expect.arrayContaining(["http://jabber.org/protocol/muc", "http://jabber.org/protocol/muc#self-ping-optimization"]));
    });

    test("self-ping (XEP-0410): a result while joined, not-acceptable when not", async () => {
      const room = `ping@${muc}`;
      const alice = await login("alice");
      const bob = await login("bob");
      await enter(bob, room, "bob"); // keeps the room alive when alice leaves
      await enter(alice, room, "alice");
      const ping = (to: string) => xml("iq", { type: "get", to }, xml("ping", { xmlns: "urn:xmpp:ping" }));
      expect((await alice.iq(ping(`${room}/alice`))).attrs.type).toBe("result");
      await alice.send(leavePresence(`${room}/alice`));
      await alice.waitFor({ name: "presence", type: "unavailable", from: `${room}/alice` });
      const after = await alice.iq(ping(`${room}/alice`));
      expect(stanzaError(after)).toMatchObject({ condition: "not-acceptable" });
    });

    async function backOnline(): Promise<void> {
      await waitUntil(
        async () => {
          const r = await mucgate.health();
          return r.status === 200 && ((await r.json()) as { xmpp: string }).xmpp === "online";
        },
        { timeout: 15_000, interval: 50, describe: () => `mucgate did not come back online:\n${mucgate.output()}\n${server.logTail()}` },
      );
      expect(mucgate.exitCode).toBeNull();
    }

    test(`${kind} restarts (SIGTERM): mucgate notices, reconnects, and serves again`, async () => {
      const alice = await login("alice");
      await enter(alice, `before-restart@${muc}`, "alice");
      const logged = mucgate.json().length;
      await server.restart();
      await mucgate.waitForLog((l) => l.includes("component offline"), 10_000);
      expect(mucgate.json().slice(logged).find((r) => String(r.msg).startsWith("component offline"))).toMatchObject({ level: "warn" });
      await backOnline();
      // A graceful server may have told mucgate that alice left (then her room
      // is gone) or not; either way the service works as before.
      const bob = await login("bob");
      const carol = await login("carol");
      const room = `after-restart@${muc}`;
      await enter(bob, room, "bob");
      await enter(carol, room, "carol");
      await carol.send(groupchat(room, "we are back"));
      const m = await bob.waitFor({ name: "message", type: "groupchat", from: `${room}/carol` });
      expect(m.getChildText("body")).toBe("we are back");
    }, 40_000);

    test(`${kind} crashes (SIGKILL) and comes back: rooms and history survive in mucgate, the dead session is found and dropped`, async () => {
      const room = `survive@${muc}`;
      const alice = await login("alice");
      await enter(alice, room, "alice");
      await alice.send(groupchat(room, "before the crash"));
      await alice.waitFor({ name: "message", type: "groupchat", from: `${room}/alice` });

      const logged = mucgate.json().length;
      await server.restart({ signal: "SIGKILL" });
      await waitUntil(() => mucgate.json().slice(logged).some((r) => String(r.msg).startsWith("component offline")), {
        timeout: 10_000,
        describe: () => mucgate.output(),
      });
      await backOnline();
      expect(mucgate.json().slice(logged).some((r) => r.msg === "component online")).toBe(true);

      const bob = await login("bob");
      await bob.send(joinPresence(`${room}/bob`));
      const history = await bob.waitFor({ name: "message", type: "groupchat", from: `${room}/alice` });
      expect(history.getChildText("body")).toBe("before the crash");
      expect(history.getChild("delay", "urn:xmpp:delay")).toBeDefined();
      await bob.waitFor(isSubject);
      // alice's session died with the server while mucgate was cut off; the
      // session check after the reconnect (an XEP-0199 ping) found it gone.
      expect(bob.stanzas.some((s) => s.name === "presence" && s.attrs.from === `${room}/alice`)).toBe(false);
    }, 40_000);

    test("SIGTERM: every occupant gets 332 through the server, mucgate exits 0", async () => {
      const alice = await login("alice");
      const bob = await login("bob");
      await enter(alice, `one@${muc}`, "alice");
      await enter(bob, `two@${muc}`, "bob");
      expect(await mucgate.stop("SIGTERM")).toBe(0);
      for (const [c, room, nick] of [
        [alice, `one@${muc}`, "alice"],
        [bob, `two@${muc}`, "bob"],
      ] as const) {
        const p = await c.waitFor({ name: "presence", type: "unavailable", from: `${room}/${nick}` });
        expect(statusCodes(p)).toEqual(expect.arrayContaining([110, 332]));
      }
    });
  });
}
