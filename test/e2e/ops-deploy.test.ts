/**
 * The deployment files in deploy/: the systemd unit passes `systemd-analyze
 * verify` and carries the hardening and shutdown settings the docs promise
 * (and never MemoryDenyWriteExecute, which would kill Bun's JIT); the example
 * configuration documents every configuration key and is itself valid.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONFIG_KEYS } from "../../src/config.ts";
import { REPO_ROOT } from "./harness/mucgate.ts";

const UNIT_PATH = join(REPO_ROOT, "deploy/mucgate.service");
const EXAMPLE_PATH = join(REPO_ROOT, "deploy/mucgate.example.toml");

/** `Key=value` lines by section; a key set twice keeps every value. */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let current: Record<string, string[]> | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = sections[section[1]!] = {};
      continue;
    }
    const eq = line.indexOf("=");
    if (!current || eq < 0) throw new Error(`unexpected line in unit: ${line}`);
    (current[line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
  }
  return sections;
}

describe("deploy/mucgate.service", () => {
  const text = readFileSync(UNIT_PATH, "utf8");
  const unit = parseUnit(text);
  const service = unit.Service ?? {};
  const one = (key: string) => {
    const v = service[key];
    expect(v, `${key}= set once`).toHaveLength(1);
    return v![0]!;
  };

  test("runs the installed binary with the config in /etc, secrets from an EnvironmentFile", () => {
    expect(one("ExecStart")).toBe("/usr/local/bin/mucgate --config /etc/mucgate/mucgate.toml");
    expect(one("EnvironmentFile")).toMatch(/^-?\/etc\/mucgate\/.+/);
    expect(unit.Install?.WantedBy).toEqual(["multi-user.target"]);
  });

  test("restarts on failure and gives the graceful shutdown time to finish", () => {
    expect(one("Restart")).toBe("on-failure");
    expect(one("KillSignal")).toBe("SIGTERM");
    const stop = one("TimeoutStopSec");
    const seconds = Number(stop.replace(/s$/, ""));
    expect(seconds).toBeGreaterThanOrEqual(6);
  });

  test("is hardened, and leaves MemoryDenyWriteExecute unset (the JIT needs it off)", () => {
    const user = service.DynamicUser?.[0] === "yes" || service.User !== undefined;
    expect(user).toBe(true);
    const expected: Record<string, string> = {
      NoNewPrivileges: "yes",
      ProtectSystem: "strict",
      ProtectHome: "yes",
      PrivateTmp: "yes",
      PrivateDevices: "yes",
      RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
      SystemCallFilter: "@system-service",
      CapabilityBoundingSet: "",
      LockPersonality: "yes",
      ProtectKernelTunables: "yes",
      ProtectKernelModules: "yes",
      ProtectKernelLogs: "yes",
      ProtectControlGroups: "yes",
      RestrictNamespaces: "yes",
    };
    for (const [key, value] of Object.entries(expected)) expect({ key, value: service[key]?.[0] }).toEqual({ key, value });
    expect(service.MemoryDenyWriteExecute).toBeUndefined();
  });

  test("passes systemd-analyze verify", async () => {
    const analyze = Bun.which("systemd-analyze");
    if (!analyze) {
      console.warn("systemd-analyze not installed: unit not verified");
      return;
    }
    // verify checks that ExecStart's program exists: point it at an executable that does.
    const dir = mkdtempSync(join(tmpdir(), "mucgate-e2e-unit-"));
    try {
      const copy = join(dir, "mucgate.service");
      writeFileSync(copy, text.replaceAll("/usr/local/bin/mucgate", process.execPath));
      const p = Bun.spawn([analyze, "verify", copy], { stdout: "pipe", stderr: "pipe", env: { ...process.env, SYSTEMD_LOG_COLOR: "0" } });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect({ code, output: (out + err).trim() }).toEqual({ code: 0, output: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("deploy/mucgate.example.toml", () => {
  const text = readFileSync(EXAMPLE_PATH, "utf8");

  test("shows every configuration key, each with a comment above it", () => {
    const lines = text.split("\n");
    for (const key of CONFIG_KEYS) {
      const at = lines.findIndex((l) => new RegExp(`^#?\\s?${key}\\s*=`).test(l));
      expect({ key, shown: at >= 0 }).toEqual({ key, shown: true });
      // The nearest line above that is not another key line is a comment.
      let i = at - 1;
      while (i >= 0 && /^#?\s?[a-z_]+\s*=/.test(lines[i]!)) i--;
      expect({ key, commented: i >= 0 && lines[i]!.startsWith("#") }).toEqual({ key, commented: true });
    }
  });

  test("names no key mucgate does not know", () => {
    const known = new Set<string>(CONFIG_KEYS);
    const shown = [...text.matchAll(/^#?\s?([a-z_]+)\s*=/gm)].map((m) => m[1]!);
    expect(shown.filter((k) => !known.has(k))).toEqual([]);
  });

  test("is valid as shipped", async () => {
    const p = Bun.spawn([process.execPath, "src/main.ts", "--check-config", "--config", EXAMPLE_PATH], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    expect(out).toContain("is valid");
  });
});
