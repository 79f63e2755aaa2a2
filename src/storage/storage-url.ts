/**
 * The `storage` option's value, read once: `memory`, `sqlite:<path>` or
 * `postgres://user:password@host:port/db` (also `postgresql://`). Shared by
 * `src/config.ts`, which reports a problem against the key, and
 * `open-storage.ts`, which opens what it names. Problems never quote the
 * value: a PostgreSQL URL carries a password.
 */

/** libpq's `sslmode` values (PostgreSQL docs, "SSL Support"), which Bun's client takes as `tls`. */
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

export type StorageTarget =
  | { readonly kind: "memory" }
  /** As given: relative paths are relative to the working directory. */
  | { readonly kind: "sqlite"; readonly path: string }
  | {
      readonly kind: "postgres";
      readonly host: string;
      readonly port: number;
      readonly user: string;
      readonly password: string | undefined;
      readonly database: string;
      readonly sslmode: SslMode | undefined;
    };

export const STORAGE_FORMS = "memory, sqlite:<path> or postgres://user:password@host:port/database";

const POSTGRES_DEFAULT_PORT = 5432;

function decoded(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

function postgresTarget(text: string): StorageTarget | string {
  const url = URL.parse(text);
  if (url === null) return "is not a valid postgres:// URL";
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") return "needs a host: postgres://user:password@host:port/database";
  const user = decoded(url.username);
  const password = url.password === "" ? undefined : decoded(url.password);
  if (user === undefined || (password === undefined && url.password !== "")) return "has a malformed %-escape in its user or password";
  if (user === "") return "needs a user: postgres://user:password@host:port/database";
  const database = decoded(url.pathname.replace(/^\//, ""));
  if (database === undefined || database === "" || database.includes("/")) {
    return "needs one database name as its path: postgres://user:password@host:port/database";
  }
  if (url.hash !== "") return "must not have a #fragment";
  let sslmode: SslMode | undefined;
  for (const [name, value] of url.searchParams) {
    if (name !== "sslmode") return `has an unknown parameter ${JSON.stringify(name)} (only sslmode is read)`;
    if (!(SSL_MODES as readonly string[]).includes(value)) return `sslmode must be one of ${SSL_MODES.join(", ")}`;
    sslmode = value as SslMode;
  }
  const port = url.port === "" ? POSTGRES_DEFAULT_PORT : Number(url.port);
  return { kind: "postgres", host, port, user, password, database, sslmode };
}

/** The target `text` names, or what is wrong with it (a sentence fragment that does not quote the value). */
export function parseStorageUrl(text: string): StorageTarget | string {
  if (text === "memory") return { kind: "memory" };
  if (text.startsWith("sqlite:")) {
    const path = text.slice("sqlite:".length);
    return path === "" ? "sqlite: needs a file path, e.g. sqlite:/var/lib/mucgate/mucgate.sqlite" : { kind: "sqlite", path };
  }
  if (/^postgres(ql)?:\/\//i.test(text)) return postgresTarget(text);
  return `expected ${STORAGE_FORMS}`;
}

/** What a log line may say about a target: never the password (nor the user, which often pairs with it). */
export function describeTarget(target: StorageTarget): Readonly<Record<string, string | number>> {
  switch (target.kind) {
    case "memory":
      return { kind: "memory" };
    case "sqlite":
      return { kind: "sqlite", path: target.path };
    case "postgres":
      return { kind: "postgres", host: target.host, port: target.port, database: target.database };
  }
}
