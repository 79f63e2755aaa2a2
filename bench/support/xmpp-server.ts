import { createHash, randomUUID } from "node:crypto";
import type { Socket } from "bun";

/**
 * The XMPP server's side of XEP-0114 (jabber:component:accept) for
 * benchmarks: answers the stream header, checks the handshake (SHA-1 of
 * stream id + secret, §3), then hands the component's bytes to `onData` raw —
 * counting answers in them is the bench's job, parsing them would be the
 * bench's cost.
 *
 * Unlike test/support/accept-server.ts it queues what the socket does not
 * take at once: Bun's `socket.write` writes what fits in the kernel buffer
 * and returns the count, dropping the rest unless the caller keeps it for
 * `drain`. A burst of 10,000 joins (~1 MB) does not fit; the test helper
 * would silently lose most of it.
 */
export interface ComponentLink {
  /** The domain the component announced in its stream header. */
  readonly domain: string;
  /** Queue raw XML for the component; written in order, as fast as it reads. */
  write(xml: string): void;
}

export interface XmppServer {
  readonly port: number;
  /** Resolves when a component has completed the handshake. */
  readonly link: Promise<ComponentLink>;
  stop(): void;
}

interface State {
  handshaken: boolean;
  header: string;
  streamId: string;
  domain: string;
  queue: Uint8Array[];
  link: ComponentLink | undefined;
}

const encoder = new TextEncoder();

export function startXmppServer(options: { secret: string; onData: (chunk: string) => void }): XmppServer {
  let resolveLink!: (link: ComponentLink) => void;
  const link = new Promise<ComponentLink>((resolve) => (resolveLink = resolve));

  const flush = (socket: Socket<State>) => {
    const q = socket.data.queue;
    while (q.length > 0) {
      const head = q[0]!;
      const n = socket.write(head);
      if (n < head.byteLength) {
        q[0] = head.subarray(Math.max(n, 0));
        return;
      }
      q.shift();
    }
  };
  const send = (socket: Socket<State>, xml: string) => {
    socket.data.queue.push(encoder.encode(xml));
    if (socket.data.queue.length === 1) flush(socket);
  };

  const listener = Bun.listen<State>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { handshaken: false, header: "", streamId: randomUUID(), domain: "", queue: [], link: undefined };
      },
      drain(socket) {
        flush(socket);
      },
      data(socket, bytes) {
        const state = socket.data;
        const chunk = bytes.toString("latin1");
        if (state.handshaken) {
          options.onData(chunk);
          // The component closes its stream on stop: close ours, so it need not wait for a timeout.
          if (chunk.endsWith("</stream:stream>")) {
            send(socket, "</stream:stream>");
            socket.end();
          }
          return;
        }
        state.header += chunk;
        if (!state.domain) {
          const header = /<stream:stream[^>]*>/.exec(state.header);
          if (!header) return;
          state.domain = /\sto=['"]([^'"]+)['"]/.exec(header[0])?.[1] ?? "";
          state.header = state.header.slice(header.index + header[0].length);
          send(
            socket,
            `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' from='${state.domain}' id='${state.streamId}'>`,
          );
        }
        const handshake = /<handshake>([^<]*)<\/handshake>/.exec(state.header);
        if (!handshake) return;
        const expected = createHash("sha1").update(state.streamId + options.secret).digest("hex");
        if (handshake[1] !== expected) {
          send(socket, "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>");
          socket.end();
          return;
        }
        send(socket, "<handshake/>");
        state.handshaken = true;
        const rest = state.header.slice(handshake.index + handshake[0].length);
        state.header = "";
        state.link = { domain: state.domain, write: (xml) => send(socket, xml) };
        resolveLink(state.link);
        if (rest) options.onData(rest);
      },
    },
  });

  return {
    port: listener.port,
    link,
    stop() {
      listener.stop(true);
    },
  };
}
