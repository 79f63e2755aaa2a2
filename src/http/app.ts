import type { Element } from "@xmpp/xml";
import { Hono } from "hono";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { requireAuthorization } from "./authorization.ts";
import { errorResponse, MethodNotAllowed, notFoundResponse } from "./errors.ts";
import { forgetRoute, type DecisionForgetter } from "./forget-route.ts";
import { kickRoute, type KickableService } from "./kick-route.ts";
import pkg from "../../package.json" with { type: "json" };
import { openApiDocument } from "./openapi.ts";
import { roomApiRoutes } from "./room-api/room-api-route.ts";
import type { RoomApiService } from "./room-api/room-commands.ts";

export interface AppDeps {
  /** The component link's state, for /health: `online` is healthy, anything else is reported as it is. */
  xmppState: () => string;
  /** Whether the last storage commit failed (the outbox's `failing`); absent: never. */
  storageFailing?: (() => boolean) | undefined;
  metrics: Metrics;
  /** The MUC core the kick route acts on. */
  service: KickableService;
  /** Sends stanzas over the component connection (the kick's presences). */
  send: (stanzas: Element[]) => void;
  /** `http_muc_kick_authorization_header`: the exact Authorization value of every kick and forget. */
  kickAuthorization: string;
  /** `http_api_authorization_header`: the exact Authorization value of every room API call (/api). */
  apiAuthorization?: string | undefined;
  /** The room API's MUC commands; absent: no /api routes. */
  roomService?: RoomApiService | undefined;
  /** Storage commit after a room API command; absent without storage. */
  commit?: (() => unknown) | undefined;
  /** Brings a stored room into memory before the room API looks at it. */
  prepareRoom?: ((roomJid: string) => boolean | Promise<boolean>) | undefined;
  /** Timers of the room API (an unused temporary room's removal); default setTimeout. */
  schedule?: ((ms: number, fn: () => void) => void) | undefined;
  /** The join gate's decision cache; absent when no gate is configured. */
  decisions?: DecisionForgetter | undefined;
  logger?: Logger | undefined;
}

/**
 * The HTTP API (README "HTTP API", docs/http-api.md), a Hono app run by Bun.serve. It calls
 * the same MUC core operations as the XMPP side. Routes live one a file;
 * errors become answers in one place (errors.ts).
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err, deps.logger));
  app.notFound(notFoundResponse);

  // 503 also while storage commits fail: live chat goes on, but what it records (archive, rooms) is not durable.
  app.get("/health", (c) => {
    const xmpp = deps.xmppState();
    const storage = deps.storageFailing?.() ? "failing" : "ok";
    const status = xmpp !== "online" ? "unavailable" : storage === "failing" ? "degraded" : "ok";
    return c.json({ status, xmpp, storage }, status === "ok" ? 200 : 503);
  });

  const openapi = openApiDocument(pkg.version);
  app.get("/openapi.json", (c) => c.json(openapi, 200));

  app.get("/metrics", async (c) => {
    const body = await deps.metrics.render();
    return c.body(body, 200, { "content-type": deps.metrics.contentType });
  });

  const authorized = requireAuthorization(deps.kickAuthorization);
  app.post("/muc_kick", authorized, kickRoute(deps));
  app.post("/muc_auth/forget", authorized, forgetRoute(deps));
  if (deps.roomService) {
    roomApiRoutes(app, {
      service: deps.roomService,
      send: deps.send,
      commit: deps.commit,
      prepare: deps.prepareRoom,
      schedule: deps.schedule,
      authorization: deps.apiAuthorization ?? deps.kickAuthorization,
      logger: deps.logger,
    });
  }

  // Known paths asked with another method: 405 with Allow (after the routes above, so they win).
  const methods: Record<string, readonly string[]> = {
    "/health": ["GET", "HEAD"],
    "/metrics": ["GET", "HEAD"],
    "/openapi.json": ["GET", "HEAD"],
    "/muc_kick": ["POST"],
    "/muc_auth/forget": ["POST"],
  };
  for (const [path, allow] of Object.entries(methods)) {
    app.all(path, () => {
      throw new MethodNotAllowed(allow);
    });
  }
  return app;
}
