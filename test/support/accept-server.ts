import { createHash, randomUUID } from "node:crypto";
import type { Socket } from "bun";
import { Parser, type Element } from "@xmpp/xml";

/**
 * The XMPP server's side of XEP-0114 (jabber:component:accept), for tests
 * and benchmarks that need a component to connect "as in production" without
 * a real XMPP server: it answers the stream header, checks the handshake
 * (SHA-1 of stream id + secret, §3), then exchanges stanzas, and answers the
 * component's stream close with its own.
 *
 * Writes are queued until the socket drains: Bun's `socket.write` takes what
 * fits in the kernel buffer and drops the rest unless the caller keeps it, and
 * a benchmark's burst of 10,000 joins (~1 MB) does not fit.
 */
export interface AcceptServerOptions {
  secret: string;
  /** Parsed stanzas from the component (skip parsing when only `onData` is wanted). */
  onStanza?: (stanza: Element, session: AcceptSession) => void;
  /** Raw text from the component after the handshake (cheap counting in benchmarks). */
  onData?: (chunk: string, session: AcceptSession) => void;
  /** How to decode what the component sends; `latin1` is cheaper for ASCII-only benchmarks. Default utf8. */
  decode?: "utf8" | "latin1";
  /** Refuse every handshake, as a server with another secret would. */
  refuse?: boolean;
}

export interface AcceptSession {
  readonly domain: string;
  /** Queue raw XML for the component; written in order, as fast as it reads. */
  write(xml: string): void;
  /** Queue raw bytes (e.g. half a UTF-8 character). */
  writeBytes(bytes: Uint8Array): void;
  /** Drop the TCP connection without closing the stream. */
  destroy(): void;
  /** Stop reading what the component sends (a server that is behind), and start again. */
  pause(): void;
  resume(): void;
  /** Stop reading for `ms` (a busy server): what the component writes meanwhile waits in kernel buffers. */
  pauseReading(ms: number): void;
}

export interface AcceptServer {
  readonly port: number;
  readonly sessions: AcceptSession[];
  /** Resolves when `count` components have completed the handshake (the last one). */
  waitForSession(count?: number, timeoutMs?: number): Promise<AcceptSession>;
  stop(): void;
}

interface State {
  header: string;
  authenticated: boolean;
  streamId: string;
  domain: string;
  parser: Parser | undefined;
  queue: Uint8Array[];
  closed: boolean;
  session: AcceptSession;
}

const encoder = new TextEncoder();

export function startAcceptServer(options: AcceptServerOptions): AcceptServer {
  const sessions: AcceptSession[] = [];
  const waiters: (() => void)[] = [];
  const decoding = options.decode ?? "utf8";

  const flush = (socket: Socket<State>) => {
    const q = socket.data.queue;
    while (q.length > 0) {
      const head = q[0]!;
      const written = socket.write(head);
      if (written < head.byteLength) {
        q[0] = head.subarray(Math.max(written, 0));
        return; // the rest goes on `drain`
      }
      q.shift();
    }
  };
  const send = (socket: Socket<State>, bytes: Uint8Array) => {
    if (socket.data.closed) return;
    socket.data.queue.push(bytes);
    if (socket.data.queue.length === 1) flush(socket);
  };

  const deliver = (socket: Socket<State>, chunk: string) => {
    const state = socket.data;
    options.onData?.(chunk, state.session);
    state.parser?.write(chunk);
    // RFC 6120 §4.4: answer the component's stream close with ours.
    if (chunk.includes("</stream:stream>")) {
      send(socket, encoder.encode("</stream:stream>"));
      socket.end();
    }
  };

  const listener = Bun.listen<State>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = {
          header: "",
          authenticated: false,
          streamId: randomUUID(),
          domain: "",
          parser: undefined,
          queue: [],
          closed: false,
          session: {
            get domain() {
              return socket.data.domain;
            },
            write: (xml) => send(socket, encoder.encode(xml)),
            writeBytes: (bytes) => send(socket, bytes),
            destroy: () => {
              socket.data.closed = true;
              socket.end();
            },
            pause: () => socket.pause(),
            resume: () => socket.resume(),
            pauseReading: (ms) => {
              socket.pause();
              setTimeout(() => socket.resume(), ms);
            },
          },
        };
      },
      drain(socket) {
        flush(socket);
      },
      close(socket) {
        socket.data.closed = true;
      },
      data(socket, bytes) {
        const state = socket.data;
        const chunk = bytes.toString(decoding);
        if (state.authenticated) {
          deliver(socket, chunk);
          return;
        }
        state.header += chunk;
        if (!state.domain) {
          const header = /<stream:stream[^>]*>/.exec(state.header);
          if (!header) return;
          state.domain = /\sto=['"]([^'"]+)['"]/.exec(header[0])?.[1] ?? "";
          state.header = state.header.slice(header.index + header[0].length);
          state.session.write(
            `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' from='${state.domain}' id='${state.streamId}'>`,
          );
        }
        const handshake = /<handshake>([^<]*)<\/handshake>/.exec(state.header);
        if (!handshake) return;
        const expected = createHash("sha1").update(state.streamId + options.secret).digest("hex");
        if (options.refuse || handshake[1] !== expected) {
          state.session.write(
            "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
          );
          socket.end();
          return;
        }
        state.session.write("<handshake/>");
        state.authenticated = true;
        const rest = state.header.slice(handshake.index + handshake[0].length);
        state.header = "";
        if (options.onStanza) {
          const parser = new Parser();
          // The parser needs a root: feed it a synthetic stream header.
          parser.write("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>");
          parser.on("element", (el) => options.onStanza!(el, state.session));
          state.parser = parser;
        }
        sessions.push(state.session);
        for (const w of waiters.splice(0)) w();
        if (rest) deliver(socket, rest);
      },
    },
  });

  return {
    port: listener.port,
    sessions,
    waitForSession(count = 1, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`fewer than ${count} component sessions in time`)), timeoutMs);
        const check = () => {
          if (sessions.length >= count) {
            clearTimeout(timer);
            resolve(sessions[count - 1]!);
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    stop() {
      listener.stop(true);
    },
  };
}
