/**
 * The single binary: `npm run build`'s command (package.json "build", with
 * the output redirected to a temp dir so parallel runs and a developer's
 * dist/ are left alone) produces one executable that, run from a directory
 * with nothing of the repository in it and without Bun on PATH, answers
 * --version, --help and --check-config, and with --config serves a real
 * Prosody like `npm start` does.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deny } from "./harness/auth-server.ts";
import { groupchat, joinPresence, stanzaError, statusCodes } from "./harness/client.ts";
import { REPO_ROOT, startMucgate } from "./harness/mucgate.ts";
import { useRig } from "./harness/rig.ts";

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string; scripts: Record<string, string> };

/** A PATH without Bun on it: the binary must not need the runtime installed. */
const BARE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

let dir: string;
let binary: string;

/** Runs the built binary from `dir` with a minimal environment. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([binary, ...args], {
    cwd: dir,
    env: { PATH: BARE_PATH, HOME: dir },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mucgate-e2e-binary-"));
  chmodSync(dir, 0o755);
  binary = join(dir, "mucgate");
  // The build script exactly as package.json has it, only writing elsewhere.
  const script = pkg.scripts.build ?? "";
  expect(script).toContain("--compile");
  expect(script).toContain("--outfile dist/mucgate");
  const argv = script.replace("--outfile dist/mucgate", `--outfile ${binary}`).split(/\s+/);
  expect(argv[0]).toBe("bun");
  argv[0] = process.execPath;
  const build = Bun.spawn(argv, { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
  if (code !== 0 || !existsSync(binary)) throw new Error(`build failed (${code}):\n${out}\n${err}`);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the built binary", () => {
  test("is one executable file", () => {
    const st = statSync(binary);
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o111).not.toBe(0);
  });

  test("--version prints the package version", async () => {
    const r = await run("--version");
    expect(r).toMatchObject({ code: 0, stdout: `mucgate ${pkg.version}\n` });
    expect((await run("-v")).stdout).toBe(`mucgate ${pkg.version}\n`);
  });

  test("--help prints the usage and exits 0", async () => {
    const r = await run("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: mucgate");
    for (const flag of ["--config FILE", "--check-config", "--version", "--help"]) expect(r.stdout).toContain(flag);
  });

  test("an unknown flag prints the usage and exits 2", async () => {
    const r = await run("--frobnicate");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--frobnicate");
    expect(r.stderr).toContain("Usage: mucgate");
  });

  test("--check-config: a valid file exits 0 (the shipped example is valid), an invalid one exits 1 naming the keys", async () => {
    const example = join(REPO_ROOT, "deploy/mucgate.example.toml");
    const ok = await run("--check-config", "--config", example);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("is valid");

    const bad = join(dir, "bad.toml");
    writeFileSync(
      bad,
      [
        'component_jid = "rooms.example.org"',
        'component_secret = "s"',
        'http_muc_kick_authorization_header = "Bearer k"',
        'muc_http_auth_url = "https://auth.example.org/a"',
        "http_port = 99999",
        'log_levle = "debug"',
      ].join("\n"),
    );
    const r = await run("--check-config", "--config", bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("http_port");
    expect(r.stderr).toContain("log_levle");
    // The config is read at run time: editing the file changes the verdict.
    writeFileSync(bad, readFileSync(bad, "utf8").replace("http_port = 99999", "http_port = 5380").replace("log_levle", "log_level"));
    const fixed = await run("--check-config", "--config", bad);
    expect(fixed.code).toBe(0);
  });

  test("--config with a missing file exits 1 and says so", async () => {
    const r = await run("--config", join(dir, "nope.toml"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nope.toml");
  });
});

describe("the built binary against a real Prosody", () => {
  // mucgate is the built binary, started in the test.
  const rig = useRig({ mucgates: {} });

  test("--config FILE serves joins, messages and the gate, and SIGTERM ends it with 332 and exit 0", async () => {
    const mucgate = await startMucgate({
      prosody: rig.prosody,
      authUrl: rig.auth.url,
      command: [binary],
      cwd: dir,
      env: { PATH: BARE_PATH },
      config: { muc_keep_occupants_on_restart: false },
    });
    rig.afterTest(() => mucgate.stop());
    const room = `lounge@${rig.prosody.componentDomain}`;
    const alice = await rig.client("alice");
    const bob = await rig.client("bob");
    const mallory = await rig.client("mallory");

    await alice.send(joinPresence(`${room}/alice`));
    expect(statusCodes(await alice.waitFor({ name: "presence", from: `${room}/alice` }))).toEqual(expect.arrayContaining([110, 201]));
    await bob.send(joinPresence(`${room}/bob`));
    await bob.waitFor({ name: "presence", from: `${room}/alice` });
    expect(statusCodes(await bob.waitFor({ name: "presence", from: `${room}/bob` }))).toContain(110);
    await alice.waitFor({ name: "presence", from: `${room}/bob` });

    await alice.send(groupchat(room, "hello from the binary"));
    for (const c of [alice, bob]) {
      const m = await c.waitFor({ name: "message", from: `${room}/alice`, type: "groupchat" });
      expect(m.getChildText("body")).toBe("hello from the binary");
    }

    rig.auth.enqueue(deny("not on the list"));
    await mallory.send(joinPresence(`${room}/mallory`));
    const err = await mallory.waitFor({ name: "presence", type: "error" });
    expect(stanzaError(err)).toMatchObject({ type: "auth", condition: "not-authorized" });
    expect(rig.auth.requests.map((r) => [r.userJID, r.nickname])).toEqual([
      ["alice@localhost", "alice"],
      ["bob@localhost", "bob"],
      ["mallory@localhost", "mallory"],
    ]);

    const health = await mucgate.health();
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", xmpp: "online", storage: "ok" });
    const metrics = await fetch(`${mucgate.httpUrl}/metrics`);
    expect(metrics.status).toBe(200);

    const code = await mucgate.stop("SIGTERM");
    expect(code).toBe(0);
    for (const [c, nick] of [
      [alice, "alice"],
      [bob, "bob"],
    ] as const) {
      const bye = await c.waitFor((s) => s.name === "presence" && s.attrs.type === "unavailable" && s.attrs.from === `${room}/${nick}`);
      expect(statusCodes(bye)).toEqual(expect.arrayContaining([110, 332]));
    }
    // The logger works in the compiled binary too: JSON lines, through to the last one.
    const records = mucgate.json();
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => typeof r.level === "string" && typeof r.time === "string" && typeof r.msg === "string")).toBe(true);
    expect(records.some((r) => r.msg === "component online")).toBe(true);
    expect(records.some((r) => r.msg === "join denied")).toBe(true);
    expect(records.at(-1)?.msg).toBe("mucgate stopped");
  });
});
