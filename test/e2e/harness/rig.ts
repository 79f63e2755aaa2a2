import { afterAll, afterEach, beforeAll } from "bun:test";
import { startAuthServer, type AuthServer, type AuthServerOptions } from "./auth-server.ts";
import { connectClient, type TestClient } from "./client.ts";
import { startMucgate, type MucgateOptions, type MucgateProcess } from "./mucgate.ts";
import { startProsody, type ProsodyOptions, type ProsodyServer } from "./prosody.ts";

/**
 * The stack most end-to-end files run against, set up once per file: one
 * Prosody, one authorization service (allowing everyone unless told
 * otherwise) and the mucgate processes the file names, each on a component
 * slot, started in beforeAll and stopped in afterAll (also after a failure).
 * Clients log in per test and are stopped after it; then the auth service is
 * reset (requests, queued answers and behaviour back to the start).
 *
 *   const rig = useRig();                                   // one mucgate, allow-all auth
 *   const rig = useRig({
 *     prosody: { components: [{ domain: "rooms.localhost" }, { domain: "short.localhost" }] },
 *     mucgates: { long: { config: {…} }, short: { slot: "short.localhost", config: {…} } },
 *   });
 *   test("…", async () => { const alice = await rig.client("alice"); … rig.auth.enqueue(deny()); … });
 *
 * Files that start mucgate themselves, per test, pass `mucgates: {}`.
 */

/** Every account's password. */
export const PASSWORD = "pw";

export interface RigMucgate extends Omit<MucgateOptions, "prosody" | "authUrl"> {
  /** The component slot it serves. Default Prosody's first. */
  slot?: string;
  /** `muc_http_auth_url`: default the auth service's URL; a function is given that URL (called in beforeAll). */
  authUrl?: string | ((authUrl: string) => string);
}

export interface RigOptions<G extends string> {
  prosody?: ProsodyOptions;
  /** The authorization service; a function for options that take a while to make (made while Prosody starts). */
  auth?: AuthServerOptions | (() => Promise<AuthServerOptions>);
  /** The mucgate processes by name, started side by side. Default one, `mucgate`, with the defaults. */
  mucgates?: Record<G, RigMucgate>;
  /** More to do after each test: after its clients and `afterTest` stops, before the auth service is reset. */
  afterEach?: () => Promise<unknown>;
}

export interface LoginOptions {
  resource?: string;
  /** The user's host when not Prosody's first (another VirtualHost). */
  domain?: string;
}

export interface Rig<G extends string> {
  readonly prosody: ProsodyServer;
  readonly auth: AuthServer;
  /** The first mucgate of `mucgates` (the only one, usually). */
  readonly mucgate: MucgateProcess;
  readonly mucgates: Readonly<Record<G, MucgateProcess>>;
  /** The first component slot's domain: the MUC service of the first mucgate by default. */
  readonly service: string;
  /** A room JID on `service` not used before in this file. */
  room(label: string): string;
  /**
   * Log in `user` (account created on demand, password `PASSWORD`), with this
   * resource (a string) or these options; stopped after the test.
   */
  client(user: string, options?: string | LoginOptions): Promise<TestClient>;
  /** The same for a client a describe block or the file keeps: stopped in afterAll (stopping it earlier is fine). */
  connect(user: string, options?: string | LoginOptions): Promise<TestClient>;
  /**
   * Run `stop` after this test (a process or relay it started), once its
   * clients are stopped: the last registered first, a failure ignored.
   */
  afterTest(stop: () => Promise<unknown>): void;
}

export function useRig<G extends string = "mucgate">(options: RigOptions<G> = {}): Rig<G> {
  const specs = Object.entries<RigMucgate>(options.mucgates ?? ({ mucgate: {} } as Record<G, RigMucgate>));
  let prosody: ProsodyServer | undefined;
  let auth: AuthServer | undefined;
  let mucgates: Record<G, MucgateProcess> | undefined;
  const started: MucgateProcess[] = [];
  const clients: TestClient[] = [];
  const kept: TestClient[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  let rooms = 0;

  beforeAll(async () => {
    const authOptions = options.auth;
    const [p, authServerOptions] = await Promise.all([
      startProsody(options.prosody),
      typeof authOptions === "function" ? authOptions() : Promise.resolve(authOptions ?? {}),
    ]);
    prosody = p;
    auth = startAuthServer(authServerOptions);
    const url = auth.url;
    const launched = await Promise.all(
      specs.map(async ([name, { slot, authUrl, ...rest }]) => {
        const m = await startMucgate({
          ...rest,
          prosody: slot === undefined ? p : p.slot(slot),
          authUrl: typeof authUrl === "function" ? authUrl(url) : (authUrl ?? url),
        });
        started.push(m);
        return [name, m] as const;
      }),
    );
    mucgates = Object.fromEntries(launched) as Record<G, MucgateProcess>;
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    for (const stop of cleanups.splice(0).reverse()) await stop().catch(() => {});
    await options.afterEach?.();
    auth?.reset();
  });
  afterAll(async () => {
    await Promise.all([...clients.splice(0), ...kept.splice(0)].map((c) => c.stop()));
    await Promise.all(started.map((m) => m.stop()));
    await auth?.stop();
    await prosody?.stop();
  });

  const need = <T>(x: T | undefined, what: string): T => {
    if (x === undefined) throw new Error(`${what} did not start (see beforeAll)`);
    return x;
  };
  const login = async (user: string, how: string | LoginOptions = {}) => {
    const o = typeof how === "string" ? { resource: how } : how;
    const server = need(prosody, "prosody");
    server.register(user, PASSWORD, o.domain);
    return connectClient({ server, username: user, password: PASSWORD, ...o });
  };
  return {
    get prosody() {
      return need(prosody, "prosody");
    },
    get auth() {
      return need(auth, "auth server");
    },
    get mucgate() {
      const first = specs[0];
      if (!first) throw new Error("useRig: this rig has no mucgate (mucgates: {})");
      return need(mucgates, "mucgate")[first[0] as G];
    },
    get mucgates() {
      return need(mucgates, "mucgate");
    },
    get service() {
      return need(prosody, "prosody").componentDomain;
    },
    room(label) {
      return `${label}-${++rooms}@${need(prosody, "prosody").componentDomain}`;
    },
    async client(user, o) {
      const c = await login(user, o);
      clients.push(c);
      return c;
    },
    async connect(user, o) {
      const c = await login(user, o);
      kept.push(c);
      return c;
    },
    afterTest(stop) {
      cleanups.push(stop);
    },
  };
}
