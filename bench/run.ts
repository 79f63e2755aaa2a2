/**
 * `npm run bench [-- filter…]`: every benchmark in bench/, one after the
 * other, each in a process of its own (a fresh heap and JIT, so one cannot
 * skew the next — the memory figures depend on it), then one table each.
 *
 *   npm run bench                 all of them
 *   npm run bench -- gate memory  only those whose name contains a filter
 *
 * Every figure sits next to a baseline measured in the same process during
 * the same run: on a shared machine compare ratios, not absolute numbers.
 */
import { join } from "node:path";
import { RESULT_MARKER, renderTable, type BenchResult } from "./support/report.ts";

const BENCHES = [
  { name: "gate", file: "gate.bench.ts", what: "gate micro-benchmark (cached, coalesced, fresh decisions)" },
  { name: "component", file: "component.bench.ts", what: "component alone over XEP-0114 (warm/cold joins, latency)" },
  { name: "fanout", file: "fanout.bench.ts", what: "fan-out of one message to 1,000 occupants" },
  { name: "memory", file: "memory.bench.ts", what: "bytes per occupant and per cached decision" },
  { name: "events", file: "events.bench.ts", what: "joins/s with muc_events_url at a slow receiver vs without" },
  { name: "storage", file: "storage.bench.ts", what: "archive on/off, warm joins SQLite vs memory, MAM p99 of 1,000,000, start-up and restore (SQLite, PostgreSQL)" },
  { name: "room-fill", file: "room-fill.bench.ts", what: "1,000 occupants into one room through Prosody: mucgate vs Prosody's own MUC" },
  { name: "prosody", file: "prosody.bench.ts", what: "end to end through a real Prosody (1,000 c2s sessions; mucgate vs echo component)" },
  { name: "shutdown", file: "shutdown.bench.ts", what: "SIGTERM with 10,000 occupants through Prosody: every 332 delivered, pending joins answered; restart keeping them" },
] as const;

const filters = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const selected = BENCHES.filter((b) => filters.length === 0 || filters.some((f) => b.name.includes(f.toLowerCase())));
if (selected.length === 0) {
  console.error(`no benchmark matches ${filters.join(", ")}; there are: ${BENCHES.map((b) => b.name).join(", ")}`);
  process.exit(2);
}

const cpus = navigator.hardwareConcurrency;
console.log(`mucgate benchmarks — Bun ${Bun.version}, ${process.platform}/${process.arch}, ${cpus} CPU${cpus === 1 ? "" : "s"}, ${new Date().toISOString().slice(0, 16)}Z`);
console.log("Ratios compare with a baseline measured in the same run; absolute figures depend on the machine and its load.\n");

let failed = 0;
const started = performance.now();
for (const bench of selected) {
  process.stderr.write(`▶ ${bench.name}: ${bench.what}\n`);
  const t0 = performance.now();
  const child = Bun.spawn([process.execPath, join(import.meta.dir, bench.file), "--json"], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const stdout = await new Response(child.stdout).text();
  const code = await child.exited;
  const line = stdout.split("\n").find((l) => l.startsWith(RESULT_MARKER));
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  if (code !== 0 || !line) {
    failed++;
    const why = `${bench.name} failed (exit ${code}) after ${seconds} s`;
    process.stderr.write(`✗ ${why}\n${stdout}`);
    console.log(`### ${bench.name}\n\n${why}: see its output on stderr.\n`);
    continue;
  }
  const result = JSON.parse(line.slice(RESULT_MARKER.length)) as BenchResult;
  process.stderr.write(`✓ ${bench.name} (${seconds} s)\n`);
  console.log(`${renderTable(result)}\n`);
}
process.stderr.write(`done in ${((performance.now() - started) / 1000).toFixed(0)} s${failed ? `, ${failed} failed` : ""}\n`);
process.exit(failed ? 1 : 0);
