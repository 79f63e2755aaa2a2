import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import {
  componentSlots,
  keepTmp,
  runCommand,
  serverFields,
  serverProcess,
  serverTempDir,
  systemUser,
  type ComponentSlot,
  type LocalServer,
} from "./server-process.ts";

/**
 * A private ejabberd (Debian's `ejabberd` package, 23.01) for end-to-end
 * tests, the counterpart of `startProsody`: a throwaway config, spool and log
 * dir in a fresh temp dir, everything bound to 127.0.0.1 on free ports, plain
 * c2s (no STARTTLS: xmpp.js STARTTLS does not work under Bun), no s2s, and an
 * `ejabberd_service` (XEP-0114) listener for the component slots.
 *
 * The Erlang VM is started directly (the command `ejabberdctl foreground`
 * would run), not through `ejabberdctl`, so the process we hold *is* the
 * server: SIGTERM is a clean shutdown (the VM runs init:stop), SIGKILL a
 * crash, and the reaper can never miss an orphaned VM. As root it runs as the
 * `ejabberd` user, who owns the package's files. Erlang distribution, which `ejabberdctl` needs, is
 * on its own free loopback port (ERL_DIST_PORT: no epmd is started) with a
 * random cookie.
 *
 * Accounts are created over ejabberd's own admin API (`mod_http_api`'s
 * `register` command, allowed from loopback only, on a loopback listener):
 * `ejabberdctl register` does the same through a fresh Erlang VM per call,
 * ~0.8 s each, which is too slow for test set-up. `ejabberdctl()` runs any
 * other command (and `register` too) against this instance.
 *
 * With `roomApi`, it also runs ejabberd's own MUC (mod_muc) and the room admin
 * commands of mod_muc_admin over `/api` and `/api/v1`, for the admin accounts
 * named (HTTP Basic): what `ejabberd-api.ts` pins mucgate's room API to.
 */

export interface EjabberdOptions {
  /** The virtual host users live on. Default `localhost`. */
  domain?: string;
  /** More virtual hosts. */
  extraDomains?: string[];
  /** External component slots; secrets generated when omitted. Default one: `rooms.<domain>`. */
  components?: { domain: string; secret?: string }[];
  /** ejabberd's log level. Default `info`. */
  logLevel?: "debug" | "info" | "warning" | "error";
  /** YAML appended to the config (top-level keys this API doesn't cover). */
  extraConfig?: string;
  /** Milliseconds to wait for the listeners. Default 30 000 (the VM boots in seconds). */
  startTimeout?: number;
  /** Keep the temp dir after stop() (also with env E2E_KEEP_TMP=1). */
  keepDir?: boolean;
  /**
   * Also run ejabberd's own MUC service and its room admin commands over
   * `/api` (mod_muc, mod_muc_admin, mod_http_api). Off by default.
   */
  roomApi?: RoomApiOptions;
}

export interface RoomApiOptions {
  /** mod_muc's service domain. Default `conference.<domain>` (not a component slot). */
  service?: string;
  /**
   * Bare JIDs allowed to call mod_muc_admin's commands (and `register`,
   * `unregister`, `change_password`) over `/api` with HTTP Basic auth
   * (`api_permissions`, who: acl). Nothing else may call them.
   */
  admins: string[];
}

export interface EjabberdServer extends LocalServer {
  readonly kind: "ejabberd";
  /** The Erlang node name, e.g. `e2e-1a2b3c@localhost`. */
  readonly node: string;
  /** Create an account (or set its password), on `domain` unless given. Works while running. */
  register(user: string, password: string, host?: string): Promise<void>;
  registerMany(accounts: readonly { user: string; password: string; host?: string }[]): Promise<void>;
  /** Run `ejabberdctl <args>` against this instance (its own ctl config, node, cookie). */
  ejabberdctl(...args: string[]): Promise<{ exitCode: number; output: string }>;
  /** `http://127.0.0.1:<port>/api`: mod_http_api, loopback only. */
  readonly apiUrl: string;
  /** mod_muc's service domain when started with `roomApi`, else `undefined`. */
  readonly mucService: string | undefined;
}

const ERL = "/usr/bin/erl";
const EJABBERDCTL = "/usr/sbin/ejabberdctl";
const STOP_GRACE_MS = 10_000;

/** Whether this machine has the Debian ejabberd package's programs. */
export function ejabberdInstalled(): boolean {
  return existsSync(EJABBERDCTL) && existsSync(ERL);
}

/** Where ejabberd's Erlang applications live: what `ejabberdctl` puts in ERL_LIBS. */
function erlLibs(): string {
  try {
    const m = /^ERL_LIBS='([^']+)'/m.exec(readFileSync(EJABBERDCTL, "utf8"));
    if (m?.[1]) return m[1];
  } catch {}
  return "/usr/lib/x86_64-linux-gnu";
}

/** The `ejabberd` system user when we are root (the package's files are its). */
function ejabberdUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const user = systemUser("ejabberd");
  if (!user) throw new Error("startEjabberd: running as root but there is no ejabberd user (is the ejabberd package installed?)");
  return user;
}

function yamlString(s: string): string {
  return JSON.stringify(s); // YAML accepts JSON strings
}

function renderConfig(o: {
  domains: readonly string[];
  components: readonly ComponentSlot[];
  logLevel: string;
  c2sPort: number;
  componentPort: number;
  apiPort: number;
  roomApi: { service: string; admins: readonly string[] } | undefined;
  extraConfig: string;
}): string {
  // roomApi: mod_muc on its own domain, its admin commands for the admins' ACL
  // (ejabberd docs, developer/ejabberd-api/permissions), and /api/v1 for API
  // version 1, listed first: ejabberd_http takes the first handler whose path
  // prefixes the request's.
  const r = o.roomApi;
  const v1Handler = r ? "      /api/v1: mod_http_api\n" : "";
  const adminAcl = r ? `  room_api_admins:\n    user: [${r.admins.map(yamlString).join(", ")}]\n` : "";
  const adminPermission = r
    ? `  "room admin API":\n    from: [mod_http_api]\n    who:\n      acl: room_api_admins\n    what: ["[tag:muc_room]", "[tag:muc]", register, unregister, change_password]\n`
    : "";
  const mucModules = r ? `  mod_muc:\n    host: ${yamlString(r.service)}\n  mod_muc_admin: {}\n` : "";
  return `# Written by test/e2e/harness/ejabberd.ts; throwaway.
hosts:
${o.domains.map((d) => `  - ${yamlString(d)}`).join("\n")}
loglevel: ${o.logLevel}
log_rotate_count: 0
hide_sensitive_log_data: true
certfiles: []
auth_method: internal
auth_password_format: plain
disable_sasl_mechanisms: ["digest-md5", "x-oauth2"]
s2s_access: none
listen:
  - port: ${o.c2sPort}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls: false
    max_stanza_size: 262144
  - port: ${o.componentPort}
    ip: "127.0.0.1"
    module: ejabberd_service
    hosts:
${o.components.map((c) => `      ${yamlString(c.domain)}:\n        password: ${yamlString(c.secret)}`).join("\n")}
  - port: ${o.apiPort}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
${v1Handler}      /api: mod_http_api
acl:
  loopback:
    ip: ["127.0.0.0/8"]
${adminAcl}access_rules:
  c2s:
    allow: all
api_permissions:
  "console commands":
    from: [ejabberd_ctl]
    who: all
    what: "*"
  "test set-up over loopback":
    from: [mod_http_api]
    who:
      acl: loopback
    what: [register, unregister, change_password]
${adminPermission}modules:
  mod_disco: {}
  mod_ping: {}
  mod_http_api: {}
  mod_admin_extra: {}
${mucModules}${o.extraConfig}
`;
}

export async function startEjabberd(options: EjabberdOptions = {}): Promise<EjabberdServer> {
  if (!ejabberdInstalled()) {
    throw new Error(`startEjabberd: ${EJABBERDCTL} or ${ERL} missing; install Debian's package: apt-get install -y ejabberd`);
  }
  const domain = options.domain ?? "localhost";
  const domains = [domain, ...(options.extraDomains ?? [])];
  const components = componentSlots(options.components, domain);
  const logLevel = options.logLevel ?? "info";
  const roomApi = options.roomApi && { service: options.roomApi.service ?? `conference.${domain}`, admins: options.roomApi.admins };
  const user = ejabberdUser();
  const node = `e2e-${randomBytes(4).toString("hex")}@localhost`;
  const cookie = randomBytes(16).toString("hex").toUpperCase();

  const dir = serverTempDir("ejabberd");
  const configPath = join(dir, "ejabberd.yml");
  const ctlConfigPath = join(dir, "ejabberdctl.cfg");
  const logPath = join(dir, "ejabberd.log");
  const consolePath = join(dir, "console.log");
  const spoolDir = join(dir, "spool");
  mkdirSync(spoolDir);
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(spoolDir, user.uid, user.gid);
  }

  let c2sPort = 0;
  let componentPort = 0;
  let apiPort = 0;
  let distPort = 0;

  const env = (): Record<string, string> => ({
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: dir,
    LANG: "C.UTF-8",
    EJABBERD_CONFIG_PATH: configPath,
    EJABBERD_LOG_PATH: logPath,
    EJABBERD_PID_PATH: join(dir, "ejabberd.pid"),
    ERL_CRASH_DUMP: join(dir, "erl_crash.dump"),
    ERL_LIBS: erlLibs(),
    ERL_MAX_PORTS: "32000",
    ERL_MAX_ETS_TABLES: "1400",
    ...(existsSync("/etc/ejabberd/inetrc") ? { ERL_INETRC: "/etc/ejabberd/inetrc" } : {}),
  });

  function writeFiles(): void {
    writeFileSync(
      configPath,
      renderConfig({ domains, components, logLevel, c2sPort, componentPort, apiPort, roomApi, extraConfig: options.extraConfig ?? "" }),
    );
    // For `ejabberdctl --ctl-config`: it sources this after /etc's defaults.
    writeFileSync(
      ctlConfigPath,
      [
        `EJABBERD_CONFIG_PATH=${configPath}`,
        `EJABBERD_PID_PATH=${join(dir, "ejabberd.pid")}`,
        `ERL_DIST_PORT=${distPort}`,
        `ERL_OPTIONS="-setcookie ${cookie}"`,
        "EJABBERD_BYPASS_WARNINGS=true",
        "",
      ].join("\n"),
    );
    if (user) for (const f of [configPath, ctlConfigPath]) chownSync(f, user.uid, user.gid);
  }

  const up = (port: number, module: string) => `Start accepting TCP connections at 127.0.0.1:${port} for ${module}`;
  const proc = serverProcess({
    name: "ejabberd",
    dir,
    configPath,
    logPath,
    consolePath,
    keepDir: keepTmp(options),
    startTimeout: options.startTimeout ?? 30_000,
    pollInterval: 50,
    stopGraceMs: STOP_GRACE_MS,
    restartRetry: { forMs: 5000, everyMs: 200 },
    spawn(consoleFd) {
      writeFiles();
      if (user) chownSync(consolePath, user.uid, user.gid);
      // What `ejabberdctl foreground` runs, with distribution on our own loopback port.
      return Bun.spawn(
        [
          ERL,
          "-sname",
          node,
          "-setcookie",
          cookie,
          "+K",
          "true",
          "+P",
          "250000",
          "-env",
          "ERL_CRASH_DUMP_BYTES",
          "0",
          "-kernel",
          "inet_dist_use_interface",
          "{127,0,0,1}",
          "-erl_epmd_port",
          String(distPort),
          "-start_epmd",
          "false",
          "-mnesia",
          "dir",
          JSON.stringify(spoolDir),
          "-ejabberd",
          "log_rotate_count",
          "0",
          "-s",
          "ejabberd",
          "-noinput",
        ],
        {
          cwd: spoolDir,
          env: env(),
          stdin: "ignore",
          stdout: consoleFd,
          stderr: consoleFd,
          ...(user ? { uid: user.uid, gid: user.gid } : {}),
        },
      );
    },
    listeners: () => ({ c2s: c2sPort, component: componentPort, api: apiPort }),
    readyLines: () => [up(c2sPort, "ejabberd_c2s"), up(componentPort, "ejabberd_service"), up(apiPort, "ejabberd_http")],
    portInUse: (log, console) => /eaddrinuse/i.test(log) || /eaddrinuse/i.test(console),
  });

  await proc.start(async () => {
    c2sPort = await freePort();
    componentPort = await freePort();
    apiPort = await freePort();
    distPort = await freePort();
  });
  const logTail = (lines?: number) => proc.logTail(lines);

  async function register(account: string, password: string, host: string): Promise<void> {
    if (!domains.includes(host)) throw new Error(`register: ${host} is not one of this ejabberd's hosts (${domains.join(", ")})`);
    const call = async (command: string, body: object) => {
      const res = await fetch(`http://127.0.0.1:${apiPort}/api/${command}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, text: await res.text() };
    };
    const user = account.toLowerCase();
    const r = await call("register", { user, host, password });
    if (r.status === 200) return;
    // Already there (409 with "already registered"): set the password instead, like Prosody's register.
    if (/already registered/i.test(r.text)) {
      const c = await call("change_password", { user, host, newpass: password });
      if (c.status === 200) return;
      throw new Error(`ejabberd change_password ${user}@${host}: ${c.status} ${c.text}`);
    }
    throw new Error(`ejabberd register ${user}@${host}: ${r.status} ${r.text}\n${logTail(10)}`);
  }

  const server: EjabberdServer = {
    kind: "ejabberd",
    ...serverFields({ domain, domains, components, c2sPort, componentPort, dir, configPath, logPath }),
    node,
    apiUrl: `http://127.0.0.1:${apiPort}/api`,
    mucService: roomApi?.service,
    get pid() {
      return proc.pid;
    },
    register(user, password, host = domain) {
      return register(user, password, host);
    },
    async registerMany(accounts) {
      await Promise.all(accounts.map((a) => register(a.user, a.password, a.host ?? domain)));
    },
    ejabberdctl: (...args) =>
      runCommand([EJABBERDCTL, "--ctl-config", ctlConfigPath, "--node", node, "--logs", dir, "--spool", spoolDir, ...args], {
        cwd: spoolDir,
        env: env(),
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      }),
    logTail,
    stop: (opts = {}) => proc.stop(opts.signal),
    restart: (opts = {}) => proc.restart(opts.signal),
  };
  return server;
}
