import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:net";
import { freePort } from "./ports.ts";
import { reapOnExit, type Reaper } from "./reap-on-exit.ts";
import { waitUntil } from "./wait-until.ts";

/**
 * A private Prosody for end-to-end tests: a throwaway config and data dir in a
 * fresh temp dir, run in the foreground on free loopback ports. Plain c2s (no
 * TLS: xmpp.js STARTTLS does not work under Bun), no s2s, no HTTP, no posix
 * (we run as root; mod_posix refuses that), internal_plain accounts.
 */

export interface ComponentSlot {
  /** The component's domain, e.g. `rooms.localhost`. */
  readonly domain: string;
  /** Its `component_secret`. */
  readonly secret: string;
}

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

export interface ProsodyServer {
  /** The VirtualHost (first one). */
  readonly domain: string;
  readonly domains: readonly string[];
  readonly host: "127.0.0.1";
  readonly c2sPort: number;
  readonly componentPort: number;
  /** The first component slot's domain and secret. */
  readonly componentDomain: string;
  readonly componentSecret: string;
  readonly components: readonly ComponentSlot[];
  /** `xmpp://127.0.0.1:<componentPort>`, what a component's `service` is. */
  readonly componentService: string;
  /** Another slot in the shape `startMucgate({ prosody })` takes, e.g. to run a component on it. */
  slot(domain: string): { componentDomain: string; componentSecret: string; componentService: string };
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  /** The running process's pid, `undefined` while stopped. */
  readonly pid: number | undefined;
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
  /** The last `lines` lines of the log (for failure messages). */
  logTail(lines?: number): string;
  /**
   * SIGTERM (or the given signal), wait for exit, SIGKILL after 3 s. Removes
   * the temp dir unless kept. Idempotent.
   */
  stop(options?: { signal?: NodeJS.Signals }): Promise<void>;
  /** Stop (SIGTERM by default; SIGKILL simulates a crash) and start again on the same ports. */
  restart(options?: { signal?: NodeJS.Signals }): Promise<void>;
}

const PROSODY = "prosody";
const STOP_GRACE_MS = 3000;

function keepTmp(options: ProsodyOptions): boolean {
  return options.keepDir === true || process.env.E2E_KEEP_TMP === "1";
}

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

interface ProsodyUser {
  uid: number;
  gid: number;
}

/** The `prosody` system user, so files we write stay writable by prosodyctl. */
function prosodyUser(): ProsodyUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const line = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith("prosody:"));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(":");
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
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

/** Thrown when a port we were handed is taken by the time Prosody binds it. */
class PortInUse extends Error {}

export async function startProsody(options: ProsodyOptions = {}): Promise<ProsodyServer> {
  const domain = options.domain ?? "localhost";
  const domains = [domain, ...(options.extraDomains ?? [])];
  const components: ComponentSlot[] = (options.components ?? [{ domain: `rooms.${domain}` }]).map((c) => ({
    domain: c.domain,
    secret: c.secret ?? randomBytes(12).toString("hex"),
  }));
  const logLevel = options.logLevel ?? "info";
  const startTimeout = options.startTimeout ?? 10_000;
  const owner = prosodyUser();

  const dir = mkdtempSync(join(tmpdir(), "mucgate-e2e-prosody-"));
  const configPath = join(dir, "prosody.cfg.lua");
  const logPath = join(dir, "prosody.log");
  const consolePath = join(dir, "console.log");
  const dataDir = join(dir, "data");
  // mkdtemp makes it 0700; prosodyctl (running as the prosody user) must get in.
  chmodSync(dir, 0o755);
  mkdirSync(dataDir);
  mkdirSync(join(dir, "certs")); // an empty one, so Prosody doesn't log an error about it
  // Prosody itself runs as root here, but prosodyctl drops to the prosody user.
  if (owner) chownSync(dataDir, owner.uid, owner.gid);

  let c2sPort = 0;
  let componentPort = 0;
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  let reaper: Reaper | undefined;
  let stopped = false;

  const logText = () => (existsSync(logPath) ? readFileSync(logPath, "utf8") : "");
  const consoleText = () => (existsSync(consolePath) ? readFileSync(consolePath, "utf8") : "");
  const tail = (text: string, lines: number) => text.trimEnd().split("\n").slice(-lines).join("\n");
  const logTail = (lines = 30) => tail(logText(), lines);

  async function launch(): Promise<void> {
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
    // The log is appended across restarts; remember where this run begins.
    const logStart = logText().length;
    // One append-mode descriptor for stdout and stderr, so neither clobbers the other.
    const consoleFd = openSync(consolePath, "a");
    let p: ReturnType<typeof Bun.spawn>;
    try {
      p = Bun.spawn([PROSODY, "--config", configPath, "-F"], {
        cwd: dir,
        stdin: "ignore",
        stdout: consoleFd,
        stderr: consoleFd,
      });
    } finally {
      closeSync(consoleFd);
    }
    proc = p;
    reaper = reapOnExit(p.pid);
    const c2sUp = `Activated service 'c2s' on [127.0.0.1]:${c2sPort}`;
    const componentUp = `Activated service 'component' on [127.0.0.1]:${componentPort}`;
    try {
      await waitUntil(
        async () => {
          const log = logText().slice(logStart);
          // A Prosody that cannot bind keeps running without the port: catch that.
          if (log.includes("Failed to open server port")) throw new PortInUse(tail(log, 10));
          if (p.exitCode !== null || p.signalCode !== null) {
            throw new Error(
              `prosody exited (${p.exitCode ?? p.signalCode}) during start-up.\n` +
                `console:\n${tail(consoleText(), 20)}\nlog:\n${tail(log, 20)}`,
            );
          }
          if (!log.includes(c2sUp) || !log.includes(componentUp)) return false;
          return (await portAccepts(c2sPort)) && (await portAccepts(componentPort));
        },
        {
          timeout: startTimeout,
          describe: () =>
            `prosody (${configPath}) did not open c2s ${c2sPort} and component ${componentPort}.\n` +
            `console:\n${tail(consoleText(), 20)}\nlog:\n${tail(logText().slice(logStart), 20)}`,
        },
      );
    } catch (err) {
      await kill("SIGKILL");
      throw err;
    }
  }

  async function kill(signal: NodeJS.Signals): Promise<void> {
    const p = proc;
    if (!p) return;
    proc = undefined;
    if (p.exitCode === null && p.signalCode === null) {
      p.kill(signal);
      const exited = await Promise.race([p.exited.then(() => true), Bun.sleep(STOP_GRACE_MS).then(() => false)]);
      if (!exited) {
        p.kill("SIGKILL");
        await p.exited;
      }
    }
    reaper?.release();
    reaper = undefined;
  }

  // First start: fresh ports; if one was taken in between, take others.
  for (let attempt = 1; ; attempt++) {
    c2sPort = attempt === 1 && options.preferredC2sPort ? options.preferredC2sPort : await freePort();
    componentPort = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      if (!(err instanceof PortInUse) || attempt >= 5) {
        if (!keepTmp(options)) rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

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

  const server: ProsodyServer = {
    domain,
    domains,
    host: "127.0.0.1",
    get c2sPort() {
      return c2sPort;
    },
    get componentPort() {
      return componentPort;
    },
    componentDomain: components[0]?.domain ?? "",
    componentSecret: components[0]?.secret ?? "",
    components,
    get componentService() {
      return `xmpp://127.0.0.1:${componentPort}`;
    },
    slot(name) {
      const c = components.find((x) => x.domain === name);
      if (!c) throw new Error(`slot: no component ${name} (have ${components.map((x) => x.domain).join(", ")})`);
      return { componentDomain: c.domain, componentSecret: c.secret, componentService: `xmpp://127.0.0.1:${componentPort}` };
    },
    dir,
    configPath,
    logPath,
    get pid() {
      return proc?.pid;
    },
    register(user, password, host = domain) {
      writeAccount(user, password, host);
    },
    registerMany(accounts) {
      for (const a of accounts) writeAccount(a.user, a.password, a.host ?? domain);
    },
    async prosodyctl(...args) {
      const p = Bun.spawn(["prosodyctl", "--config", configPath, ...args], {
        cwd: dir,
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, exitCode] = await Promise.all([
        new Response(p.stdout).text(),
        new Response(p.stderr).text(),
        p.exited,
      ]);
      return { exitCode, output: out + err };
    },
    logTail,
    async stop(opts = {}) {
      if (stopped) return;
      stopped = true;
      await kill(opts.signal ?? "SIGTERM");
      if (!keepTmp(options)) rmSync(dir, { recursive: true, force: true });
    },
    async restart(opts = {}) {
      if (stopped) throw new Error("restart: this Prosody was stopped for good");
      await kill(opts.signal ?? "SIGTERM");
      // Same ports: a client or test may hold them in TIME_WAIT (Prosody sets
      // SO_REUSEADDR, so that's fine), or, rarely, another process grabbed one.
      const deadline = performance.now() + 3000;
      for (;;) {
        try {
          await launch();
          return;
        } catch (err) {
          if (!(err instanceof PortInUse) || performance.now() > deadline) throw err;
          await Bun.sleep(100);
        }
      }
    },
  };
  return server;
}
