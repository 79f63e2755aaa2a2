import { expect, test } from "bun:test";
import { REPO_ROOT } from "./harness/mucgate.ts";

test("npm run demo starts the stack, runs the tour with real clients, and stops cleanly", async () => {
  const proc = Bun.spawn([process.execPath, "scripts/demo.ts", "--exit"], { cwd: REPO_ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  expect(out).toContain("✓ alice joins lobby@rooms.localhost as Alice — allowed, status 201 110");
  expect(out).toContain("✗ bob joins as denyBob — refused: <error type='auth'><not-authorized/></error>");
  expect(out).toContain("✓ alice says hello; bob receives it");
  expect(out).toContain("✗ carol joins staff@rooms.localhost — refused");
  expect(out).toMatch(/POST \/muc_kick → 200; bob gets unavailable with 307 and reason "demo kick"/);
  expect(out).toContain('✓ alice makes lobby persistent and names it "The Lobby" — result');
  expect(out).toMatch(/✓ carol joins lobby after the restart and gets its history: "Hello, Bob!" from lobby@rooms.localhost\/Alice, sent \d{4}-/);
  expect(out).toContain("✓ alice never left: no leave, no rejoin");
  expect(out).toContain("Connect your own client");
}, 60_000);
