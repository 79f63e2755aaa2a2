#!/usr/bin/env bun
/**
 * Run by `npm test` before `bun test`: the end-to-end tests need a `prosody`
 * binary. Installs it from Debian packages when it is missing, and keeps the
 * system-wide instance the package starts from holding the standard ports
 * (our test instances use their own config and free ports, but a stray
 * system Prosody only wastes memory and confuses anyone debugging).
 *
 * Idempotent and fast when Prosody is already installed. Exits non-zero
 * with a message saying what to do when it cannot install.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

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

function fail(message: string): never {
  console.error(`ensure-servers: ${message}`);
  process.exit(1);
}

/** The package's own service would sit on 5222/5269/5347 as soon as apt installs it. */
function stopSystemProsody(): void {
  // Either tool may be missing (containers have no systemd); failures are fine.
  if (onPath("systemctl")) {
    run("systemctl", ["stop", "prosody"], { quiet: true });
    run("systemctl", ["disable", "prosody"], { quiet: true });
  }
  if (onPath("service")) run("service", ["prosody", "stop"], { quiet: true });
}

/** The packaged service writes this pid file (systemd unit and init script alike). */
function systemProsodyRunning(): boolean {
  try {
    const pid = Number(readFileSync("/run/prosody/prosody.pid", "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function installProsody(): void {
  if (process.getuid?.() !== 0) {
    fail(
      "prosody is not installed and installing it needs root.\n" +
        "  Install it yourself: sudo apt-get install -y prosody   (Debian/Ubuntu)\n" +
        "  then run npm test again.",
    );
  }
  if (!onPath("apt-get")) {
    fail("prosody is not installed and this system has no apt-get; install Prosody 0.12+ so that `prosody` is on PATH.");
  }
  log("prosody not found; installing it from Debian packages");
  // A fresh image often has no package lists yet: refresh only when the install fails.
  if (run("apt-get", ["install", "-y", "prosody"]) !== 0) {
    log("install failed; refreshing package lists and retrying");
    if (run("apt-get", ["update"]) !== 0) fail("apt-get update failed (no network or no package mirror?)");
    if (run("apt-get", ["install", "-y", "prosody"]) !== 0) {
      fail("apt-get install prosody failed; see the output above");
    }
  }
  stopSystemProsody();
  if (!onPath("prosody")) fail("apt-get installed prosody, but `prosody` is still not on PATH");
  log("prosody installed; stopped the system-wide service (tests run their own instances)");
}

if (onPath("prosody") && onPath("prosodyctl")) {
  log("prosody present");
  if (systemProsodyRunning()) {
    log("stopping the system-wide prosody service (tests run their own instances)");
    stopSystemProsody();
  }
} else {
  installProsody();
}
