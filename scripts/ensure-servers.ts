#!/usr/bin/env bun
/**
 * Run by `npm test` before `bun test`: the end-to-end tests need the XMPP
 * servers they run against — Prosody (`prosody`, `prosodyctl`) and ejabberd
 * (`ejabberdctl` and Erlang's `erl`) — and the storage tests a PostgreSQL
 * (`initdb`, `postgres`). Installs the missing ones from Debian packages, and
 * keeps the system-wide instances the packages start (PostgreSQL's own
 * cluster included) from holding the standard ports (our test instances use
 * their own configs and free loopback ports, but a stray system server only
 * wastes memory and confuses anyone debugging).
 *
 * Idempotent and fast when everything is installed. Exits non-zero with a
 * message saying what to do when it cannot install.
 *
 * `bun scripts/ensure-servers.ts prosody` limits it to the servers named
 * (the demo needs Prosody only); `postgresql` is one of the names.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

interface Server {
  /** Debian package (and system service) name. */
  name: string;
  /**
   * Programs the tests run; absolute paths are checked as files (sbin may be
   * off PATH), and may hold a `*` (PostgreSQL's versioned directory).
   */
  programs: string[];
  /** The pid file the packaged service writes (systemd unit and init script alike); may hold a `*`. */
  pidFile: string;
}

const SERVERS: Server[] = [
  { name: "prosody", programs: ["prosody", "prosodyctl"], pidFile: "/run/prosody/prosody.pid" },
  { name: "ejabberd", programs: ["/usr/sbin/ejabberdctl", "/usr/bin/erl"], pidFile: "/run/ejabberd/ejabberd.pid" },
  // Debian's cluster 15/main writes /run/postgresql/15-main.pid; the package's init script stops every cluster.
  {
    name: "postgresql",
    programs: ["/usr/lib/postgresql/*/bin/initdb", "/usr/lib/postgresql/*/bin/postgres"],
    pidFile: "/run/postgresql/*.pid",
  },
];

function log(message: string): void {
  console.log(`ensure-servers: ${message}`);
}

function run(command: string, args: string[], options: { quiet?: boolean } = {}): number {
  if (!options.quiet) log(`$ ${[command, ...args].join(" ")}`);
  const result = spawnSync(command, args, {
    stdio: options.quiet ? "ignore" : "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return result.status ?? 1;
}

function onPath(binary: string): boolean {
  return Bun.which(binary) !== null;
}

/** The files an absolute path names, `*` matching within one directory level. */
function files(path: string): string[] {
  if (!path.includes("*")) return existsSync(path) ? [path] : [];
  return [...new Bun.Glob(path.slice(1)).scanSync({ cwd: "/", absolute: true, onlyFiles: true })];
}

function present(program: string): boolean {
  return program.startsWith("/") ? files(program).length > 0 : onPath(program);
}

function installed(server: Server): boolean {
  return server.programs.every(present);
}

function fail(message: string): never {
  console.error(`ensure-servers: ${message}`);
  process.exit(1);
}

/** The package's own service would sit on the standard ports as soon as apt installs it. */
function stopSystemService(name: string): void {
  // Either tool may be missing (containers have no systemd); failures are fine.
  if (onPath("systemctl")) {
    run("systemctl", ["stop", name], { quiet: true });
    run("systemctl", ["disable", name], { quiet: true });
  }
  if (onPath("service")) run("service", [name, "stop"], { quiet: true });
}

function systemServiceRunning(server: Server): boolean {
  return files(server.pidFile).some((pidFile) => {
    try {
      // PostgreSQL's pid file has more lines; the pid is the first.
      const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]!.trim());
      if (!Number.isInteger(pid) || pid <= 0) return false;
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

function install(missing: Server[]): void {
  const names = missing.map((s) => s.name);
  if (process.getuid?.() !== 0) {
    fail(
      `${names.join(" and ")} not installed, and installing needs root.\n` +
        `  Install yourself: sudo apt-get install -y ${names.join(" ")}   (Debian/Ubuntu)\n` +
        "  then run npm test again.",
    );
  }
  if (!onPath("apt-get")) {
    fail(`${names.join(" and ")} not installed and this system has no apt-get; install Prosody 0.12+, ejabberd 23+ and PostgreSQL 15+ yourself.`);
  }
  log(`${names.join(", ")} not found; installing from Debian packages`);
  // A fresh image often has no package lists yet: refresh only when the install fails.
  if (run("apt-get", ["install", "-y", ...names]) !== 0) {
    log("install failed; refreshing package lists and retrying");
    if (run("apt-get", ["update"]) !== 0) fail("apt-get update failed (no network or no package mirror?)");
    if (run("apt-get", ["install", "-y", ...names]) !== 0) fail(`apt-get install ${names.join(" ")} failed; see the output above`);
  }
  for (const server of missing) {
    stopSystemService(server.name);
    if (!installed(server)) fail(`apt-get installed ${server.name}, but ${server.programs.filter((p) => !present(p)).join(", ")} still missing`);
  }
  log(`${names.join(", ")} installed; stopped the system-wide services (tests run their own instances)`);
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !SERVERS.some((s) => s.name === name));
if (unknown.length > 0) fail(`unknown server ${unknown.join(", ")}; known: ${SERVERS.map((s) => s.name).join(", ")}`);
const servers = wanted.length === 0 ? SERVERS : SERVERS.filter((s) => wanted.includes(s.name));
const missing = servers.filter((s) => !installed(s));
for (const server of servers) {
  if (missing.includes(server)) continue;
  log(`${server.name} present`);
  if (systemServiceRunning(server)) {
    log(`stopping the system-wide ${server.name} service (tests run their own instances)`);
    stopSystemService(server.name);
  }
}
if (missing.length > 0) install(missing);
