import type { Socket } from "bun";

/**
 * A minimal XMPP client (c2s) for load generation over raw TCP: stream
 * header, SASL PLAIN, stream restart, resource bind (and session, when the
 * server offers it as mandatory), and then nothing — no parser, no roster, no
 * initial presence. After login every byte the server sends goes to the
 * session's `onData` as text; recognising answers in it is the caller's job
 * (see answer-counter.ts), so a thousand sessions cost the bench little more
 * than their sockets.
 *
 * Plain c2s only (no STARTTLS): the test Prosody allows PLAIN without TLS on
 * loopback. Login is a short request/answer dialogue; the few elements it
 * waits for are found by name in the accumulated text, so chunk boundaries
 * don't matter.
 */

export interface C2sAccount {
  readonly user: string;
  readonly password: string;
}

export interface C2sOptions {
  readonly host: string;
  readonly port: number;
  /** The VirtualHost, the stream's `to`. */
  readonly domain: string;
  /** Resource asked for at bind. Default `r`. */
  readonly resource?: string;
  /** Milliseconds for connect + login. Default 10 000. */
  readonly timeoutMs?: number;
}

export interface C2sSession {
  /** The full JID the server bound. */
  readonly jid: string;
  /** Queue raw XML; written in order, as fast as the socket takes it. */
  send(xml: string): void;
  /** Receives every chunk after login (decoded text). Replace it to listen. */
  onData: (chunk: string) => void;
  /** Close the stream and the socket. */
  close(): void;
}

const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";
const NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session";
const FEATURES_END = "</stream:features>";

const header = (domain: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;

/**
 * The end (index after it) of the first complete element called `name` in
 * `buf`, -1 if there is none yet, with where it starts. Enough for the login
 * dialogue, whose elements don't nest an element of their own name.
 */
function element(buf: string, name: string): { start: number; end: number } | undefined {
  const re = new RegExp(`<${name}[\\s/>]`);
  const m = re.exec(buf);
  if (!m) return undefined;
  const gt = buf.indexOf(">", m.index);
  if (gt < 0) return undefined;
  if (buf[gt - 1] === "/") return { start: m.index, end: gt + 1 };
  const close = buf.indexOf(`</${name}>`, gt);
  return close < 0 ? undefined : { start: m.index, end: close + name.length + 3 };
}

type Stage = "features" | "sasl" | "features2" | "bind" | "session" | "ready";

/** Connect and log in one account. Rejects with what the server said on failure or timeout. */
export function openSession(account: C2sAccount, options: C2sOptions): Promise<C2sSession> {
  const { host, port, domain } = options;
  const resource = options.resource ?? "r";
  const timeoutMs = options.timeoutMs ?? 10_000;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();

  return new Promise((resolve, reject) => {
    let stage: Stage = "features";
    let buf = "";
    let sessionRequired = false;
    let settled = false;
    let socket: Socket<undefined> | undefined;
    let pending: Uint8Array | undefined;

    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket?.end();
      reject(new Error(`c2s ${account.user}@${domain}: ${why}`));
    };
    const timer = setTimeout(() => fail(`no login within ${timeoutMs} ms (stage ${stage}, got: ${buf.slice(0, 300)})`), timeoutMs);

    const flush = (s: Socket<undefined>) => {
      if (!pending) return;
      const bytes = pending;
      const written = s.write(bytes);
      pending = written < bytes.length ? bytes.subarray(Math.max(0, written)) : undefined;
    };
    const write = (xml: string) => {
      const s = socket;
      if (!s) return;
      const bytes = encoder.encode(xml);
      pending = pending ? Buffer.concat([pending, bytes]) : bytes;
      flush(s);
    };

    const session: C2sSession = {
      jid: "",
      send: write,
      onData: () => {},
      close() {
        if (!socket) return;
        write("</stream:stream>");
        socket.end();
      },
    };

    /** Advance the login as far as the text received allows. */
    const step = (): void => {
      for (;;) {
        if (stage === "features" || stage === "features2") {
          const end = buf.indexOf(FEATURES_END);
          if (end < 0) return;
          const features = buf.slice(0, end);
          buf = buf.slice(end + FEATURES_END.length);
          if (stage === "features") {
            if (!/<mechanism>PLAIN<\/mechanism>/.test(features)) return fail(`PLAIN not offered: ${features}`);
            const token = Buffer.from(`\0${account.user}\0${account.password}`).toString("base64");
            write(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${token}</auth>`);
            stage = "sasl";
          } else {
            if (!features.includes(NS_BIND)) return fail(`bind not offered: ${features}`);
            const s = element(features, "session");
            if (s) {
              const text = features.slice(s.start, s.end);
              sessionRequired = !text.includes("<optional");
            }
            write(`<iq type='set' id='bind'><bind xmlns='${NS_BIND}'><resource>${resource}</resource></bind></iq>`);
            stage = "bind";
          }
        } else if (stage === "sasl") {
          const failure = element(buf, "failure");
          if (failure) return fail(`SASL failure: ${buf.slice(failure.start, failure.end)}`);
          const success = element(buf, "success");
          if (!success) return;
          buf = "";
          write(header(domain));
          stage = "features2";
        } else if (stage === "bind" || stage === "session") {
          const iq = element(buf, "iq");
          if (!iq) return;
          const text = buf.slice(iq.start, iq.end);
          buf = buf.slice(iq.end);
          if (/type=["']error["']/.test(text)) return fail(`${stage} refused: ${text}`);
          if (stage === "bind") {
            const jid = /<jid>([^<]+)<\/jid>/.exec(text)?.[1];
            if (!jid) return fail(`bind answer without a JID: ${text}`);
            (session as { jid: string }).jid = jid;
            if (sessionRequired) {
              write(`<iq type='set' id='session'><session xmlns='${NS_SESSION}'/></iq>`);
              stage = "session";
              continue;
            }
          }
          stage = "ready";
          settled = true;
          clearTimeout(timer);
          resolve(session);
          if (buf) session.onData(buf);
          buf = "";
          return;
        } else {
          return;
        }
      }
    };

    Bun.connect<undefined>({
      hostname: host,
      port,
      socket: {
        open(s) {
          socket = s;
          s.setNoDelay(true);
          write(header(domain));
        },
        data(_s, bytes) {
          const text = decoder.decode(bytes, { stream: true });
          if (stage === "ready") {
            session.onData(text);
            return;
          }
          buf += text;
          if (buf.includes("<stream:error")) return fail(`stream error: ${buf.slice(buf.indexOf("<stream:error"), buf.indexOf("<stream:error") + 300)}`);
          step();
        },
        drain(s) {
          flush(s);
        },
        close() {
          socket = undefined;
          fail("connection closed during login");
        },
        error(_s, err) {
          fail(`socket error: ${err.message}`);
        },
        connectError(_s, err) {
          fail(`cannot connect to ${host}:${port}: ${err.message}`);
        },
      },
    }).catch((err: Error) => fail(`cannot connect to ${host}:${port}: ${err.message}`));
  });
}

/**
 * Log in every account, at most `concurrency` logins at a time; the sessions
 * come back in the order of `accounts`. If one login fails, the ones already
 * open are closed and the error is thrown.
 */
export async function openSessions(
  accounts: readonly C2sAccount[],
  options: C2sOptions & { readonly concurrency?: number },
): Promise<C2sSession[]> {
  const sessions: C2sSession[] = new Array(accounts.length);
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < accounts.length) {
      const i = next++;
      try {
        sessions[i] = await openSession(accounts[i]!, options);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 50, accounts.length) }, worker));
  if (failure !== undefined) {
    for (const s of sessions) s?.close();
    throw failure;
  }
  return sessions;
}
