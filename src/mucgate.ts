import type { Element } from "@xmpp/xml";
import type { Gate } from "./auth/gate.ts";
import type { Config } from "./config.ts";
import { createApp } from "./http/app.ts";
import type { Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { MucService } from "./muc/service.ts";
import { ComponentConnection, type ConnectionState } from "./xmpp/component-connection.ts";
import { RoomLoader } from "./room-loader.ts";
import { StanzaRouter } from "./xmpp/stanza-router.ts";

export interface MucgateDeps {
  logger: Logger;
  /** The join gate, built from the config by the caller (`createGate`). */
  authorizer: Gate;
  metrics?: Metrics;
}

export interface Mucgate {
  readonly service: MucService;
  readonly router: StanzaRouter;
  readonly connection: ComponentConnection;
  readonly metrics: Metrics;
  /** Where the HTTP API listens. */
  readonly httpUrl: string;
  /** XEP-0045 §15.7.2 shutdown: occupants get 332, the stream and HTTP server close. */
  stop(): Promise<void>;
}

/**
 * The composition root: one MUC service, its XMPP link and its HTTP API,
 * wired from a validated Config. Process concerns (argv, environment,
 * signals) stay in main.ts so this also runs inside tests and benchmarks.
 */
export function startMucgate(config: Config, deps: MucgateDeps): Mucgate {
  const { logger } = deps;
  const metrics = deps.metrics ?? new Metrics();
  const service = new MucService({
    domain: config.component_jid,
    historySize: config.max_history_messages,
    metrics,
    logger,
  });
  let send: (stanzas: Element[]) => void = () => {};
  const router = new StanzaRouter({
    service,
    rooms: new RoomLoader({ service, logger }),
    authorizer: deps.authorizer,
    authorizeRegistration: config.muc_http_auth_authorize_registration,
    send: (stanzas) => send(stanzas),
    logger,
    metrics,
  });
  const connection = new ComponentConnection({
    service: config.component_service,
    domain: config.component_jid,
    secret: config.component_secret,
    logger,
    onStanza: (stanza) => router.route(stanza),
    onState: (state: ConnectionState) => logger.debug({ state }, "component state"),
  });
  send = (stanzas) => connection.send(stanzas);

  metrics.observeRooms(() => ({ rooms: service.rooms.size, occupants: service.occupantCount }));

  const app = createApp({
    xmppState: () => connection.state,
    metrics,
    service,
    send: (stanzas) => connection.send(stanzas),
    kickAuthorization: config.http_muc_kick_authorization_header,
    decisions: deps.authorizer,
    logger,
  });
  const server = Bun.serve({ hostname: config.http_interface, port: config.http_port, fetch: app.fetch });
  const httpUrl = `http://${server.hostname}:${server.port}`;
  logger.info({ http: httpUrl, component: config.component_jid, service: config.component_service }, "mucgate starting");
  connection.start();

  let stopping: Promise<void> | undefined;
  return {
    service,
    router,
    connection,
    metrics,
    httpUrl,
    stop() {
      stopping ??= (async () => {
        router.close();
        const out: Element[] = [];
        service.shutdown(out);
        connection.send(out);
        await connection.stop();
        await server.stop(true);
        logger.info({ occupantsNotified: out.length }, "mucgate stopped");
      })();
      return stopping;
    },
  };
}
