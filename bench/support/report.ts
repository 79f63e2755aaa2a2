/**
 * What every benchmark hands back, and how it is printed.
 *
 * A row is one figure measured in this run next to a baseline measured in the
 * same run (the machine is shared: absolute numbers drift, ratios much less),
 * plus the issue's target for that figure, if it has one. Tables are Markdown
 * padded to line up, so the same text reads well in a terminal and pastes
 * into the README.
 */

export type Unit = "/s" | "ms" | "µs" | "B" | "count";

export interface Target {
  readonly op: ">=" | "<=" | "<" | "=";
  readonly value: number;
}

export interface Row {
  readonly figure: string;
  readonly value: number;
  readonly unit: Unit;
  readonly baseline?: { readonly name: string; readonly value: number } | undefined;
  readonly target?: Target | undefined;
}

export interface BenchResult {
  readonly title: string;
  readonly rows: readonly Row[];
  /** Setup and caveats, printed under the table. */
  readonly notes: readonly string[];
}

/** A benchmark file's entry point. */
export type Bench = () => Promise<BenchResult>;

export function met(row: Row): boolean | undefined {
  const t = row.target;
  if (!t) return undefined;
  switch (t.op) {
    case ">=":
      return row.value >= t.value;
    case "<=":
      return row.value <= t.value;
    case "<":
      return row.value < t.value;
    case "=":
      return row.value === t.value;
  }
}

/** 3 significant digits, with k/M for large rates and thousands separators elsewhere. */
export function format(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return String(value);
  switch (unit) {
    case "/s":
      if (value >= 1e6) return `${sig(value / 1e6)} M/s`;
      if (value >= 1e3) return `${sig(value / 1e3)} k/s`;
      return `${sig(value)} /s`;
    case "ms":
      return `${sig(value)} ms`;
    case "µs":
      return `${sig(value)} µs`;
    case "B":
      return `${Math.round(value).toLocaleString("en-US")} B`;
    case "count":
      return Math.round(value).toLocaleString("en-US");
  }
}

function sig(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toLocaleString("en-US");
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

function ratio(row: Row): string {
  const b = row.baseline;
  if (!b || b.value === 0) return "—";
  const r = row.value / b.value;
  return `${r >= 10 ? r.toFixed(1) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)}×`;
}

function targetText(row: Row): string {
  const t = row.target;
  if (!t) return "—";
  const op = t.op === ">=" ? "≥" : t.op === "<=" ? "≤" : t.op;
  return `${op} ${format(t.value, row.unit)}`;
}

export function renderTable(result: BenchResult): string {
  const header = ["figure", "measured", "baseline (same run)", "baseline", "ratio", "target", "met"];
  const align: ("l" | "r" | "c")[] = ["l", "r", "l", "r", "r", "l", "c"];
  const body = result.rows.map((row) => {
    const m = met(row);
    return [
      row.figure,
      format(row.value, row.unit),
      row.baseline?.name ?? "—",
      row.baseline ? format(row.baseline.value, row.unit) : "—",
      ratio(row),
      targetText(row),
      m === undefined ? "" : m ? "✓" : "✗",
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (align[i] === "r" ? c.padStart(widths[i]!) : align[i] === "c" ? center(c, widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (align[i] === "r" ? `${"-".repeat(w + 1)}:` : align[i] === "c" ? `:${"-".repeat(w)}:` : "-".repeat(w + 2))).join("|")}|`;
  const lines = [`### ${result.title}`, "", line(header), rule, ...body.map(line)];
  if (result.notes.length > 0) lines.push("", ...result.notes.map((n) => `- ${n}`));
  return lines.join("\n");
}

function center(s: string, w: number): string {
  const left = Math.floor((w - s.length) / 2);
  return " ".repeat(left) + s + " ".repeat(w - s.length - left);
}

/** Marks the machine-readable result in a child's stdout (see run.ts). */
export const RESULT_MARKER = "@@bench-result@@";

/**
 * A benchmark file's `import.meta.main` block: run it, then print its table
 * (alone) or its result as one JSON line (under run.ts, with `--json`).
 * Progress goes to stderr either way.
 */
export async function runStandalone(bench: Bench): Promise<void> {
  const result = await bench();
  if (process.argv.includes("--json")) {
    process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
  } else {
    console.log(renderTable(result));
  }
  // Servers, sockets and timers of the bench must not keep the process alive.
  process.exit(0);
}

export function progress(message: string): void {
  process.stderr.write(`  … ${message}\n`);
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The q-quantile (0..1) of a list sorted ascending, nearest rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`benchmark precondition failed: ${message}`);
}
