import { SQL } from "bun";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { keepTmp, runCommand, serverProcess, serverTempDir, systemUser } from "./server-process.ts";

/**
 * A private PostgreSQL for tests and benchmarks (Debian's `postgresql`
 * package): `initdb -D <tmp>/data -A trust` into a fresh temp dir, then the
 * server itself in the foreground on a free loopback port — started, awaited,
 * stopped and reaped like the rig's Prosody (`serverProcess`). As root both
 * run as the `postgres` user (PostgreSQL refuses root). No unix socket, TCP on
 * 127.0.0.1 only. ~1 s to start (initdb): once per test file, then
 * `createDatabase()` per test that needs a clean slate (~0.1 s).
 *
 * Unless `durable`, fsync is off: tests check what the server answers, not
 * what survives a power cut. Benchmarks ask for `durable: true`.
 */

export interface PostgresOptions {
  /** Keep fsync and synchronous_commit on, as in production. Default false. */
  durable?: boolean;
  /** Milliseconds to wait for the server's port. Default 15 000. */
  startTimeout?: number;
  /** Keep the temp dir after stop() (also with env E2E_KEEP_TMP=1). */
  keepDir?: boolean;
  /** More `-c name=value` settings. */
  settings?: Record<string, string>;
}

export interface DatabaseOptions {
  /** An ICU locale for the database's default collation (e.g. `en-US`), to check code that must not depend on it. */
  icuLocale?: string;
}

export interface PostgresServer {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly dir: string;
  /** The superuser `postgres` on database `postgres` (trust: no password). */
  readonly adminUrl: string;
  /**
   * A new, empty database owned by role `mucgate` (not a superuser, as an
   * operator would set it up), as the storage URL mucgate takes: with
   * `MUCGATE_TEST_PASSWORD` as password, which trust accepts unread.
   */
  createDatabase(options?: DatabaseOptions): Promise<string>;
  /** The server process's pid, `undefined` while stopped. */
  readonly pid: number | undefined;
  logTail(lines?: number): string;
  /** Fast shutdown (SIGINT), or the signal given (SIGKILL: a crash); removes the temp dir unless kept. */
  stop(options?: { signal?: NodeJS.Signals }): Promise<void>;
  /** Stop with the signal (default SIGINT) and start again on the same port and data. */
  restart(options?: { signal?: NodeJS.Signals }): Promise<void>;
}

/** The password in the URLs `createDatabase` returns: tests check it never reaches a log or an error. */
export const MUCGATE_TEST_PASSWORD = "pg-test-password-never-logged";

const ROLE = "mucgate";
const STOP_GRACE_MS = 5000;

/** The newest installed `/usr/lib/postgresql/<version>/bin` that has initdb; undefined when none is. */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

let databases = 0;

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install -y postgresql");
  const owner = systemUser("postgres");
  const dir = serverTempDir("postgres");
  const dataDir = join(dir, "data");
  const logPath = join(dir, "postgres.log");
  mkdirSync(dataDir);
  if (owner) chownSync(dataDir, owner.uid, owner.gid);
  chmodSync(dataDir, 0o700);
  const as = owner ? { uid: owner.uid, gid: owner.gid } : {};

  // -N: initdb's own fsyncs cost most of its second and buy nothing for a throwaway cluster.
  const init = await runCommand(
    [join(bin, "initdb"), "-D", dataDir, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "-N"],
    { cwd: dir, ...as },
  );
  if (init.exitCode !== 0) throw new Error(`initdb failed (${init.exitCode}):\n${init.output}`);

  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: "",
    ...(options.durable ? {} : { fsync: "off", synchronous_commit: "off", full_page_writes: "off" }),
    ...options.settings,
  };
  let port = 0;
  const proc = serverProcess({
    name: "postgres",
    dir,
    configPath: join(dataDir, "postgresql.conf"),
    logPath,
    consolePath: logPath,
    keepDir: keepTmp(options),
    startTimeout: options.startTimeout ?? 15_000,
    stopGraceMs: STOP_GRACE_MS,
    restartRetry: { forMs: 3000, everyMs: 100 },
    spawn: (consoleFd) =>
      Bun.spawn(
        [
          join(bin, "postgres"),
          "-D",
          dataDir,
          "-p",
          String(port),
          ...Object.entries(settings).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
        ],
        { cwd: dir, stdin: "ignore", stdout: consoleFd, stderr: consoleFd, ...as },
      ),
    listeners: () => ({ postgres: port }),
    readyLines: () => ["database system is ready to accept connections"],
    portInUse: (log) => log.includes("could not bind") || log.includes("Address already in use"),
  });
  await proc.start(async () => {
    port = await freePort();
  });

  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const admin = async <T>(work: (sql: SQL) => Promise<T>): Promise<T> => {
    const sql = new SQL({ adapter: "postgres", hostname: "127.0.0.1", port, username: "postgres", database: "postgres", max: 1 });
    try {
      return await work(sql);
    } finally {
      await sql.close();
    }
  };
  try {
    await admin((sql) => sql.unsafe(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${MUCGATE_TEST_PASSWORD}'`));
  } catch (error) {
    await proc.stop("SIGINT");
    throw error;
  }

  return {
    host: "127.0.0.1",
    port,
    dir,
    adminUrl,
    get pid() {
      return proc.pid;
    },
    async createDatabase(db = {}) {
      const name = `mucgate_test_${process.pid}_${++databases}`;
      const locale = db.icuLocale === undefined ? "" : ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${db.icuLocale}'`;
      await admin((sql) => sql.unsafe(`CREATE DATABASE ${name} OWNER ${ROLE}${locale}`));
      return `postgres://${ROLE}:${MUCGATE_TEST_PASSWORD}@127.0.0.1:${port}/${name}`;
    },
    logTail: (lines) => proc.logTail(lines),
    stop: (opts = {}) => proc.stop(opts.signal ?? "SIGINT"),
    restart: (opts = {}) => proc.restart(opts.signal ?? "SIGINT"),
  };
}
