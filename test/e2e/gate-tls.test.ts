/**
 * `muc_http_auth_insecure`: an https authorization service with a self-signed
 * certificate (made with openssl for this run). Verified by default, so the
 * join is denied (fail closed, TLS error logged); with insecure = true the
 * certificate is not checked, the join is allowed, and mucgate warns at start.
 */
import { expect, test } from "bun:test";
import { joinPresence } from "./harness/client.ts";
import { expectJoinError, expectJoined, selfSignedCert } from "./harness/gate-kit.ts";
import { useRig } from "./harness/rig.ts";

const VERIFYING = "rooms.localhost";
const INSECURE = "insecure.localhost";

const rig = useRig({
  prosody: { components: [{ domain: VERIFYING }, { domain: INSECURE }] },
  auth: async () => ({ tls: await selfSignedCert() }),
  mucgates: {
    verifying: { config: { muc_http_auth_timeout: 3 } },
    insecure: { slot: INSECURE, config: { muc_http_auth_timeout: 3, muc_http_auth_insecure: true } },
  },
});

const alice = () => rig.client("alice");

test("the self-signed service is reachable over https (the rig works)", async () => {
  expect(rig.auth.url).toStartWith("https://127.0.0.1:");
  const res = await fetch(`${rig.auth.url}?userJID=a%40b&mucJID=r%40s&nickname=n`, { tls: { rejectUnauthorized: false } });
  expect(await res.json()).toEqual({ allowed: true });
  const refused = await fetch(rig.auth.url).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(Error);
  rig.auth.reset();
});

test("by default the certificate is verified: the join is denied and a TLS failure logged", async () => {
  const c = await alice();
  const room = `tls@${VERIFYING}`;
  await c.send(joinPresence(`${room}/alice`));
  const error = await expectJoinError(c, `${room}/alice`, 5000);
  expect([error.type, error.condition]).toEqual(["auth", "not-authorized"]);
  // The handshake fails before any HTTP request is made.
  expect(rig.auth.requests).toHaveLength(0);
  await rig.mucgates.verifying.waitForLog((l) => l.includes('"join denied"') && l.includes(room));
  const record = rig.mucgates.verifying.json().find((r) => r.msg === "join denied" && r.room === room)!;
  expect(record.failure).toBe(true);
  expect(record.reason).toBe(`TLS error (DEPTH_ZERO_SELF_SIGNED_CERT): ${new URL(rig.auth.url).origin}`);
  // No start-up warning about insecure TLS on this one.
  expect(rig.mucgates.verifying.json().some((r) => String(r.msg).includes("muc_http_auth_insecure"))).toBe(false);
});

test("with muc_http_auth_insecure = true the join is allowed, and mucgate warned at start", async () => {
  const c = await alice();
  const room = `tls@${INSECURE}`;
  await c.send(joinPresence(`${room}/alice`));
  await expectJoined(c, `${room}/alice`, 5000);
  expect(rig.auth.requests).toHaveLength(1);
  expect(rig.auth.requests[0]!.mucJID).toBe(room);
  const warnings = rig.mucgates.insecure.json().filter((r) => r.level === "warn" && String(r.msg).includes("muc_http_auth_insecure"));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]!.origin).toBe(new URL(rig.auth.url).origin);
});
