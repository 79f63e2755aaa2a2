import { startEjabberd, type EjabberdOptions, type EjabberdServer } from "./ejabberd.ts";

/**
 * ejabberd's room admin API (mod_muc_admin's commands over mod_http_api,
 * `POST /api/<command>` with a JSON object of arguments) in the rig, and a
 * client for it.
 *
 * How ejabberd 23.01 authorises `/api` calls: `api_permissions` (ejabberd
 * docs, developer/ejabberd-api/permissions). mod_http_api reads HTTP Basic
 * credentials `user@host:password` and checks the password against ejabberd's
 * accounts (a Bearer value is taken as an OAuth token); no Authorization
 * header means "anonymous, from this IP". A group of `api_permissions` then
 * allows a command when `from` lists mod_http_api, `who` matches (an ACL of
 * accounts or IPs) and `what` names the command or its tag. Here the admin
 * account may call the `muc_room` and `muc` commands; loopback without
 * credentials may only `register` (the rig's account set-up).
 */

export interface ApiAnswer {
  status: number;
  headers: Headers;
  /** The body parsed as JSON when it parses, else the text as is. */
  body: unknown;
  /** The body as received. */
  text: string;
}

export interface CallOptions {
  /** The Authorization header; none when undefined. */
  authorization?: string | undefined;
  /** Sent instead of `JSON.stringify(args)`. */
  rawBody?: string;
  /** Default POST. GET sends `args` as the query string. */
  method?: "POST" | "GET" | "OPTIONS" | "PUT";
  /** Content-Type of the body. Default `application/json`; `null` for none. */
  contentType?: string | null;
}

/** Call `<baseUrl>/<command>` the way ejabberd's API clients do. */
export async function callApi(baseUrl: string, command: string, args: unknown, options: CallOptions = {}): Promise<ApiAnswer> {
  const method = options.method ?? "POST";
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  const contentType = options.contentType === undefined ? "application/json" : options.contentType;
  let url = `${baseUrl}/${command}`;
  let body: string | undefined;
  if (method === "GET") {
    const query = new URLSearchParams(args as Record<string, string>).toString();
    if (query) url += `?${query}`;
  } else if (method !== "OPTIONS") {
    body = options.rawBody ?? JSON.stringify(args);
    if (contentType !== null) headers["content-type"] = contentType;
  }
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** HTTP Basic credentials, as mod_http_api reads them: `user@host:password`. */
export function basicAuth(jid: string, password: string): string {
  return `Basic ${Buffer.from(`${jid}:${password}`).toString("base64")}`;
}

export interface EjabberdRoomApi {
  readonly server: EjabberdServer;
  /** `http://127.0.0.1:<port>/api`; `<that>/v1` is served as well (API version 1). */
  readonly baseUrl: string;
  /** mod_muc's service domain, e.g. `conference.localhost`. */
  readonly service: string;
  /** The virtual host users live on (`host` of create_room, get_user_rooms). */
  readonly host: string;
  /** The admin account allowed to call the room commands, and its Authorization value. */
  readonly admin: { jid: string; password: string };
  readonly authorization: string;
  stop(): Promise<void>;
}

const ADMIN = "api-admin";
const ADMIN_PASSWORD = "api-admin-secret";

/** A private ejabberd with mod_muc and its admin API, and an admin account for it. */
export async function startEjabberdRoomApi(options: Omit<EjabberdOptions, "roomApi"> & { service?: string } = {}): Promise<EjabberdRoomApi> {
  const { service: wanted, ...rest } = options;
  const host = rest.domain ?? "localhost";
  const adminJid = `${ADMIN}@${host}`;
  const server = await startEjabberd({ ...rest, roomApi: { admins: [adminJid], ...(wanted ? { service: wanted } : {}) } });
  try {
    await server.register(ADMIN, ADMIN_PASSWORD);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    server,
    baseUrl: server.apiUrl,
    service: server.mucService!,
    host,
    admin: { jid: adminJid, password: ADMIN_PASSWORD },
    authorization: basicAuth(adminJid, ADMIN_PASSWORD),
    stop: () => server.stop(),
  };
}
