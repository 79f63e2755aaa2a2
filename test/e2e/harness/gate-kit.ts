import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { xml, type Element } from "@xmpp/xml";
import type { TestClient } from "./client.ts";
import { joinPresence, NS_MUC_USER, stanzaError, statusCodes } from "./stanzas.ts";

/**
 * Small helpers for the join-gate and HTTP API end-to-end tests
 * (gate-*.test.ts, http-*.test.ts): Prometheus text, a barrier through
 * mucgate, the usual join outcomes, and a self-signed certificate.
 */

/** Prometheus text exposition → `name{label="v",…}` (labels sorted) → value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => `${k}="${v}"`)
      .sort();
    out.set(labels.length ? `${m[1]}{${labels.join(",")}}` : m[1]!, Number(m[3]));
  }
  return out;
}

/** A series' key as `parseMetrics` writes it. */
export function series(name: string, labels: Record<string, string> = {}): string {
  const parts = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort();
  return parts.length ? `${name}{${parts.join(",")}}` : name;
}

/** `GET /metrics`, parsed; also returns the raw text. */
export async function scrape(httpUrl: string): Promise<{ text: string; get(name: string, labels?: Record<string, string>): number; has(name: string, labels?: Record<string, string>): boolean }> {
  const res = await fetch(`${httpUrl}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${await res.text()}`);
  const text = await res.text();
  const values = parseMetrics(text);
  return {
    text,
    get(name, labels) {
      const key = series(name, labels);
      const v = values.get(key);
      if (v === undefined) throw new Error(`no series ${key} in /metrics:\n${text}`);
      return v;
    },
    has(name, labels) {
      return values.has(series(name, labels));
    },
  };
}

/**
 * A ping to the MUC service's own domain from `client`. Prosody relays one
 * session's stanzas to the component in order and mucgate reads its stream in
 * order, so once this is answered mucgate has taken in everything that session
 * sent before (a join held by the gate included: pings to the service are not
 * held).
 */
export async function pingService(client: TestClient, domain: string): Promise<void> {
  const answer = await client.iq(xml("iq", { type: "get", to: domain }, xml("ping", { xmlns: "urn:xmpp:ping" })));
  if (answer.attrs.type !== "result") throw new Error(`ping to ${domain} failed: ${answer.toString()}`);
}

/** Whether `stanza` is the self-presence (status 110) of an available occupant. */
export function isSelfPresence(stanza: Element, occupantJid: string): boolean {
  return (
    stanza.name === "presence" &&
    stanza.attrs.from === occupantJid &&
    stanza.attrs.type === undefined &&
    statusCodes(stanza).includes(110)
  );
}

/** Whether `stanza` is the subject message that ends a join (XEP-0045 §7.2.16). */
export function isSubject(stanza: Element, roomJid: string): boolean {
  return stanza.name === "message" && stanza.attrs.from === roomJid && stanza.getChild("subject") !== undefined && stanza.getChild("body") === undefined;
}

/** Waits for a successful join's self-presence, then its subject (so the join is complete). */
export async function expectJoined(client: TestClient, occupantJid: string, timeout = 3000): Promise<Element> {
  const self = await client.waitFor((s) => isSelfPresence(s, occupantJid), { timeout });
  await client.waitFor((s) => isSubject(s, occupantJid.split("/")[0]!), { timeout });
  return self;
}

/** Joins `occupantJid` and waits until the join is complete (self-presence, then subject). */
export async function joinRoom(client: TestClient, occupantJid: string): Promise<void> {
  await client.send(joinPresence(occupantJid));
  await expectJoined(client, occupantJid);
}

/** Waits for the presence error a join gets, and returns its `{ type, condition, text }`. */
export async function expectJoinError(
  client: TestClient,
  occupantJid: string,
  timeout = 3000,
): Promise<{ stanza: Element; type: string; condition: string; text: string | undefined }> {
  const stanza = await client.waitFor({ name: "presence", type: "error", from: occupantJid }, { timeout });
  const error = stanzaError(stanza)!;
  return { stanza, ...error };
}

/** The `<item/>` of a muc#user presence. */
export function mucItem(stanza: Element): Record<string, string> | undefined {
  return stanza.getChild("x", NS_MUC_USER)?.getChild("item")?.attrs as Record<string, string> | undefined;
}

/** A throwaway self-signed certificate for 127.0.0.1 / localhost (openssl), as PEM strings. */
export async function selfSignedCert(): Promise<{ cert: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), "mucgate-e2e-cert-"));
  try {
    const p = Bun.spawn(
      [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`openssl req failed (${code}): ${err}`);
    return { cert: readFileSync(join(dir, "cert.pem"), "utf8"), key: readFileSync(join(dir, "key.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
