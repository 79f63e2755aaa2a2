import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "smol-toml";
import { freePort } from "./ports.ts";
import { reapOnExit, type Reaper } from "./reap-on-exit.ts";
import { waitUntil } from "./wait-until.ts";

/**
 * Runs mucgate as users do — a separate process started from a TOML file —
 * wired to a test Prosody's component slot, and keeps everything it prints
 * (JSON log lines) for assertions.
 */

export const REPO_ROOT = resolve(import.meta.dir, "../../..");

/** What mucgate needs from the XMPP server: a `ProsodyServer` fits. */
export interface ComponentTarget {
  readonly componentDomain: string;
  readonly componentSecret: string;
  readonly componentService: string;
}

export interface MucgateOptions {
  prosody: ComponentTarget;
  /** `muc_http_auth_url`. Without it (and without an override) auth is off for every room. */
  authUrl?: string;
  /** Config keys over the generated ones; a key set to `undefined` is left out of the file. */
  config?: Record<string, unknown>;
  /** Extra environment (e.g. `MUCGATE_*`); inherited `MUCGATE_*` variables are dropped first. */
  env?: Record<string, string>;
  /** The program, before `--config FILE`. Default `[bun, "src/main.ts"]`; e.g. `["dist/mucgate"]`. */
  command?: string[];
  /** Working directory. Default the repository root. */
  cwd?: string;
  /** Wait until `GET /health` reports the component online. Default true. */
  waitForOnline?: boolean;
  /** Milliseconds for that wait. Default 10 000. */
  startTimeout?: number;
}

export interface MucgateProcess {
  /** `http://127.0.0.1:<http_port>`. */
  readonly httpUrl: string;
  readonly httpPort: number;
  /** The exact `Authorization` value `/muc_kick` wants. */
  readonly kickAuth: string;
  readonly configPath: string;
  /** The configuration written to `configPath`. */
  readonly config: Readonly<Record<string, unknown>>;
  /** stdout and stderr lines, in arrival order. */
  readonly logs: readonly string[];
  readonly stdout: readonly string[];
  readonly stderr: readonly string[];
  /** Lines of stdout that parse as JSON objects (mucgate's log records). */
  json(): Record<string, unknown>[];
  /** Everything printed so far, one string (for failure messages). */
  output(): string;
  /** Resolves with the first line (stdout or stderr) matching, including lines already printed. */
  waitForLog(match: string | RegExp | ((line: string) => boolean), timeout?: number): Promise<string>;
  readonly pid: number;
  /** `null` while running. */
  readonly exitCode: number | null;
  /** Resolves with the exit code (128 + n for signal n) when the process ends. */
  readonly exited: Promise<number>;
  /** Signal (default SIGTERM), wait for exit (SIGKILL after 8 s), return the exit code. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<number>;
  /** Stop, then start again with the same config file and port; waits for health unless told not to. */
  restart(options?: { signal?: NodeJS.Signals; waitForOnline?: boolean; whileStopped?: (exitCode: number) => Promise<void> }): Promise<void>;
  /** `GET /health`. */
  health(): Promise<Response>;
  /** `POST /muc_kick` with `body` (JSON-encoded unless a string) and our Authorization unless given. */
  kick(body: unknown, authorization?: string | null): Promise<Response>;
}

const STOP_GRACE_MS = 8000;

/** Shell convention for a process killed by a signal: 128 + its number. */
function signalNumber(signal: string | number | null): number {
  if (typeof signal === "number") return 128 + signal;
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return signal ? 128 + (numbers[signal] ?? 0) : 0;
}

export async function startMucgate(options: MucgateOptions): Promise<MucgateProcess> {
  const httpPort = await freePort();
  const kickAuth = `Bearer ${randomBytes(16).toString("hex")}`;
  const { prosody } = options;

  const config: Record<string, unknown> = {
    component_jid: prosody.componentDomain,
    component_secret: prosody.componentSecret,
    component_service: prosody.componentService,
    http_interface: "127.0.0.1",
    http_port: httpPort,
    http_muc_kick_authorization_header: kickAuth,
    log_level: "info",
  };
  if (options.authUrl !== undefined) config.muc_http_auth_url = options.authUrl;
  for (const [k, v] of Object.entries(options.config ?? {})) {
    if (v === undefined) delete config[k];
    else config[k] = v;
  }
  // No auth service given: auth off for every room (the contract's way to run without one).
  // A key named in `config`, even as undefined (to test its absence), counts as given.
  const authConfigured = ["muc_http_auth_url", "muc_http_auth_enabled_for", "muc_http_auth_disabled_for"].some(
    (k) => k in config || (options.config && k in options.config),
  );
  if (!authConfigured) config.muc_http_auth_enabled_for = {};

  const dir = mkdtempSync(join(tmpdir(), "mucgate-e2e-mucgate-"));
  // Each process its own SQLite file (the production default), kept across restart(); `config.storage` overrides.
  if (!("storage" in config) && !(options.config && "storage" in options.config)) config.storage = `sqlite:${join(dir, "mucgate.sqlite")}`;
  const configPath = join(dir, "mucgate.toml");
  writeFileSync(configPath, stringify(config));

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("MUCGATE_")) env[k] = v;
  Object.assign(env, options.env);

  const command = options.command ?? [process.execPath, "src/main.ts"];
  const cwd = options.cwd ?? REPO_ROOT;
  const httpUrl = `http://127.0.0.1:${httpPort}`;

  const logs: string[] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const lineWaiters = new Set<(line: string) => void>();
  let proc!: ReturnType<typeof Bun.spawn>;
  let reaper: Reaper | undefined;
  let exited!: Promise<number>;
  let stopping: Promise<number> | undefined;

  async function pump(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
    const decoder = new TextDecoder();
    let rest = "";
    const emit = (line: string) => {
      into.push(line);
      logs.push(line);
      for (const w of lineWaiters) w(line);
    };
    try {
      for await (const chunk of stream) {
        rest += decoder.decode(chunk, { stream: true });
        let nl = rest.indexOf("\n");
        while (nl >= 0) {
          emit(rest.slice(0, nl));
          rest = rest.slice(nl + 1);
          nl = rest.indexOf("\n");
        }
      }
    } catch {
      // The process died mid-write: keep what we have.
    }
    if (rest) emit(rest);
  }

  function spawn(): void {
    const p = Bun.spawn([...command, "--config", configPath], {
      cwd,
      env,
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    proc = p;
    reaper = reapOnExit(p.pid);
    const pumps = Promise.all([pump(p.stdout, stdout), pump(p.stderr, stderr)]);
    // Resolve only after the last line is captured, so a caller that awaited
    // `exited` can assert on the final log lines.
    exited = Promise.all([p.exited, pumps]).then(() => {
      reaper?.release();
      return p.exitCode ?? signalNumber(p.signalCode);
    });
    stopping = undefined;
  }

  const output = () => logs.join("\n");
  const describe = () => `command: ${[...command, "--config", configPath].join(" ")}\nconfig:\n${stringify(config)}\noutput:\n${output() || "(none)"}`;

  async function waitOnline(timeout: number): Promise<void> {
    const p = proc;
    let last = "no answer";
    await waitUntil(
      async () => {
        if (p.exitCode !== null || p.signalCode !== null) {
          await exited;
          throw new Error(`mucgate exited with ${p.exitCode ?? p.signalCode} before it was online.\n${describe()}`);
        }
        try {
          const res = await fetch(`${httpUrl}/health`, { signal: AbortSignal.timeout(1000) });
          const text = await res.text();
          last = `${res.status} ${text}`;
          if (res.status !== 200) return false;
          return (JSON.parse(text) as { xmpp?: string }).xmpp === "online";
        } catch (err) {
          last = (err as Error).message;
          return false;
        }
      },
      { timeout, interval: 25, describe: () => `mucgate not online at ${httpUrl}/health (last: ${last}).\n${describe()}` },
    );
  }

  async function stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number> {
    stopping ??= (async () => {
      const p = proc;
      if (p.exitCode === null && p.signalCode === null) {
        p.kill(signal);
        const done = await Promise.race([exited.then(() => true), Bun.sleep(STOP_GRACE_MS).then(() => false)]);
        if (!done) p.kill("SIGKILL");
      }
      return exited;
    })();
    return stopping;
  }

  spawn();
  const startTimeout = options.startTimeout ?? 10_000;
  if (options.waitForOnline ?? true) {
    try {
      await waitOnline(startTimeout);
    } catch (err) {
      await stop("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  const handle: MucgateProcess = {
    httpUrl,
    httpPort,
    kickAuth,
    configPath,
    config,
    logs,
    stdout,
    stderr,
    json() {
      const records: Record<string, unknown>[] = [];
      for (const line of stdout) {
        if (!line.startsWith("{")) continue;
        try {
          const value: unknown = JSON.parse(line);
          if (value && typeof value === "object" && !Array.isArray(value)) records.push(value as Record<string, unknown>);
        } catch {}
      }
      return records;
    },
    output,
    waitForLog(match, timeout = 3000) {
      const test =
        typeof match === "string" ? (l: string) => l.includes(match) : match instanceof RegExp ? (l: string) => match.test(l) : match;
      const seen = logs.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = (line: string) => {
          if (!test(line)) return;
          clearTimeout(timer);
          lineWaiters.delete(waiter);
          resolve(line);
        };
        const timer = setTimeout(() => {
          lineWaiters.delete(waiter);
          reject(new Error(`mucgate printed no line matching ${String(match)} within ${timeout} ms. Output:\n${output() || "(none)"}`));
        }, timeout);
        lineWaiters.add(waiter);
      });
    },
    get pid() {
      return proc.pid;
    },
    get exitCode() {
      return proc.exitCode ?? (proc.signalCode ? signalNumber(proc.signalCode) : null);
    },
    get exited() {
      return exited;
    },
    async stop(signal) {
      const code = await stop(signal);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
    async restart(opts = {}) {
      const code = await stop(opts.signal);
      await opts.whileStopped?.(code);
      spawn();
      if (opts.waitForOnline ?? true) await waitOnline(startTimeout);
    },
    health() {
      return fetch(`${httpUrl}/health`);
    },
    kick(body, authorization) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      const auth = authorization === undefined ? kickAuth : authorization;
      if (auth !== null) headers.authorization = auth;
      return fetch(`${httpUrl}/muc_kick`, {
        method: "POST",
        headers,
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    },
  };
  return handle;
}
