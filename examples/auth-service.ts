#!/usr/bin/env bun
/**
 * An example authorization service for mucgate (and for Prosody's
 * mod_muc_http_auth: it speaks the same protocol). mucgate asks
 *   GET /auth?userJID=<bare JID>&mucJID=<room JID>&nickname=<nick>
 * and admits the join only on a 2xx JSON answer with `allowed: true`.
 *
 * The policy here is a toy, meant to be replaced by your own backend:
 * - nicknames starting with "deny" are refused;
 * - the room `staff@…` admits only users whose name starts with "admin";
 * - everyone else is allowed.
 *
 * Run it alone: `bun examples/auth-service.ts [port]`.
 */

export const EXAMPLE_POLICY = [
  `nicknames starting with "deny" are refused`,
  `room "staff" admits only users whose name starts with "admin"`,
  "everything else is allowed",
];

export interface AuthDecision {
  allowed: boolean;
  error?: string;
}

export function examplePolicy(userJID: string, mucJID: string, nickname: string): AuthDecision {
  if (nickname.toLowerCase().startsWith("deny")) {
    return { allowed: false, error: `nickname '${nickname}' is not allowed here` };
  }
  if (mucJID.split("@")[0] === "staff" && !userJID.startsWith("admin")) {
    return { allowed: false, error: `${userJID} is not staff` };
  }
  return { allowed: true };
}

export function startExampleAuthService(options: { port?: number; hostname?: string } = {}) {
  return Bun.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    fetch(request) {
      const url = new URL(request.url);
      if (url.pathname !== "/auth") return Response.json({ error: "not found" }, { status: 404 });
      const userJID = url.searchParams.get("userJID");
      const mucJID = url.searchParams.get("mucJID");
      const nickname = url.searchParams.get("nickname");
      if (!userJID || !mucJID || nickname === null) {
        return Response.json({ allowed: false, error: "userJID, mucJID and nickname are required" }, { status: 400 });
      }
      return Response.json(examplePolicy(userJID, mucJID, nickname));
    },
  });
}

if (import.meta.main) {
  const server = startExampleAuthService({ port: Number(process.argv[2] ?? 8080) });
  console.log(`example authorization service on http://${server.hostname}:${server.port}/auth`);
  for (const rule of EXAMPLE_POLICY) console.log(`  - ${rule}`);
}
