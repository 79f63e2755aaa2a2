// Type declarations for the parts of xmpp.js mucgate uses (the packages ship none).

declare module "@xmpp/xml" {
  export type Node = Element | string;
  export class Element {
    constructor(name: string, attrs?: Record<string, string | undefined>);
    name: string;
    attrs: Record<string, string>;
    children: Node[];
    parent: Element | null;
    is(name: string, xmlns?: string): boolean;
    getName(): string;
    getNS(): string | undefined;
    getAttr(name: string, xmlns?: string): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getText(): string;
    getChildText(name: string, xmlns?: string): string | null;
    c(name: string, attrs?: Record<string, string | undefined>): Element;
    cnode<T extends Node>(child: T): T;
    append(...nodes: Node[]): void;
    t(text: string): this;
    up(): Element;
    root(): Element;
    remove(el: Element | string, xmlns?: string): this;
    text(): string;
    toString(): string;
    write(writer: (chunk: string) => void): void;
  }
  export function xml(
    name: string,
    attrs?: Record<string, string | undefined> | null,
    ...children: (Node | Node[] | null | undefined)[]
  ): Element;
  export function createElement(
    name: string,
    attrs?: Record<string, string | undefined> | null,
    ...children: (Node | Node[] | null | undefined)[]
  ): Element;
  export function escapeXML(s: string): string;
  export function escapeXMLText(s: string): string;
  export function unescapeXML(s: string): string;
  export class Parser {
    constructor();
    write(data: string): void;
    end(data?: string): void;
    on(event: "element", fn: (el: Element) => void): this;
    on(event: "start", fn: (el: Element) => void): this;
    on(event: "end", fn: (el: Element) => void): this;
    on(event: "error", fn: (err: Error) => void): this;
  }
  export class XMLError extends Error {}
  export default xml;
}

declare module "ltx/lib/parse.js" {
  import type { Element } from "@xmpp/xml";
  export default function parse(xml: string): Element;
}

declare module "@xmpp/component" {
  import type { Element } from "@xmpp/xml";
  import type { EventEmitter } from "node:events";
  export { xml } from "@xmpp/xml";
  export interface ComponentOptions {
    service: string;
    domain: string;
    password: string;
  }
  export interface Component extends EventEmitter {
    status: string;
    jid: { toString(): string } | null;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    disconnect(): Promise<unknown>;
    send(el: Element): Promise<void>;
    write(s: string): Promise<void>;
    socket: { write(s: string, cb?: (err?: Error) => void): boolean } | null;
    reconnect: EventEmitter & { delay: number; stop(): void; start(): void };
    timeout: number;
  }
  export function component(options: ComponentOptions): Component;
}

declare module "@xmpp/client" {
  import type { Element } from "@xmpp/xml";
  import type { EventEmitter } from "node:events";
  export { xml } from "@xmpp/xml";
  export interface ClientOptions {
    service: string;
    domain?: string;
    username?: string;
    password?: string;
    resource?: string;
    credentials?: unknown;
  }
  export interface Client extends EventEmitter {
    status: string;
    jid: { toString(): string; bare(): { toString(): string } } | null;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(el: Element): Promise<void>;
    iqCaller: { request(el: Element, timeout?: number): Promise<Element> };
    reconnect: EventEmitter & { stop(): void };
  }
  export function client(options: ClientOptions): Client;
}

declare module "@xmpp/component-core" {
  import type { Element } from "@xmpp/xml";
  import type { EventEmitter } from "node:events";
  export class Component extends EventEmitter {
    constructor(options: { service: string; domain: string });
    /** The socket class @xmpp/connection instantiates (node's net.Socket by default). */
    Socket: new () => unknown;
    status: string;
    timeout: number;
    socket: { write(s: string | Uint8Array, cb?: (err?: Error) => void): boolean; destroy?(): void; end?(): void } | null;
    /** The stream's parser while it is open; emits `end` when the server closes its stream. */
    parser: EventEmitter | null;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    disconnect(): Promise<unknown>;
    authenticate(streamId: string, password: string): Promise<void>;
    send(el: Element): Promise<void>;
    sendMany(elements: Element[]): Promise<void>;
    write(s: string): Promise<void>;
  }
}
