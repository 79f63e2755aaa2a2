import { randomUUID } from "node:crypto";
import { client, type Client } from "@xmpp/client";
import { xml, type Element } from "@xmpp/xml";

export * from "./stanzas.ts";
export { xml, type Element };

/**
 * A real XMPP client (xmpp.js over plain TCP) with the bookkeeping tests need:
 * every received stanza is kept in `stanzas`, and `waitFor` looks for the
 * first match after a cursor that it then moves past the match, so
 *
 *   await alice.waitFor(selfPresence);  // then
 *   await alice.waitFor(subject);       // must come after it
 *
 * asserts order. Nothing a server or socket does may crash the test process:
 * client errors are caught and kept in `errors`.
 */

/**
 * A predicate, or attributes that must all be equal (`name` is the element
 * name; `type: ""` matches a stanza without a type, e.g. available presence).
 */
export type Match =
  | ((stanza: Element) => boolean)
  | { name?: "message" | "presence" | "iq"; from?: string; to?: string; type?: string; id?: string };

export interface WaitOptions {
  /** Milliseconds; default 3000. */
  timeout?: number;
  /** Search from this index of `stanzas` (see `mark()`) and leave the cursor alone. */
  since?: number;
}

export interface TestClient {
  /** Full JID the server bound. */
  readonly jid: string;
  readonly bareJid: string;
  /** Every stanza received, in order. */
  readonly stanzas: readonly Element[];
  /** Client-side errors (stream errors, socket errors), kept instead of thrown. */
  readonly errors: readonly Error[];
  /** The underlying xmpp.js client, for anything this wrapper doesn't cover. */
  readonly xmpp: Client;
  /** True until the stream is closed (by us or the server). */
  readonly online: boolean;
  send(stanza: Element): Promise<void>;
  /** The first stanza matching after the cursor (or `since`); moves the cursor past it. */
  waitFor(match: Match, options?: WaitOptions): Promise<Element>;
  /** Fails if a matching stanza arrives (or has arrived since the cursor) within `ms` (default 300). */
  expectNothing(match: Match, ms?: number): Promise<void>;
  /** Position of the next stanza to arrive, for `waitFor(…, { since })`. */
  mark(): number;
  /** Send an IQ (id generated if missing) and resolve with its result or error stanza. Cursor untouched. */
  iq(stanza: Element, timeout?: number): Promise<Element>;
  /** Round trip to our own server: everything sent before has been processed by it. */
  sync(): Promise<void>;
  /** Close the stream politely (unavailable presence is sent by the server). Never throws. */
  stop(): Promise<void>;
  /** Cut the TCP connection without closing the stream, like a lost network. */
  drop(): Promise<void>;
}

export interface ConnectOptions {
  /** The Prosody (or anything with the same fields) to log in to. */
  server: { domain: string; c2sPort: number; host?: string };
  username: string;
  password: string;
  resource?: string;
  /** The user's host when not `server.domain` (another VirtualHost). */
  domain?: string;
  /**
   * SASL mechanism. Default PLAIN: xmpp.js computes SCRAM-SHA-1 in JavaScript,
   * which costs ~200 ms per login under Bun; PLAIN takes ~5 ms and the
   * connection is loopback-only anyway.
   */
  mechanism?: "PLAIN" | "SCRAM-SHA-1";
  /** Send initial presence (`<presence/>`) and wait until the server processed it. Default true. */
  initialPresence?: boolean;
  /** Milliseconds for the whole login. Default 5000. */
  timeout?: number;
}

const DEFAULT_WAIT_MS = 3000;

function matcher(match: Match): (stanza: Element) => boolean {
  if (typeof match === "function") return match;
  return (s) =>
    (match.name === undefined || s.name === match.name) &&
    (match.from === undefined || s.attrs.from === match.from) &&
    (match.to === undefined || s.attrs.to === match.to) &&
    (match.type === undefined || (s.attrs.type ?? "") === match.type) &&
    (match.id === undefined || s.attrs.id === match.id);
}

function describeMatch(match: Match): string {
  return typeof match === "function" ? match.toString().slice(0, 200) : JSON.stringify(match);
}

function listStanzas(stanzas: readonly Element[], from: number): string {
  const shown = stanzas.slice(from);
  if (shown.length === 0) return "  (nothing)";
  const lines = shown.slice(-25).map((s, i) => {
    const text = s.toString();
    return `  [${from + Math.max(0, shown.length - 25) + i}] ${text.length > 400 ? `${text.slice(0, 400)}…` : text}`;
  });
  return (shown.length > 25 ? `  … ${shown.length - 25} earlier\n` : "") + lines.join("\n");
}

/** @xmpp/client's iq callee (present at runtime, missing from its types). */
interface IqCallee {
  get(xmlns: string, name: string, handler: () => Element): void;
}

interface Waiter {
  since: number;
  test: (stanza: Element) => boolean;
  found: (index: number) => void;
}

export async function connectClient(options: ConnectOptions): Promise<TestClient> {
  const domain = options.domain ?? options.server.domain;
  const mechanism = options.mechanism ?? "PLAIN";
  const loginTimeout = options.timeout ?? 5000;
  const xmpp = client({
    service: `xmpp://${options.server.host ?? "127.0.0.1"}:${options.server.c2sPort}`,
    domain,
    resource: options.resource ?? `test-${randomUUID().slice(0, 8)}`,
    // A function picks the mechanism itself; xmpp.js otherwise refuses PLAIN without TLS.
    credentials: async (authenticate: (creds: object, mech: string) => Promise<void>) => {
      await authenticate({ username: options.username, password: options.password }, mechanism);
    },
  });
  // A test client must not come back on its own after a server restart:
  // tests reconnect explicitly, and a hidden reconnect would blur assertions.
  xmpp.reconnect.stop();
  // Every real client answers disco#info (XEP-0030; XEP-0115 caps rest on it),
  // and mucgate's session check after a restart relies on that.
  (xmpp as unknown as { iqCallee: IqCallee }).iqCallee.get("http://jabber.org/protocol/disco#info", "query", () =>
    xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }, xml("identity", { category: "client", type: "bot", name: "mucgate test" })),
  );

  const stanzas: Element[] = [];
  const errors: Error[] = [];
  const waiters = new Set<Waiter>();
  let cursor = 0;
  let online = false;

  xmpp.on("error", (err: Error) => errors.push(err));
  xmpp.on("disconnect", () => (online = false));
  xmpp.on("offline", () => (online = false));
  xmpp.on("stanza", (stanza: Element) => {
    const index = stanzas.push(stanza) - 1;
    for (const w of waiters) {
      if (index >= w.since && w.test(stanza)) w.found(index);
    }
  });

  const who = `${options.username}@${domain}`;
  let jid: string;
  let loginTimer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timedOut = new Promise<never>((_, reject) => {
      loginTimer = setTimeout(() => reject(new Error(`timed out after ${loginTimeout} ms`)), loginTimeout);
    });
    jid = String(await Promise.race([xmpp.start(), timedOut]));
    online = true;
  } catch (err) {
    await xmpp.stop().catch(() => {});
    const detail = (err as { condition?: string }).condition ?? (err as Error).message;
    throw new Error(
      `connectClient: ${who} could not log in on 127.0.0.1:${options.server.c2sPort}: ${detail}` +
        (errors.length ? ` (client errors: ${errors.map((e) => e.message).join("; ")})` : ""),
    );
  } finally {
    clearTimeout(loginTimer);
  }

  function find(test: (s: Element) => boolean, from: number): number {
    for (let i = from; i < stanzas.length; i++) if (test(stanzas[i]!)) return i;
    return -1;
  }

  function waitIndex(test: (s: Element) => boolean, from: number, timeout: number, what: () => string): Promise<number> {
    const existing = find(test, from);
    if (existing >= 0) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        since: from,
        test,
        found: (index) => {
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(index);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`${jid}: ${what()} not received within ${timeout} ms. Received since #${from}:\n${listStanzas(stanzas, from)}`));
      }, timeout);
      waiters.add(waiter);
    });
  }

  const testClient: TestClient = {
    jid,
    bareJid: jid.split("/")[0]!,
    stanzas,
    errors,
    xmpp,
    get online() {
      return online;
    },
    send(stanza) {
      return xmpp.send(stanza);
    },
    async waitFor(match, opts = {}) {
      const from = opts.since ?? cursor;
      const index = await waitIndex(matcher(match), from, opts.timeout ?? DEFAULT_WAIT_MS, () => `a stanza matching ${describeMatch(match)}`);
      if (opts.since === undefined) cursor = Math.max(cursor, index + 1);
      return stanzas[index]!;
    },
    async expectNothing(match, ms = 300) {
      const test = matcher(match);
      const from = cursor;
      let index = -1;
      try {
        index = await waitIndex(test, from, ms, () => "");
      } catch {
        return; // nothing came: as expected
      }
      throw new Error(
        `${jid}: expected nothing matching ${describeMatch(match)} within ${ms} ms, got [${index}] ${stanzas[index]!.toString()}`,
      );
    },
    mark() {
      return stanzas.length;
    },
    async iq(stanza, timeout = DEFAULT_WAIT_MS) {
      const id = stanza.attrs.id ?? randomUUID();
      stanza.attrs.id = id;
      const from = stanzas.length;
      const answered = waitIndex(
        (s) => s.name === "iq" && s.attrs.id === id && (s.attrs.type === "result" || s.attrs.type === "error"),
        from,
        timeout,
        () => `the answer to iq ${id} (${stanza.toString().slice(0, 200)})`,
      );
      await xmpp.send(stanza);
      return stanzas[await answered]!;
    },
    async sync() {
      const answer = await testClient.iq(xml("iq", { type: "get", to: domain }, xml("ping", { xmlns: "urn:xmpp:ping" })));
      if (answer.attrs.type !== "result") throw new Error(`${jid}: ping to ${domain} failed: ${answer.toString()}`);
    },
    async stop() {
      online = false;
      const stopped = xmpp.stop().then(
        () => true,
        () => true,
      );
      if (!(await Promise.race([stopped, Bun.sleep(2000).then(() => false)]))) {
        (xmpp as unknown as { socket?: { destroy?(): void } }).socket?.destroy?.();
      }
    },
    async drop() {
      online = false;
      (xmpp as unknown as { socket?: { destroy?(): void } }).socket?.destroy?.();
      await xmpp.stop().catch(() => {});
    },
  };

  if (options.initialPresence ?? true) {
    await xmpp.send(xml("presence"));
    // Prosody handles one session's stanzas in order: once the ping is answered,
    // the presence is in effect (messages to the bare JID now reach us).
    await testClient.sync();
    cursor = stanzas.length;
  }
  return testClient;
}
