import { chownSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
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

export type { ComponentSlot };

/**
 * A private Prosody for end-to-end tests: a throwaway config and data dir in a
 * fresh temp dir, run in the foreground on free loopback ports. Plain c2s (no
 * TLS: xmpp.js STARTTLS does not work under Bun), no s2s, no HTTP, no posix
 * (we run as root; mod_posix refuses that), internal_plain accounts.
 */

export interface ProsodyOptions {
  /** The VirtualHost users live on. Default `localhost`. */
  domain?: string;
  /** More VirtualHosts (for policies keyed by the user's host). */
  extraDomains?: string[];
  /** External component slots; secrets are generated when omitted. Default one: `rooms.<domain>`. */
  components?: { domain: string; secret?: string }[];
  /** Prosody's log level for `logPath`. Default `info` (debug is slower and noisy). */
  logLevel?: "debug" | "info" | "warn" | "error";
  /** More modules to load (e.g. `offline`, which is left out so tests don't see stored messages). */
  extraModules?: string[];
  /** Lua appended to the global section, for options this API doesn't cover. */
  extraConfig?: string;
  /** Milliseconds to wait for the ports. Default 10 000. */
  startTimeout?: number;
  /** Keep the temp dir after stop() (also with env E2E_KEEP_TMP=1). */
  keepDir?: boolean;
  /** Try this c2s port first (the demo wants 5222 so clients need no port setting); a free one if taken. */
  preferredC2sPort?: number;
}

export interface ProsodyServer extends LocalServer {
  /**
   * Create accounts (on `domain` unless given). Writes Prosody's account files
   * directly: the same bytes `prosodyctl register` writes, in microseconds
   * instead of ~70 ms, and Prosody reads them at login, so this works while it
   * runs. Existing accounts get the new password.
   */
  register(user: string, password: string, host?: string): void;
  registerMany(accounts: readonly { user: string; password: string; host?: string }[]): void;
  /** Run `prosodyctl --config <ours> ...args` (as root it drops to the prosody user). */
  prosodyctl(...args: string[]): Promise<{ exitCode: number; output: string }>;
}

const PROSODY = "prosody";
const STOP_GRACE_MS = 3000;

function luaString(s: string): string {
  return JSON.stringify(s); // Lua accepts JSON's escapes for the strings we write
}

/** Prosody's util.datamanager encoding of hosts and usernames in file names. */
function encodePathPart(s: string): string {
  return s.replace(/[^A-Za-z0-9]/g, (c) =>
    [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""),
  );
}

/** The serialisation util.serialization produces for an account record. */
function accountFile(password: string): string {
  let lua = "";
  for (const ch of password) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") lua += `\\${ch}`;
    else if (code < 0x20 || code === 0x7f) lua += `\\${code.toString().padStart(3, "0")}`;
    else lua += ch;
  }
  return `return {\n\t["password"] = "${lua}";\n};\n`;
}

function renderConfig(o: {
  dir: string;
  logPath: string;
  logLevel: string;
  c2sPort: number;
  componentPort: number;
  domains: readonly string[];
  components: readonly ComponentSlot[];
  extraModules: readonly string[];
  extraConfig: string;
}): string {
  const modules = ["roster", "saslauth", "disco", "ping", ...o.extraModules];
  return `-- Written by test/e2e/harness/prosody.ts; throwaway.
daemonize = false
data_path = ${luaString(join(o.dir, "data"))}
certificates = ${luaString(join(o.dir, "certs"))}
log = { ${o.logLevel} = ${luaString(o.logPath)} }
modules_enabled = { ${modules.map((m) => `${luaString(m)};`).join(" ")} }
modules_disabled = { "posix"; "offline"; }
c2s_ports = { ${o.c2sPort} }
c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = { }
legacy_ssl_ports = { }
s2s_ports = { }
s2s_direct_tls_ports = { }
component_ports = { ${o.componentPort} }
component_interfaces = { "127.0.0.1" }
http_ports = { }
https_ports = { }
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"
${o.extraConfig}

${o.domains.map((d) => `VirtualHost ${luaString(d)}`).join("\n")}

${o.components.map((c) => `Component ${luaString(c.domain)}\n  component_secret = ${luaString(c.secret)}`).join("\n\n")}
`;
}

export async function startProsody(options: ProsodyOptions = {}): Promise<ProsodyServer> {
  const domain = options.domain ?? "localhost";
  const domains = [domain, ...(options.extraDomains ?? [])];
  const components = componentSlots(options.components, domain);
  const logLevel = options.logLevel ?? "info";
  // The `prosody` system user, so files we write stay writable by prosodyctl.
  const owner = systemUser("prosody");

  // Readable for prosodyctl, which runs as the prosody user.
  const dir = serverTempDir("prosody");
  const configPath = join(dir, "prosody.cfg.lua");
  const logPath = join(dir, "prosody.log");
  const dataDir = join(dir, "data");
  mkdirSync(dataDir);
  mkdirSync(join(dir, "certs")); // an empty one, so Prosody doesn't log an error about it
  // Prosody itself runs as root here, but prosodyctl drops to the prosody user.
  if (owner) chownSync(dataDir, owner.uid, owner.gid);

  let c2sPort = 0;
  let componentPort = 0;

  const proc = serverProcess({
    name: "prosody",
    dir,
    configPath,
    logPath,
    consolePath: join(dir, "console.log"),
    keepDir: keepTmp(options),
    startTimeout: options.startTimeout ?? 10_000,
    stopGraceMs: STOP_GRACE_MS,
    // Prosody sets SO_REUSEADDR: a port in TIME_WAIT is no obstacle to the restart.
    restartRetry: { forMs: 3000, everyMs: 100 },
    spawn(consoleFd) {
      writeFileSync(
        configPath,
        renderConfig({
          dir,
          logPath,
          logLevel,
          c2sPort,
          componentPort,
          domains,
          components,
          extraModules: options.extraModules ?? [],
          extraConfig: options.extraConfig ?? "",
        }),
      );
      return Bun.spawn([PROSODY, "--config", configPath, "-F"], {
        cwd: dir,
        stdin: "ignore",
        stdout: consoleFd,
        stderr: consoleFd,
      });
    },
    listeners: () => ({ c2s: c2sPort, component: componentPort }),
    readyLines: () => [
      `Activated service 'c2s' on [127.0.0.1]:${c2sPort}`,
      `Activated service 'component' on [127.0.0.1]:${componentPort}`,
    ],
    // A Prosody that cannot bind keeps running without the port.
    portInUse: (log) => log.includes("Failed to open server port"),
  });

  // First start: fresh ports; if one was taken in between, take others.
  await proc.start(async (attempt) => {
    c2sPort = attempt === 1 && options.preferredC2sPort ? options.preferredC2sPort : await freePort();
    componentPort = await freePort();
  });

  function writeAccount(user: string, password: string, host: string): void {
    if (!domains.includes(host)) throw new Error(`register: ${host} is not one of this Prosody's hosts (${domains.join(", ")})`);
    // Prosody nodepreps usernames at login; lower case covers the names tests use.
    const node = user.toLowerCase();
    const hostDir = join(dataDir, encodePathPart(host));
    const accounts = join(hostDir, "accounts");
    for (const d of [hostDir, accounts]) {
      if (!existsSync(d)) {
        mkdirSync(d, { mode: 0o750 });
        if (owner) chownSync(d, owner.uid, owner.gid);
      }
    }
    const file = join(accounts, `${encodePathPart(node)}.dat`);
    writeFileSync(file, accountFile(password), { mode: 0o640 });
    if (owner) chownSync(file, owner.uid, owner.gid);
  }

  return {
    ...serverFields({ domain, domains, components, c2sPort, componentPort, dir, configPath, logPath }),
    get pid() {
      return proc.pid;
    },
    register(user, password, host = domain) {
      writeAccount(user, password, host);
    },
    registerMany(accounts) {
      for (const a of accounts) writeAccount(a.user, a.password, a.host ?? domain);
    },
    prosodyctl: (...args) => runCommand(["prosodyctl", "--config", configPath, ...args], { cwd: dir }),
    logTail: (lines) => proc.logTail(lines),
    stop: (opts = {}) => proc.stop(opts.signal),
    restart: (opts = {}) => proc.restart(opts.signal),
  };
}
