#!/usr/bin/env bun
/**
 * An example authorization service for mucgate (and for Prosody's
 * mod_muc_http_auth: it speaks the same protocol). mucgate asks
 *   GET /auth?userJID=<bare JID>&mucJID=<room JID>&nickname=<nick>
 * and admits the join only on a 2xx JSON answer with `allowed: true`. An allow
 * may also say as what the user joins (mucgate only; README "Join
 * authorization"): `affiliation` (owner, admin, member, none) and `role`
 * (moderator, participant, visitor).
 *
 * The policy here is a toy, meant to be replaced by your own backend:
 * - nicknames starting with "deny" are refused;
 * - the room `staff@…` admits only users whose name starts with "admin";
 * - users whose name starts with "admin" own every room they join;
 * - nicknames starting with "guest" join as visitors (they read, not write);
 * - everyone else is allowed.
 *
 * Run it alone: `bun examples/auth-service.ts [port]`.
 */

export const EXAMPLE_POLICY = [
  `nicknames starting with "deny" are refused`,
  `room "staff" admits only users whose name starts with "admin"`,
  `users whose name starts with "admin" join as owners`,
  `nicknames starting with "guest" join as visitors`,
  "everything else is allowed",
];

export interface AuthDecision {
  allowed: boolean;
  error?: string;
  affiliation?: "owner" | "admin" | "member" | "none";
  role?: "moderator" | "participant" | "visitor";
}

export function examplePolicy(userJID: string, mucJID: string, nickname: string): AuthDecision {
  if (nickname.toLowerCase().startsWith("deny")) {
    return { allowed: false, error: `nickname '${nickname}' is not allowed here` };
  }
  if (mucJID.split("@")[0] === "staff" && !userJID.startsWith("admin")) {
    return { allowed: false, error: `${userJID} is not staff` };
  }
  if (userJID.startsWith("admin")) return { allowed: true, affiliation: "owner", role: "moderator" };
  if (nickname.toLowerCase().startsWith("guest")) return { allowed: true, role: "visitor" };
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
