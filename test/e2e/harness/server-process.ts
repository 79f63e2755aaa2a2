import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reapOnExit, type Reaper } from "./reap-on-exit.ts";
import { waitUntil } from "./wait-until.ts";

/**
 * What the private XMPP servers of the end-to-end rig (`prosody.ts`,
 * `ejabberd.ts`) have in common: a temp dir, component slots, and one server
 * process run in the foreground — spawned with its console appended to a
 * file, awaited until its log says its listeners are up and they accept,
 * stopped with a signal and SIGKILL after a grace period, restarted on the
 * same ports, and never outliving the test run (`reapOnExit`).
 */

export interface ComponentSlot {
  /** The component's domain, e.g. `rooms.localhost`. */
  readonly domain: string;
  /** Its `component_secret`. */
  readonly secret: string;
}

/** Thrown when a port we were handed is taken by the time the server binds it. */
export class PortInUse extends Error {}

/** Whether to leave the temp dir behind after stop(): asked for, or env E2E_KEEP_TMP=1. */
export function keepTmp(options: { keepDir?: boolean }): boolean {
  return options.keepDir === true || process.env.E2E_KEEP_TMP === "1";
}

/** A fresh temp dir `mucgate-e2e-<name>-…`, readable by the server's own user (mkdtemp makes it 0700). */
export function serverTempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mucgate-e2e-${name}-`));
  chmodSync(dir, 0o755);
  return dir;
}

/** The component slots asked for (secrets generated where omitted); default one, `rooms.<domain>`. */
export function componentSlots(requested: { domain: string; secret?: string }[] | undefined, domain: string): ComponentSlot[] {
  return (requested ?? [{ domain: `rooms.${domain}` }]).map((c) => ({
    domain: c.domain,
    secret: c.secret ?? randomBytes(12).toString("hex"),
  }));
}

/** What a component needs to connect to a slot: the shape `startMucgate({ prosody })` takes. */
export interface SlotTarget {
  componentDomain: string;
  componentSecret: string;
  componentService: string;
}

/** What a Prosody and an ejabberd of the rig both are. */
export interface LocalServer {
  /** The virtual host users live on (the first one). */
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
  slot(domain: string): SlotTarget;
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  /** The server process's pid, `undefined` while stopped. */
  readonly pid: number | undefined;
  /** The last `lines` lines of the log (for failure messages). */
  logTail(lines?: number): string;
  /**
   * SIGTERM (or the given signal), wait for exit, SIGKILL after a grace period
   * (Prosody 3 s, ejabberd 10 s). Removes the temp dir unless kept. Idempotent.
   */
  stop(options?: { signal?: NodeJS.Signals }): Promise<void>;
  /** Stop (SIGTERM by default; SIGKILL simulates a crash) and start again on the same ports, keeping accounts. */
  restart(options?: { signal?: NodeJS.Signals }): Promise<void>;
}

/**
 * The fields the Prosody and ejabberd server objects share, once the first
 * start has settled the ports (a restart keeps them).
 */
export function serverFields(o: {
  domain: string;
  domains: readonly string[];
  components: readonly ComponentSlot[];
  c2sPort: number;
  componentPort: number;
  dir: string;
  configPath: string;
  logPath: string;
}): Omit<LocalServer, "pid" | "logTail" | "stop" | "restart"> {
  const componentService = `xmpp://127.0.0.1:${o.componentPort}`;
  return {
    domain: o.domain,
    domains: o.domains,
    host: "127.0.0.1",
    c2sPort: o.c2sPort,
    componentPort: o.componentPort,
    componentDomain: o.components[0]?.domain ?? "",
    componentSecret: o.components[0]?.secret ?? "",
    components: o.components,
    componentService,
    slot(name) {
      const c = o.components.find((x) => x.domain === name);
      if (!c) throw new Error(`slot: no component ${name} (have ${o.components.map((x) => x.domain).join(", ")})`);
      return { componentDomain: c.domain, componentSecret: c.secret, componentService };
    },
    dir: o.dir,
    configPath: o.configPath,
    logPath: o.logPath,
  };
}

/** The uid and gid of system user `name` when we are root; `undefined` otherwise or when there is none. */
export function systemUser(name: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const line = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${name}:`));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(":");
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return undefined;
  }
}

export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** A file's text, `""` while it does not exist. */
export function readText(path: string): string {
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

/** The last `lines` lines of `text`. */
export function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Run a command to its end; its exit code and stdout followed by stderr. */
export async function runCommand(
  argv: string[],
  options: { cwd: string; env?: Record<string, string>; uid?: number; gid?: number },
): Promise<{ exitCode: number; output: string }> {
  const p = Bun.spawn(argv, { ...options, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, exitCode] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { exitCode, output: out + err };
}

export interface ServerProcessSpec {
  /** For messages: `prosody`, `ejabberd`. */
  name: string;
  dir: string;
  configPath: string;
  logPath: string;
  /** Where stdout and stderr go (appended across launches). */
  consolePath: string;
  keepDir: boolean;
  /** Milliseconds to wait for the listeners on each launch. */
  startTimeout: number;
  /** Milliseconds between readiness checks. Default `waitUntil`'s. */
  pollInterval?: number;
  /** After the stop signal, SIGKILL when it has not exited within this many milliseconds. */
  stopGraceMs: number;
  /** A restart retries a port taken meanwhile this long, pausing this long between tries. */
  restartRetry: { forMs: number; everyMs: number };
  /** Write the configuration for the current ports and spawn the server, stdout and stderr to `consoleFd`. */
  spawn(consoleFd: number): ReturnType<typeof Bun.spawn>;
  /** The listeners by what they are (`c2s`, `component`, …), on the current ports. */
  listeners(): Record<string, number>;
  /** Lines the log of this launch must contain before the ports are tried. */
  readyLines(): string[];
  /** Whether this launch's log or console says a port was taken. */
  portInUse(log: string, console: string): boolean;
}

export interface ServerProcess {
  /** The running process's pid, `undefined` while stopped. */
  readonly pid: number | undefined;
  /** The last `lines` lines of the log (for failure messages). */
  logTail(lines?: number): string;
  /**
   * First start: `choosePorts(attempt)` then launch; when a port turns out to be
   * taken, up to five attempts. On failure the temp dir is removed (unless kept).
   */
  start(choosePorts: (attempt: number) => Promise<void>): Promise<void>;
  /** The signal (default SIGTERM), wait for exit, SIGKILL after the grace period; removes the temp dir unless kept. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stop with the signal (default SIGTERM) and launch again on the same ports. */
  restart(signal?: NodeJS.Signals): Promise<void>;
}

export function serverProcess(spec: ServerProcessSpec): ServerProcess {
  const { name, dir, configPath, logPath, consolePath } = spec;
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  let reaper: Reaper | undefined;
  let stopped = false;

  async function launch(): Promise<void> {
    // Log and console are appended across launches; look only at this one's part.
    const logStart = readText(logPath).length;
    const consoleStart = readText(consolePath).length;
    // One append-mode descriptor for stdout and stderr, so neither clobbers the other.
    const consoleFd = openSync(consolePath, "a");
    let p: ReturnType<typeof Bun.spawn>;
    try {
      p = spec.spawn(consoleFd);
    } finally {
      closeSync(consoleFd);
    }
    proc = p;
    reaper = reapOnExit(p.pid);
    const log = () => readText(logPath).slice(logStart);
    const console = () => readText(consolePath).slice(consoleStart);
    const describeStart = () => {
      const listeners = Object.entries(spec.listeners()).map(([what, port]) => `${what} ${port}`);
      const opened = listeners.length > 1 ? `${listeners.slice(0, -1).join(", ")} and ${listeners.at(-1)}` : listeners.join("");
      return `${name} (${configPath}) did not open ${opened}.\nconsole:\n${tail(console(), 20)}\nlog:\n${tail(log(), 20)}`;
    };
    try {
      await waitUntil(
        async () => {
          const text = log();
          // A server that cannot bind may keep running without the port: catch that.
          if (spec.portInUse(text, console())) throw new PortInUse(describeStart());
          if (p.exitCode !== null || p.signalCode !== null) {
            throw new Error(`${name} exited (${p.exitCode ?? p.signalCode}) during start-up.\n${describeStart()}`);
          }
          if (!spec.readyLines().every((line) => text.includes(line))) return false;
          for (const port of Object.values(spec.listeners())) if (!(await portAccepts(port))) return false;
          return true;
        },
        { timeout: spec.startTimeout, ...(spec.pollInterval ? { interval: spec.pollInterval } : {}), describe: describeStart },
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
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), spec.stopGraceMs))),
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

  const removeDir = () => {
    if (!spec.keepDir) rmSync(dir, { recursive: true, force: true });
  };

  return {
    get pid() {
      return proc?.pid;
    },
    logTail: (lines = 30) => tail(readText(logPath), lines),
    async start(choosePorts) {
      for (let attempt = 1; ; attempt++) {
        await choosePorts(attempt);
        try {
          await launch();
          return;
        } catch (err) {
          if (!(err instanceof PortInUse) || attempt >= 5) {
            removeDir();
            throw err;
          }
        }
      }
    },
    async stop(signal = "SIGTERM") {
      if (stopped) return;
      stopped = true;
      await kill(signal);
      removeDir();
    },
    async restart(signal = "SIGTERM") {
      if (stopped) throw new Error(`restart: this ${name} was stopped for good`);
      await kill(signal);
      // Same ports: a client or test may hold them in TIME_WAIT (the servers set
      // SO_REUSEADDR, so that's fine), or, rarely, another process grabbed one.
      const deadline = performance.now() + spec.restartRetry.forMs;
      for (;;) {
        try {
          await launch();
          return;
        } catch (err) {
          if (!(err instanceof PortInUse) || performance.now() > deadline) throw err;
          await Bun.sleep(spec.restartRetry.everyMs);
        }
      }
    },
  };
}
