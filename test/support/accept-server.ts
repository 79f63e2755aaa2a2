import { createHash, randomUUID } from "node:crypto";
import type { Socket, TCPSocketListener } from "bun";
import { Parser, type Element } from "@xmpp/xml";

/**
 * A minimal XMPP server side of XEP-0114 (jabber:component:accept), for tests
 * and benchmarks that need a component to connect "as in production" without
 * a real XMPP server: it answers the stream header, checks the handshake
 * (SHA-1 of stream id + secret, §3), and then exchanges stanzas.
 */
export interface AcceptServerOptions {
  secret: string;
  /** Parsed stanzas from the component (skip parsing when only `onData` is wanted). */
  onStanza?: (stanza: Element, session: AcceptSession) => void;
  /** Raw bytes from the component after the handshake (cheap counting in benchmarks). */
  onData?: (chunk: string, session: AcceptSession) => void;
  /** Refuse every handshake, as a server with another secret would. */
  refuse?: boolean;
}

export interface AcceptSession {
  readonly domain: string;
  /** Write raw XML to the component. */
  write(xml: string): void;
  /** Write raw bytes (e.g. half a UTF-8 character). */
  writeBytes(bytes: Uint8Array): void;
  /** Drop the TCP connection without closing the stream. */
  destroy(): void;
}

interface State {
  buffer: string;
  authenticated: boolean;
  streamId: string;
  domain: string;
  parser: Parser | undefined;
  session: AcceptSession;
  pending: string[];
}

export interface AcceptServer {
  readonly port: number;
  readonly sessions: AcceptSession[];
  /** Resolves when `count` components have completed the handshake (the last one). */
  waitForSession(count?: number, timeoutMs?: number): Promise<AcceptSession>;
  stop(): void;
}

export function startAcceptServer(options: AcceptServerOptions): AcceptServer {
  const sessions: AcceptSession[] = [];
  const waiters: (() => void)[] = [];
  const listener: TCPSocketListener<State> = Bun.listen<State>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        let closed = false;
        socket.data = {
          buffer: "",
          authenticated: false,
          streamId: randomUUID(),
          domain: "",
          parser: undefined,
          pending: [],
          session: {
            get domain() {
              return socket.data.domain;
            },
            write: (xml) => {
              if (!closed) socket.write(xml);
            },
            writeBytes: (bytes) => {
              if (!closed) socket.write(bytes);
            },
            destroy: () => {
              closed = true;
              socket.end();
            },
          },
        };
      },
      data(socket, bytes) {
        const state = socket.data;
        const chunk = bytes.toString();
        if (state.authenticated) {
          deliver(state, chunk);
          return;
        }
        state.buffer += chunk;
        if (!state.domain) {
          const header = /<stream:stream[^>]*>/.exec(state.buffer);
          if (!header) return;
          state.domain = /\sto=['"]([^'"]+)['"]/.exec(header[0])?.[1] ?? "";
          state.buffer = state.buffer.slice(header.index + header[0].length);
          socket.write(
            `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' from='${state.domain}' id='${state.streamId}'>`,
          );
        }
        const handshake = /<handshake>([^<]*)<\/handshake>/.exec(state.buffer);
        if (!handshake) return;
        const expected = createHash("sha1").update(state.streamId + options.secret).digest("hex");
        if (options.refuse || handshake[1] !== expected) {
          socket.write(
            "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
          );
          socket.end();
          return;
        }
        socket.write("<handshake/>");
        state.authenticated = true;
        const rest = state.buffer.slice(handshake.index + handshake[0].length);
        state.buffer = "";
        if (options.onStanza) {
          const parser = new Parser();
          // The parser needs a root: feed it a synthetic stream header.
          parser.write("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'>");
          parser.on("element", (el) => options.onStanza!(el, state.session));
          state.parser = parser;
        }
        sessions.push(state.session);
        for (const w of waiters.splice(0)) w();
        if (rest) deliver(state, rest);
      },
    },
  });

  function deliver(state: State, chunk: string) {
    options.onData?.(chunk, state.session);
    state.parser?.write(chunk);
    // RFC 6120 §4.4: answer the component's stream close with ours.
    if (chunk.includes("</stream:stream>")) {
      state.session.write("</stream:stream>");
      state.session.destroy();
    }
  }

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

/** Socket type re-export keeps Bun's generic in one place. */
export type { Socket };
