import { createHash } from "node:crypto";
import type { Socket } from "bun";

/**
 * A zero-logic XEP-0114 component over raw TCP, the baseline of the
 * component-alone benchmark: it connects and handshakes like any component,
 * then answers every presence it gets with the self-presence a MUC would send
 * (status 110, `type='unavailable'` kept) — no XML parser, no rooms, no gate,
 * no authorization. Whatever mucgate achieves is measured against what this
 * achieves through the same bench server, sockets and counting, in the same run.
 */
export interface EchoComponent {
  stop(): void;
}

interface State {
  buffer: string;
  handshakeSent: boolean;
  online: boolean;
  queue: Uint8Array[];
}

const encoder = new TextEncoder();

export function startEchoComponent(options: { port: number; domain: string; secret: string }): Promise<EchoComponent> {
  const { domain, secret } = options;
  return new Promise((resolve, reject) => {
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

    void Bun.connect<State>({
      hostname: "127.0.0.1",
      port: options.port,
      data: { buffer: "", handshakeSent: false, online: false, queue: [] },
      socket: {
        open(socket) {
          send(
            socket,
            `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}'>`,
          );
        },
        drain(socket) {
          flush(socket);
        },
        data(socket, bytes) {
          const state = socket.data;
          state.buffer += bytes.toString("latin1");
          if (!state.online) {
            if (state.buffer.includes("<stream:error")) {
              reject(new Error("echo component: handshake refused"));
              return;
            }
            const id = /<stream:stream[^>]*\sid=['"]([^'"]+)['"]/.exec(state.buffer)?.[1];
            if (id === undefined) return;
            if (!state.handshakeSent) {
              state.handshakeSent = true;
              send(socket, `<handshake>${createHash("sha1").update(id + secret).digest("hex")}</handshake>`);
            }
            if (!state.buffer.includes("<handshake/>")) return;
            state.online = true;
            state.buffer = state.buffer.slice(state.buffer.indexOf("<handshake/>") + 12);
            resolve({ stop: () => socket.end() });
          }
          const replies = answer(state);
          if (replies) send(socket, replies);
        },
        error(_socket, err) {
          reject(err);
        },
      },
    }).catch(reject);
  });
}

/** Self-presences for every complete presence in the buffer; the incomplete tail stays. */
function answer(state: State): string {
  const buf = state.buffer;
  let out = "";
  let pos = 0;
  for (;;) {
    const start = buf.indexOf("<presence", pos);
    if (start === -1) {
      // Keep a tag cut by the chunk boundary (`<pres`) for the next chunk.
      pos = Math.max(pos, buf.lastIndexOf("<"));
      break;
    }
    const tagEnd = buf.indexOf(">", start);
    if (tagEnd === -1) break;
    let end: number;
    if (buf.charCodeAt(tagEnd - 1) === 47 /* / */) {
      end = tagEnd + 1;
    } else {
      const close = buf.indexOf("</presence>", tagEnd);
      if (close === -1) break;
      end = close + 11;
    }
    const tag = buf.slice(start, tagEnd);
    const from = attr(tag, "from");
    const to = attr(tag, "to");
    const unavailable = tag.includes("type='unavailable'") || tag.includes('type="unavailable"');
    out += `<presence from="${to}"${unavailable ? ' type="unavailable"' : ""} to="${from}"><x xmlns="http://jabber.org/protocol/muc#user"><item affiliation="none" role="${unavailable ? "none" : "participant"}" jid="${from}"/><status code="110"/></x></presence>`;
    pos = end;
  }
  state.buffer = buf.slice(pos);
  return out;
}

function attr(tag: string, name: string): string {
  const at = tag.indexOf(` ${name}=`);
  if (at === -1) return "";
  const quote = tag[at + name.length + 2]!;
  const start = at + name.length + 3;
  return tag.slice(start, tag.indexOf(quote, start));
}
