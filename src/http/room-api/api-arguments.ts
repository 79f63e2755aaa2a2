import { ApiError } from "./api-error.ts";

/**
 * A command's arguments as mod_http_api reads them (docs/room-api-ejabberd.md
 * "The HTTP layer"): one JSON object, every argument a string unless the
 * command says otherwise, refused in ejabberd's words — duplicates, then
 * unknown names, then missing ones (in the command's order), then types.
 * Where ejabberd's answer is a quirk (arrays concatenated into strings), a
 * plain refusal instead.
 */

export type ArgumentKind = "string" | "options";

export interface ArgumentSpec {
  readonly name: string;
  readonly kind?: ArgumentKind;
  /** Absent is allowed (create_room_with_opts' options). */
  readonly optional?: boolean;
}

/** Options as given: a list of `{name, value}` or an object; values still unchecked strings. */
export type OptionList = readonly (readonly [name: string, value: string])[];

export type Arguments = Record<string, string | OptionList | undefined>;

function bad(message: string): ApiError {
  return new ApiError(400, message);
}

/** ejabberd prints the offending value: `Arg 9 is not in format binary`. */
function render(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
}

function notBinary(value: unknown): ApiError {
  return bad(`Arg ${render(value)} is not in format binary`);
}

// XML 1.0 §2.2 Char: anything else cannot travel in a stanza (the server would close the component's stream).
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

function readString(value: unknown): string {
  if (typeof value !== "string") throw notBinary(value);
  if (NOT_XML_CHAR.test(value)) throw bad(`Arg ${render(value)} contains characters XML cannot carry`);
  return value;
}

function readOptions(value: unknown): OptionList {
  if (Array.isArray(value)) {
    return value.map((entry) => {
      if (entry === null || typeof entry !== "object" || Array.isArray(entry)) throw bad(`Arg ${render(entry)} is not in format {name, value}`);
      const { name, value: v } = entry as Record<string, unknown>;
      return [readString(name), readString(v)] as const;
    });
  }
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).map(([name, v]) => [name, readString(v)] as const);
  }
  throw bad(`Arg ${render(value)} is not in format: a list of {name, value} or an object of strings`);
}

/** `given` as `specs` read it; `duplicates` are names the request carried twice. */
export function readArguments(given: Record<string, unknown>, specs: readonly ArgumentSpec[], duplicates: readonly string[] = []): Arguments {
  if (duplicates.length > 0) throw bad(`Request have duplicate argument: ${duplicates[0]}`);
  const known = new Set(specs.map((s) => s.name));
  const unknown = Object.keys(given).filter((name) => !known.has(name));
  if (unknown.length > 0) throw bad(`Request have unknown arguments: [${unknown.join(",")}]`);
  for (const spec of specs) {
    if (!spec.optional && !Object.hasOwn(given, spec.name)) throw bad(`Request have missing argument: ${spec.name}`);
  }
  const args: Arguments = {};
  for (const spec of specs) {
    if (!Object.hasOwn(given, spec.name)) continue;
    const value = given[spec.name];
    args[spec.name] = spec.kind === "options" ? readOptions(value) : readString(value);
  }
  return args;
}

/**
 * The names of a JSON object's own keys that occur more than once at its top
 * level (JSON.parse keeps the last silently; ejabberd refuses them). `text`
 * is already known to be valid JSON.
 */
export function duplicateKeys(text: string): string[] {
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && " \t\n\r\uFEFF".includes(text[i]!)) i++;
  };
  /** Index after the string starting at `i`. */
  const stringEnd = (start: number): number => {
    let j = start + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
    return j + 1;
  };
  skipSpace();
  if (text[i] !== "{") return [];
  i++;
  const seen = new Set<string>();
  const dups: string[] = [];
  let depth = 0;
  let expectKey = true;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      const end = stringEnd(i);
      if (depth === 0 && expectKey) {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (seen.has(key)) dups.push(key);
        seen.add(key);
        expectKey = false;
      }
      i = end;
      continue;
    }
    if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") {
      if (depth === 0) break;
      depth--;
    } else if (ch === "," && depth === 0) expectKey = true;
    i++;
  }
  return dups;
}
