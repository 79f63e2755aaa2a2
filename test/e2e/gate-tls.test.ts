/**
 * `muc_http_auth_insecure`: an https authorization service with a self-signed
 * certificate (made with openssl for this run). Verified by default, so the
 * join is denied (fail closed, TLS error logged); with insecure = true the
 * certificate is not checked, the join is allowed, and mucgate warns at start.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { startAuthServer, type AuthServer } from "./harness/auth-server.ts";
import { connectClient, joinPresence, type TestClient } from "./harness/client.ts";
import { expectJoinError, expectJoined, selfSignedCert } from "./harness/gate-kit.ts";
import { startMucgate, type MucgateProcess } from "./harness/mucgate.ts";
import { startProsody, type ProsodyServer } from "./harness/prosody.ts";

const VERIFYING = "rooms.localhost";
const INSECURE = "insecure.localhost";

let prosody: ProsodyServer;
let auth: AuthServer;
let verifying: MucgateProcess;
let insecure: MucgateProcess;

beforeAll(async () => {
  const [p, tls] = await Promise.all([
    startProsody({ components: [{ domain: VERIFYING }, { domain: INSECURE }] }),
    selfSignedCert(),
  ]);
  prosody = p;
  prosody.registerMany([{ user: "alice", password: "pw" }]);
  auth = startAuthServer({ tls });
  [verifying, insecure] = await Promise.all([
    startMucgate({ prosody: prosody.slot(VERIFYING), authUrl: auth.url, config: { muc_http_auth_timeout: 3 } }),
    startMucgate({
      prosody: prosody.slot(INSECURE),
      authUrl: auth.url,
      config: { muc_http_auth_timeout: 3, muc_http_auth_insecure: true },
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([verifying?.stop(), insecure?.stop()]);
  await auth?.stop();
  await prosody?.stop();
});

const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.stop()));
  auth.reset();
});

async function alice(): Promise<TestClient> {
  const c = await connectClient({ server: prosody, username: "alice", password: "pw" });
  clients.push(c);
  return c;
}

test("the self-signed service is reachable over https (the rig works)", async () => {
  expect(auth.url).toStartWith("https://127.0.0.1:");
  const res = await fetch(`${auth.url}?userJID=a%40b&mucJID=r%40s&nickname=n`, { tls: { rejectUnauthorized: false } });
  expect(await res.json()).toEqual({ allowed: true });
  const refused = await fetch(auth.url).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(Error);
  auth.reset();
});

test("by default the certificate is verified: the join is denied and a TLS failure logged", async () => {
  const c = await alice();
  const room = `tls@${VERIFYING}`;
  await c.send(joinPresence(`${room}/alice`));
  const error = await expectJoinError(c, `${room}/alice`, 5000);
  expect([error.type, error.condition]).toEqual(["auth", "not-authorized"]);
  // The handshake fails before any HTTP request is made.
  expect(auth.requests).toHaveLength(0);
  await verifying.waitForLog((l) => l.includes('"join denied"') && l.includes(room));
  const record = verifying.json().find((r) => r.msg === "join denied" && r.room === room)!;
  expect(record.failure).toBe(true);
  expect(record.reason).toBe(`TLS error (DEPTH_ZERO_SELF_SIGNED_CERT): ${new URL(auth.url).origin}`);
  // No start-up warning about insecure TLS on this one.
  expect(verifying.json().some((r) => String(r.msg).includes("muc_http_auth_insecure"))).toBe(false);
});

test("with muc_http_auth_insecure = true the join is allowed, and mucgate warned at start", async () => {
  const c = await alice();
  const room = `tls@${INSECURE}`;
  await c.send(joinPresence(`${room}/alice`));
  await expectJoined(c, `${room}/alice`, 5000);
  expect(auth.requests).toHaveLength(1);
  expect(auth.requests[0]!.mucJID).toBe(room);
  const warnings = insecure.json().filter((r) => r.level === "warn" && String(r.msg).includes("muc_http_auth_insecure"));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]!.origin).toBe(new URL(auth.url).origin);
});
