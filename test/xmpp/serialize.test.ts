import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { xml, type Element } from "@xmpp/xml";
import parse from "ltx/lib/parse.js";
import { addressed } from "../../src/muc/stanza.ts";
import { ByteSink } from "../../src/xmpp/byte-sink.ts";
import { serialize, serializeInto } from "../../src/xmpp/serialize.ts";

/** Structural equality of two parsed trees (attribute order and quoting do not matter). */
function same(a: Element, b: Element): boolean {
  if (a.name !== b.name) return false;
  const ka = Object.keys(a.attrs).sort();
  const kb = Object.keys(b.attrs).sort();
  if (ka.join("\n") !== kb.join("\n") || ka.some((k) => a.attrs[k] !== b.attrs[k])) return false;
  if (a.children.length !== b.children.length) return false;
  return a.children.every((c, i) => {
    const d = b.children[i]!;
    return typeof c === "string" ? c === d : typeof d !== "string" && same(c, d);
  });
}

// Graphemes, with XML's special characters often enough to meet `]]>` and both quotes in one value.
const text = fc.string({ unit: fc.oneof(fc.constantFrom("&", "<", ">", "]", "'", '"'), fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 })), maxLength: 20 });
const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const tree: fc.Arbitrary<Element> = fc.letrec((tie) => ({
  node: fc
    .tuple(name, fc.dictionary(name, text, { maxKeys: 3 }), fc.array(fc.oneof(text.filter((t) => t.length > 0), tie("node")), { maxLength: 3 }))
    .map(([n, attrs, children]) => {
      const el = xml(n, attrs);
      // Adjacent text nodes merge when parsed back; keep at most one between elements.
      for (const c of children) {
        const last = el.children.at(-1);
        if (typeof c === "string" && typeof last === "string") continue;
        el.children.push(c as Element | string);
      }
      return el;
    }),
})).node as fc.Arbitrary<Element>;


/** A small seeded generator, so that a failing spelling can be replayed from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** Any well-formed spelling of a character: a numeric reference, a named entity, or itself where XML allows it. */
function spellChar(c: string, random: () => number, mustEscape: boolean): string {
  const named: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
  const code = c.codePointAt(0)!;
  const legalRef = code === 9 || code === 10 || code === 13 || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || code >= 0x10000;
  const r = random();
  if (!mustEscape && r < 0.5) return c;
  if (named[c] && r < 0.8) return named[c]!;
  if (legalRef) return random() < 0.5 ? `&#${code};` : `&#x${code.toString(16)};`;
  return named[c] ?? c;
}

function spellText(value: string, random: () => number, quote?: string): string {
  let out = "";
  for (const c of value) {
    const mustEscape = c === "&" || c === "<" || c === quote || (quote === undefined && c === ">" && out.endsWith("]]"));
    out += spellChar(c, random, mustEscape);
  }
  return out;
}

/** `el` written the way some other serialiser might have: random quotes, random escapes, `<a></a>` or `<a/>`. */
function spell(el: Element, random: () => number): string {
  let xml = "<" + el.name;
  for (const [k, v] of Object.entries(el.attrs)) {
    const quote = random() < 0.5 ? "'" : '"';
    xml += " " + k + "=" + quote + spellText(String(v), random, quote) + quote;
  }
  if (el.children.length === 0 && random() < 0.5) return xml + "/>";
  xml += ">";
  for (const c of el.children) xml += typeof c === "string" ? spellText(c, random) : spell(c, random);
  return xml + "</" + el.name + ">";
}

describe("serialize", () => {
  test("parses back to the same tree as ltx's own serialisation, whatever the text and attributes", () => {
    fc.assert(
      fc.property(tree, (el) => {
        expect(same(parse(serialize(el)), parse(el.toString()))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test("escapes only what XML requires: & and < everywhere, > only closing ]]>, a quote only when the value holds both", () => {
    const el = xml("message", { to: `a"b<&>`, id: "it's", x: `'"'` }, xml("body", {}, `1 < 2 & 3 > 2 "q" 'a' ]]> ]>`));
    expect(serialize(el)).toBe(
      `<message to='a"b&lt;&amp;>' id="it's" x="'&#34;'"><body>1 &lt; 2 &amp; 3 > 2 "q" 'a' ]]&gt; ]></body></message>`,
    );
  });

  test("a ]]> split over two text nodes is still escaped", () => {
    const el = xml("body", {}, "a]", "]", ">b");
    expect(serialize(el)).toBe("<body>a]]&gt;b</body>");
    expect(parse(serialize(el)).getText()).toBe("a]]>b");
  });

  test("100,000 quotes in an id are written as they came, not six times longer", () => {
    const id = '"'.repeat(100_000);
    const wire = `<message id='${id}' to='r@rooms.test'><body>x</body></message>`;
    expect(serialize(parse(wire))).toBe(wire);
  });

  test("parses back to what any well-formed spelling of a stanza said, and is never longer than that spelling", () => {
    fc.assert(
      fc.property(tree, fc.integer(), (el, seed) => {
        const input = spell(el, prng(seed));
        const parsed = parse(input);
        const output = serialize(parsed);
        expect(same(parse(output), parsed)).toBe(true);
        expect(same(parsed, el)).toBe(true);
        expect(Buffer.byteLength(output)).toBeLessThanOrEqual(Buffer.byteLength(input));
      }),
      { numRuns: 500 },
    );
  });

  test("copies addressed from one template differ only in their start tag", () => {
    const template = xml("message", { from: "room@rooms.test/Alice", type: "groupchat" }, xml("body", {}, "hi"));
    const a = serialize(addressed(template, "bob@b.test/pc"));
    const b = serialize(addressed(template, "carol@c.test/x"));
    expect(a).toBe(`<message from='room@rooms.test/Alice' type='groupchat' to='bob@b.test/pc'><body>hi</body></message>`);
    expect(b).toBe(`<message from='room@rooms.test/Alice' type='groupchat' to='carol@c.test/x'><body>hi</body></message>`);
  });
});

describe("serializeInto", () => {
  test("writes the same bytes as serialize, for addressed copies and plain elements alike", () => {
    const template = xml("presence", { from: "room@rooms.test/Ünïcode 𝄞" }, xml("status", {}, "a < b & c"), xml("x", { xmlns: "urn:x" }));
    const stanzas = [addressed(template, "bob@b.test/pc"), addressed(template, "o'neil@c.test/x"), xml("message", { to: "a@b" }, xml("body", {}, "hé"))];
    const sink = new ByteSink();
    for (const s of stanzas) serializeInto(s, sink);
    expect(new TextDecoder().decode(sink.take())).toBe(stanzas.map(serialize).join(""));
  });

  test("grows past its block size, and never writes over bytes already taken", () => {
    const sink = new ByteSink(16);
    const big = xml("message", { to: "x@y" }, xml("body", {}, "z".repeat(1000)));
    serializeInto(big, sink);
    const first = sink.take();
    expect(new TextDecoder().decode(first)).toBe(serialize(big));
    expect(sink.length).toBe(0);
    serializeInto(xml("presence", { to: "a@b" }), sink);
    expect(new TextDecoder().decode(sink.take())).toBe("<presence to='a@b'/>");
    expect(new TextDecoder().decode(first)).toBe(serialize(big)); // taken bytes are not reused
  });
});
