import { ejabberdInstalled, startEjabberd, type EjabberdOptions } from "./ejabberd.ts";
import { startProsody, type ProsodyOptions } from "./prosody.ts";

/**
 * The XMPP servers the end-to-end suite runs mucgate against, behind one
 * shape: what tests need to log clients in, point mucgate at a component
 * slot, create accounts, and stop or restart the server. `ProsodyServer` and
 * `EjabberdServer` both have more; this is the part that is the same.
 *
 *   for (const kind of SERVER_KINDS) describe(kind, () => { … startXmppServer(kind) … });
 */

export type ServerKind = "prosody" | "ejabberd";
export const SERVER_KINDS: readonly ServerKind[] = ["prosody", "ejabberd"];

export interface XmppServer {
  readonly kind: ServerKind;
  /** The virtual host users log in to. */
  readonly domain: string;
  readonly host: "127.0.0.1";
  readonly c2sPort: number;
  readonly componentPort: number;
  /** The first component slot: what `startMucgate({ prosody: server })` connects to. */
  readonly componentDomain: string;
  readonly componentSecret: string;
  readonly componentService: string;
  /** Create an account (or reset its password) on `domain` unless given. Await it: ejabberd's is async. */
  register(user: string, password: string, host?: string): void | Promise<void>;
  registerMany(accounts: readonly { user: string; password: string; host?: string }[]): void | Promise<void>;
  logTail(lines?: number): string;
  /** Stop (SIGTERM: clean; SIGKILL: a crash) and start again on the same ports. */
  restart(options?: { signal?: NodeJS.Signals }): Promise<void>;
  stop(options?: { signal?: NodeJS.Signals }): Promise<void>;
}

export interface XmppServerOptions {
  domain?: string;
  extraDomains?: string[];
  components?: { domain: string; secret?: string }[];
}

/** Whether `kind` can run here (its programs are installed). */
export function serverAvailable(kind: ServerKind): boolean {
  return kind === "prosody" ? Bun.which("prosody") !== null : ejabberdInstalled();
}

export async function startXmppServer(kind: ServerKind, options: XmppServerOptions = {}): Promise<XmppServer> {
  if (kind === "ejabberd") return startEjabberd(options satisfies EjabberdOptions);
  const prosody = await startProsody(options satisfies ProsodyOptions);
  return Object.assign(prosody, { kind: "prosody" as const });
}
