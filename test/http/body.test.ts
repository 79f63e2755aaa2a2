import { describe, expect, test } from "bun:test";
import { MAX_BODY_BYTES } from "../../src/http/body.ts";
import { AUTH, DOMAIN, answer, httpFixture } from "./fixture.ts";

const ROOM = `lobby@${DOMAIN}`;

function withBob() {
  const f = httpFixture();
  f.join("bob@b.test/pc", "lobby", "Bob");
  return f;
}

/** A JSON kick body padded (inside `reason`) to exactly `bytes` bytes. */
function paddedKick(bytes: number): string {
  const base = JSON.stringify({ nickname: "Bob", muc: ROOM, reason: "" });
  return JSON.stringify({ nickname: "Bob", muc: ROOM, reason: "r".repeat(bytes - base.length) });
}

/** A ReadableStream body without Content-Length, delivered in chunks. */
function chunked(text: string, chunk = 4096): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + chunk));
      offset += chunk;
    },
  });
}

describe("request bodies of /muc_kick and /muc_auth/forget", () => {
  test("a body of exactly 64 KiB is accepted", async () => {
    const f = withBob();
    const body = paddedKick(MAX_BODY_BYTES);
    expect(body.length).toBe(65536);
    expect((await f.kick(body)).status).toBe(200);
  });

  test("one byte over 64 KiB is 413 with a JSON error, and nobody is kicked", async () => {
    const f = withBob();
    const res = await answer(await f.kick(paddedKick(MAX_BODY_BYTES + 1)));
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: "Request body is larger than 65536 bytes (64 KiB)" });
    expect(f.service.room(ROOM)!.occupants.size).toBe(1);
  });

  test("a Content-Length over the limit is 413 without reading the body", async () => {
    const f = withBob();
    let pulled = 0;
    const body = new ReadableStream({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(10));
        controller.close();
      },
    });
    const res = await f.app.request("/muc_kick", {
      method: "POST",
      headers: { authorization: AUTH, "content-type": "application/json", "content-length": "1000000" },
      body,
    });
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThanOrEqual(1); // at most the stream's start-up pull, never a read loop
  });

  test("a chunked body without Content-Length is limited by the bytes actually read", async () => {
    const f = withBob();
    const res = await f.app.request("/muc_kick", {
      method: "POST",
      headers: { authorization: AUTH, "content-type": "application/json" },
      body: chunked(paddedKick(200_000)),
    });
    expect(res.status).toBe(413);
    expect(await answer(res)).toMatchObject({ status: 413 });
  });

  test("a small chunked body without Content-Length is read whole", async () => {
    const f = withBob();
    const res = await f.app.request("/muc_kick", {
      method: "POST",
      headers: { authorization: AUTH, "content-type": "application/json" },
      body: chunked(JSON.stringify({ nickname: "Bob", muc: ROOM }), 3),
    });
    expect(await answer(res)).toMatchObject({ status: 200, body: { kicked: ["Bob"] } });
  });

  test("a Content-Length that understates the body does not lift the limit", async () => {
    const f = withBob();
    const res = await f.app.request("/muc_kick", {
      method: "POST",
      headers: { authorization: AUTH, "content-type": "application/json", "content-length": "10" },
      body: chunked(paddedKick(100_000)),
    });
    expect(res.status).toBe(413);
  });

  test("Content-Type must be application/json; parameters and any case are fine", async () => {
    const f = withBob();
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "", "application/jsonx", "json"]) {
      expect(await answer(await f.kick({ nickname: "Bob", muc: ROOM }, { "content-type": type }))).toMatchObject({
        status: 400,
        body: { error: "Content-Type must be application/json" },
      });
    }
    const none = await f.app.request("/muc_kick", {
      method: "POST",
      headers: { authorization: AUTH },
      body: new Uint8Array(new TextEncoder().encode(JSON.stringify({ nickname: "Bob", muc: ROOM }))),
    });
    expect(await answer(none)).toMatchObject({ status: 400, body: { error: "Content-Type must be application/json" } });
    expect(f.service.room(ROOM)!.occupants.size).toBe(1);
    expect((await f.kick({ nickname: "Bob", muc: ROOM }, { "content-type": "Application/JSON; charset=UTF-8" })).status).toBe(200);
  });

  test("a charset other than UTF-8 is 400", async () => {
    const f = withBob();
    expect(await answer(await f.kick({ nickname: "Bob", muc: ROOM }, { "content-type": "application/json; charset=iso-8859-1" }))).toMatchObject({
      status: 400,
      body: { error: "JSON body must be UTF-8 (charset=utf-8)" },
    });
  });

  test("a body that is not JSON (or empty, or not UTF-8) is 400 'JSON body not found'", async () => {
    const f = withBob();
    for (const body of ["", "nickname=Bob", "{", "{'nickname':'Bob'}", "[".repeat(60_000)]) {
      expect(await answer(await f.kick(body))).toMatchObject({ status: 400, body: { error: "JSON body not found" } });
    }
    const latin1 = await f.app.request("/muc_kick", {
      method: "POST",
      headers: { authorization: AUTH, "content-type": "application/json" },
      body: new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]), // {"é":1} in Latin-1
    });
    expect(await answer(latin1)).toMatchObject({ status: 400, body: { error: "JSON body not found" } });
  });

  test("JSON that is not an object is 400", async () => {
    const f = withBob();
    for (const body of ["[]", "null", "42", '"Bob"', "true", '[{"nickname":"Bob"}]']) {
      expect(await answer(await f.kick(body))).toMatchObject({ status: 400, body: { error: "JSON body must be an object" } });
      expect(await answer(await f.forget(body))).toMatchObject({ status: 400, body: { error: "JSON body must be an object" } });
    }
  });

  test("a UTF-8 byte-order mark before the JSON is tolerated", async () => {
    const f = withBob();
    expect((await f.kick(`\uFEFF${JSON.stringify({ nickname: "Bob", muc: ROOM })}`)).status).toBe(200);
  });

  test("inherited property names are not fields", async () => {
    const f = withBob();
    expect(await answer(await f.kick('{"__proto__":{"nickname":"Bob","muc":"lobby@rooms.test"}}'))).toMatchObject({
      status: 400,
      body: { error: "Missing nickname and/or MUC" },
    });
  });
});
