#!/usr/bin/env bun
import { createHash } from "node:crypto";
import type { Socket } from "bun";

/**
 * A zero-logic XEP-0114 component: the routing-limit baseline for benchmarks
 * (how fast the XMPP server alone can carry presence to a component and back)
 * and a stand-in component for harness tests.
 *
 * It keeps no state and runs no XML parser: a raw TCP socket, the stream
 * header, the handshake (hex SHA-1 of stream id + secret), and a scanner that
 * cuts the stream into top-level stanzas and reads their start tag only.
 * - presence to `room@domain/nick` → the sender gets a MUC self-presence
 *   (`<item affiliation='none' role='participant'/>`, status 110) — followed,
 *   with `subject: true` (`--subject`), by an empty room subject message, so
 *   it sends as many stanzas per join as a MUC does into an empty room — or,
 *   for `type='unavailable'`, the unavailable self-presence (role none, 110);
 * - groupchat message to `room@domain` → echoed to the sender from
 *   `room@domain/<sender's localpart>`, same id and payload;
 * - iq get/set → `service-unavailable`, so nobody waits for an answer;
 * - everything else is counted and dropped.
 *
 * The scanner relies on the server escaping `<` and `>` in attribute values
 * and text, which XMPP servers (Prosody, ejabberd) do.
 *
 * Script: `bun bench/echo-component.ts xmpp://127.0.0.1:5347 rooms.localhost SECRET [--subject]`
 */

export interface EchoComponentOptions {
  /** `xmpp://host:port` of the server's component listener. */
  service: string;
  domain: string;
  secret: string;
  /** Milliseconds for connect + handshake. Default 5000. */
  timeout?: number;
  /** Follow each join's self-presence with an empty `<subject/>` message from the room. Default false. */
  subject?: boolean;
}

export interface EchoStats {
  /** Top-level stanzas received after the handshake. */
  stanzas: number;
  presences: number;
  messages: number;
  iqs: number;
  /** Stanzas sent back. */
  replies: number;
}

export interface EchoComponent {
  readonly domain: string;
  readonly stats: EchoStats;
  /** Resolves when the connection is gone (stopped, or closed by the server). */
  readonly closed: Promise<void>;
  /** Close the stream and the socket. Idempotent. */
  stop(): Promise<void>;
}

const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const ATTR = /\s([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

function parseService(service: string): { hostname: string; port: number } {
  const m = /^xmpp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(service);
  if (!m) throw new Error(`echo component: service must be xmpp://host:port, got ${service}`);
  return { hostname: m[1]!.replace(/^\[|\]$/g, ""), port: Number(m[2]) };
}

function unescape(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    if (e[0] === "#") return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[e]!;
  });
}

function escapeAttr(s: string): string {
  return /[<>&'"]/.test(s)
    ? s.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!)
    : s;
}

function attrsOf(startTag: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  ATTR.lastIndex = 0;
  for (let m = ATTR.exec(startTag); m; m = ATTR.exec(startTag)) attrs[m[1]!] = unescape(m[2] ?? m[3] ?? "");
  return attrs;
}

/** Index of the `>` that ends the tag starting at `lt`, skipping quoted values; -1 if incomplete. */
function tagEnd(buf: string, lt: number): number {
  let quote = "";
  for (let i = lt + 1; i < buf.length; i++) {
    const c = buf[i];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ">") return i;
  }
  return -1;
}

/**
 * Cuts a character stream into top-level XML elements below the stream root.
 * Resumable: keeps the unfinished tail and the nesting depth between chunks.
 * Offsets (`pos`, `start`, `startTagEnd`) are relative to `buf`.
 */
export class StanzaScanner {
  private buf = "";
  private pos = 0;
  private depth = 0;
  /** Start of the current top-level element, -1 between elements. */
  private start = -1;
  /** The `>` ending the current top-level element's start tag. */
  private startTagEnd = -1;

  constructor(
    private readonly onHeader: (tag: string) => void,
    /** The element's text and the offset of its start tag's `>` within it. */
    private readonly onElement: (xml: string, startTagEnd: number) => void,
    private readonly onStreamEnd: () => void,
  ) {}

  push(chunk: string): void {
    const buf = (this.buf += chunk);
    for (;;) {
      const lt = buf.indexOf("<", this.pos);
      if (lt < 0 || lt + 1 >= buf.length) {
        this.pos = lt < 0 ? buf.length : lt;
        break;
      }
      const next = buf[lt + 1];
      if (next === "?" || next === "!") {
        // XML declaration, comment or CDATA: skip to its end.
        const close = next === "?" ? "?>" : buf.startsWith("<![CDATA[", lt) ? "]]>" : buf.startsWith("<!--", lt) ? "-->" : ">";
        const end = buf.indexOf(close, lt + 2);
        if (end < 0) {
          this.pos = lt;
          break;
        }
        this.pos = end + close.length;
        continue;
      }
      const gt = tagEnd(buf, lt);
      if (gt < 0) {
        this.pos = lt;
        break;
      }
      this.pos = gt + 1;
      if (next === "/") {
        this.depth--;
        if (this.depth === 1) {
          this.onElement(buf.slice(this.start, gt + 1), this.startTagEnd - this.start);
          this.start = -1;
        } else if (this.depth === 0) {
          this.onStreamEnd();
        }
        continue;
      }
      const selfClosing = buf[gt - 1] === "/";
      if (this.depth === 0) {
        this.depth = 1;
        this.onHeader(buf.slice(lt, gt + 1));
      } else if (this.depth === 1) {
        if (selfClosing) {
          this.onElement(buf.slice(lt, gt + 1), gt - lt);
        } else {
          this.start = lt;
          this.startTagEnd = gt;
          this.depth = 2;
        }
      } else if (!selfClosing) {
        this.depth++;
      }
    }
    // Keep only what is still needed: the unfinished element or tag.
    const keep = this.start >= 0 ? this.start : this.pos;
    if (keep > 0) {
      this.buf = buf.slice(keep);
      this.pos -= keep;
      if (this.start >= 0) {
        this.start -= keep;
        this.startTagEnd -= keep;
      }
    }
  }
}

export function startEchoComponent(options: EchoComponentOptions): Promise<EchoComponent> {
  const { hostname, port } = parseService(options.service);
  const stats: EchoStats = { stanzas: 0, presences: 0, messages: 0, iqs: 0, replies: 0 };
  const domain = options.domain;
  const timeoutMs = options.timeout ?? 5000;

  return new Promise((resolve, reject) => {
    let settled = false;
    let ready = false;
    let pending: Uint8Array | undefined; // bytes the socket did not take yet (backpressure)
    let batch = ""; // replies produced while handling one chunk
    let socketRef: Socket<undefined> | undefined;
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => (resolveClosed = r));
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();

    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socketRef?.end();
      reject(new Error(`echo component ${domain} at ${options.service}: ${message}`));
    };
    const timer = setTimeout(() => fail(`no handshake within ${timeoutMs} ms`), timeoutMs);

    const flush = (socket: Socket<undefined>) => {
      if (!pending) return;
      const bytes = pending;
      const written = socket.write(bytes);
      // write() takes what the kernel accepts; the rest waits for drain.
      pending = written < bytes.length ? bytes.subarray(Math.max(0, written)) : undefined;
    };
    const write = (socket: Socket<undefined>, data: string) => {
      const bytes = encoder.encode(data);
      pending = pending ? Buffer.concat([pending, bytes]) : bytes;
      flush(socket);
    };

    const handle = (xmlText: string, startTagEnd: number) => {
      const startTag = xmlText.slice(0, startTagEnd + 1);
      const nameEnd = startTag.search(/[\s/>]/);
      const name = startTag.slice(1, nameEnd);
      if (!ready) {
        if (name === "handshake") {
          ready = true;
          settled = true;
          clearTimeout(timer);
          resolve(component);
        } else if (name === "stream:error") {
          fail(`stream error: ${xmlText}`);
        }
        return;
      }
      stats.stanzas++;
      const a = attrsOf(startTag);
      const from = a.from;
      const to = a.to;
      if (!from || !to) return;
      if (name === "presence") {
        stats.presences++;
        const slash = to.indexOf("/");
        if (slash < 0 || to.indexOf("@") < 0 || to.indexOf("@") > slash) return;
        const type = a.type;
        if (type === undefined) {
          batch += `<presence from='${escapeAttr(to)}' to='${escapeAttr(from)}'><x xmlns='${NS_MUC_USER}'><item affiliation='none' role='participant'/><status code='110'/></x></presence>`;
          if (options.subject) {
            batch += `<message type='groupchat' from='${escapeAttr(to.slice(0, slash))}' to='${escapeAttr(from)}'><subject/></message>`;
            stats.replies++;
          }
        } else if (type === "unavailable") {
          batch += `<presence from='${escapeAttr(to)}' to='${escapeAttr(from)}' type='unavailable'><x xmlns='${NS_MUC_USER}'><item affiliation='none' role='none'/><status code='110'/></x></presence>`;
        } else return;
        stats.replies++;
      } else if (name === "message") {
        stats.messages++;
        if (a.type !== "groupchat" || to.includes("/")) return;
        const at = from.indexOf("@");
        const nick = at > 0 ? from.slice(0, at) : from;
        const selfClosing = xmlText.endsWith("/>") && xmlText.length === startTagEnd + 1;
        const payload = selfClosing ? "" : xmlText.slice(startTagEnd + 1, xmlText.lastIndexOf("</"));
        const id = a.id === undefined ? "" : ` id='${escapeAttr(a.id)}'`;
        batch += `<message type='groupchat' from='${escapeAttr(`${to}/${nick}`)}' to='${escapeAttr(from)}'${id}>${payload}</message>`;
        stats.replies++;
      } else if (name === "iq") {
        stats.iqs++;
        if (a.type !== "get" && a.type !== "set") return;
        const id = a.id === undefined ? "" : ` id='${escapeAttr(a.id)}'`;
        batch += `<iq type='error' from='${escapeAttr(to)}' to='${escapeAttr(from)}'${id}><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`;
        stats.replies++;
      }
    };

    const scanner = new StanzaScanner(
      (header) => {
        const id = attrsOf(header).id;
        if (!id) return fail(`stream header without id: ${header}`);
        const digest = createHash("sha1").update(id + options.secret).digest("hex");
        if (socketRef) write(socketRef, `<handshake>${digest}</handshake>`);
      },
      handle,
      () => socketRef?.end(),
    );

    const component: EchoComponent = {
      domain,
      stats,
      closed,
      async stop() {
        const s = socketRef;
        if (!s) return;
        try {
          write(s, "</stream:stream>");
        } catch {}
        s.end();
        await Promise.race([closed, Bun.sleep(1000)]);
      },
    };

    Bun.connect<undefined>({
      hostname,
      port,
      socket: {
        open(socket) {
          socketRef = socket;
          socket.setNoDelay(true);
          socket.write(
            `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${escapeAttr(domain)}'>`,
          );
        },
        data(socket, bytes) {
          scanner.push(decoder.decode(bytes, { stream: true }));
          if (batch) {
            const b = batch;
            batch = "";
            write(socket, b);
          }
        },
        drain(socket) {
          flush(socket);
        },
        close() {
          socketRef = undefined;
          fail("connection closed before the handshake");
          resolveClosed();
        },
        error(_socket, err) {
          fail(`socket error: ${err.message}`);
        },
        connectError(_socket, err) {
          fail(`cannot connect: ${err.message}`);
          resolveClosed();
        },
      },
    }).catch((err: Error) => {
      fail(`cannot connect: ${err.message}`);
      resolveClosed();
    });
  });
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const [service, domain, secret] = args.filter((a) => !a.startsWith("--"));
  if (!service || !domain || !secret) {
    console.error("usage: bun bench/echo-component.ts xmpp://HOST:PORT DOMAIN SECRET [--subject]");
    process.exit(2);
  }
  const echo = await startEchoComponent({ service, domain, secret, subject: args.includes("--subject") });
  console.log(`echo component ${domain} connected to ${service}`);
  const stop = () => void echo.stop().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await echo.closed;
  console.log("connection closed", echo.stats);
}
