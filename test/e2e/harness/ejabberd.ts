import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import type { ComponentSlot } from "./prosody.ts";
import { reapOnExit, type Reaper } from "./reap-on-exit.ts";
import { waitUntil } from "./wait-until.ts";

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
 * `ejabberd` user (NOTES). Erlang distribution, which `ejabberdctl` needs, is
 * on its own free loopback port (ERL_DIST_PORT: no epmd is started) with a
 * random cookie.
 *
 * Accounts are created over ejabberd's own admin API (`mod_http_api`'s
 * `register` command, allowed from loopback only, on a loopback listener):
 * `ejabberdctl register` does the same through a fresh Erlang VM per call,
 * ~0.8 s each, which is too slow for test set-up. `ejabberdctl()` runs any
 * other command (and `register` too) against this instance.
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
}

export interface EjabberdServer {
  readonly kind: "ejabberd";
  readonly domain: string;
  readonly domains: readonly string[];
  readonly host: "127.0.0.1";
  readonly c2sPort: number;
  readonly componentPort: number;
  readonly componentDomain: string;
  readonly componentSecret: string;
  readonly components: readonly ComponentSlot[];
  /** `xmpp://127.0.0.1:<componentPort>`. */
  readonly componentService: string;
  slot(domain: string): { componentDomain: string; componentSecret: string; componentService: string };
  /** The Erlang node name, e.g. `e2e-1a2b3c@localhost`. */
  readonly node: string;
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  /** The VM's pid, `undefined` while stopped. */
  readonly pid: number | undefined;
  /** Create an account (or set its password), on `domain` unless given. Works while running. */
  register(user: string, password: string, host?: string): Promise<void>;
  registerMany(accounts: readonly { user: string; password: string; host?: string }[]): Promise<void>;
  /** Run `ejabberdctl <args>` against this instance (its own ctl config, node, cookie). */
  ejabberdctl(...args: string[]): Promise<{ exitCode: number; output: string }>;
  logTail(lines?: number): string;
  /** SIGTERM (or the given signal), wait for exit, SIGKILL after 10 s. Removes the temp dir unless kept. Idempotent. */
  stop(options?: { signal?: NodeJS.Signals }): Promise<void>;
  /** Stop (SIGTERM: clean; SIGKILL: a crash) and start again on the same ports, keeping accounts. */
  restart(options?: { signal?: NodeJS.Signals }): Promise<void>;
}

const ERL = "/usr/bin/erl";
const EJABBERDCTL = "/usr/sbin/ejabberdctl";
const STOP_GRACE_MS = 10_000;

/** Whether this machine has the Debian ejabberd package's programs. */
export function ejabberdInstalled(): boolean {
  return existsSync(EJABBERDCTL) && existsSync(ERL);
}

function keepTmp(options: EjabberdOptions): boolean {
  return options.keepDir === true || process.env.E2E_KEEP_TMP === "1";
}

/** Where ejabberd's Erlang applications live: what `ejabberdctl` puts in ERL_LIBS. */
function erlLibs(): string {
  try {
    const m = /^ERL_LIBS='([^']+)'/m.exec(readFileSync(EJABBERDCTL, "utf8"));
    if (m?.[1]) return m[1];
  } catch {}
  return "/usr/lib/x86_64-linux-gnu";
}

interface SystemUser {
  uid: number;
  gid: number;
}

/** The `ejabberd` system user when we are root (NOTES: run it as that user). */
function ejabberdUser(): SystemUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith("ejabberd:"));
  if (!line) throw new Error("startEjabberd: running as root but there is no ejabberd user (is the ejabberd package installed?)");
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
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
  extraConfig: string;
}): string {
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
      /api: mod_http_api
acl:
  loopback:
    ip: ["127.0.0.0/8"]
access_rules:
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
modules:
  mod_disco: {}
  mod_ping: {}
  mod_http_api: {}
  mod_admin_extra: {}
${o.extraConfig}
`;
}

/** Thrown when a port we were handed is taken by the time ejabberd binds it. */
class PortInUse extends Error {}

export async function startEjabberd(options: EjabberdOptions = {}): Promise<EjabberdServer> {
  if (!ejabberdInstalled()) {
    throw new Error(`startEjabberd: ${EJABBERDCTL} or ${ERL} missing; install Debian's package: apt-get install -y ejabberd`);
  }
  const domain = options.domain ?? "localhost";
  const domains = [domain, ...(options.extraDomains ?? [])];
  const components: ComponentSlot[] = (options.components ?? [{ domain: `rooms.${domain}` }]).map((c) => ({
    domain: c.domain,
    secret: c.secret ?? randomBytes(12).toString("hex"),
  }));
  const logLevel = options.logLevel ?? "info";
  const startTimeout = options.startTimeout ?? 30_000;
  const user = ejabberdUser();
  const node = `e2e-${randomBytes(4).toString("hex")}@localhost`;
  const cookie = randomBytes(16).toString("hex").toUpperCase();

  const dir = mkdtempSync(join(tmpdir(), "mucgate-e2e-ejabberd-"));
  const configPath = join(dir, "ejabberd.yml");
  const ctlConfigPath = join(dir, "ejabberdctl.cfg");
  const logPath = join(dir, "ejabberd.log");
  const consolePath = join(dir, "console.log");
  const spoolDir = join(dir, "spool");
  chmodSync(dir, 0o755);
  mkdirSync(spoolDir);
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(spoolDir, user.uid, user.gid);
  }

  let c2sPort = 0;
  let componentPort = 0;
  let apiPort = 0;
  let distPort = 0;
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  let reaper: Reaper | undefined;
  let stopped = false;

  const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : "");
  const tail = (text: string, lines: number) => text.trimEnd().split("\n").slice(-lines).join("\n");
  const logTail = (lines = 30) => tail(read(logPath), lines);

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
      renderConfig({ domains, components, logLevel, c2sPort, componentPort, apiPort, extraConfig: options.extraConfig ?? "" }),
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

  async function launch(): Promise<void> {
    writeFiles();
    // Both files are appended across launches; look only at this one's part.
    const logStart = read(logPath).length;
    const consoleStart = read(consolePath).length;
    const consoleFd = openSync(consolePath, "a");
    if (user) chownSync(consolePath, user.uid, user.gid);
    let p: ReturnType<typeof Bun.spawn>;
    try {
      // What `ejabberdctl foreground` runs, with distribution on our own loopback port.
      p = Bun.spawn(
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
    } finally {
      closeSync(consoleFd);
    }
    proc = p;
    reaper = reapOnExit(p.pid);
    const up = (port: number, module: string) => `Start accepting TCP connections at 127.0.0.1:${port} for ${module}`;
    const describeStart = () =>
      `ejabberd (${configPath}) did not open c2s ${c2sPort}, component ${componentPort} and api ${apiPort}.\n` +
      `console:\n${tail(read(consolePath).slice(consoleStart), 20)}\nlog:\n${tail(read(logPath).slice(logStart), 20)}`;
    try {
      await waitUntil(
        async () => {
          const log = read(logPath).slice(logStart);
          if (/eaddrinuse/i.test(log) || /eaddrinuse/i.test(read(consolePath).slice(consoleStart))) throw new PortInUse(describeStart());
          if (p.exitCode !== null || p.signalCode !== null) {
            throw new Error(`ejabberd exited (${p.exitCode ?? p.signalCode}) during start-up.\n${describeStart()}`);
          }
          if (![up(c2sPort, "ejabberd_c2s"), up(componentPort, "ejabberd_service"), up(apiPort, "ejabberd_http")].every((l) => log.includes(l))) {
            return false;
          }
          return (await portAccepts(c2sPort)) && (await portAccepts(componentPort)) && (await portAccepts(apiPort));
        },
        { timeout: startTimeout, interval: 50, describe: describeStart },
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
      let timer: ReturnType<typeof setTimeout> | undefined;
      const exited = await Promise.race([
        p.exited.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), STOP_GRACE_MS))),
      ]);
      clearTimeout(timer);
      if (!exited) {
        p.kill("SIGKILL");
        await p.exited;
      }
    }
    reaper?.release();
    reaper = undefined;
  }

  for (let attempt = 1; ; attempt++) {
    c2sPort = await freePort();
    componentPort = await freePort();
    apiPort = await freePort();
    distPort = await freePort();
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

  const service = () => `xmpp://127.0.0.1:${componentPort}`;
  const server: EjabberdServer = {
    kind: "ejabberd",
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
      return service();
    },
    slot(name) {
      const c = components.find((x) => x.domain === name);
      if (!c) throw new Error(`slot: no component ${name} (have ${components.map((x) => x.domain).join(", ")})`);
      return { componentDomain: c.domain, componentSecret: c.secret, componentService: service() };
    },
    node,
    dir,
    configPath,
    logPath,
    get pid() {
      return proc?.pid;
    },
    register(user, password, host = domain) {
      return register(user, password, host);
    },
    async registerMany(accounts) {
      await Promise.all(accounts.map((a) => register(a.user, a.password, a.host ?? domain)));
    },
    async ejabberdctl(...args) {
      const p = Bun.spawn([EJABBERDCTL, "--ctl-config", ctlConfigPath, "--node", node, "--logs", dir, "--spool", spoolDir, ...args], {
        cwd: spoolDir,
        env: env(),
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
      const [out, err, exitCode] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
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
      if (stopped) throw new Error("restart: this ejabberd was stopped for good");
      await kill(opts.signal ?? "SIGTERM");
      const deadline = performance.now() + 5000;
      for (;;) {
        try {
          await launch();
          return;
        } catch (err) {
          if (!(err instanceof PortInUse) || performance.now() > deadline) throw err;
          await Bun.sleep(200);
        }
      }
    },
  };
  return server;
}
