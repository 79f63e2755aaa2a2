import { randomBytes, randomUUID } from "node:crypto";
import { newId } from "./ids.ts";
import type { Element } from "@xmpp/xml";
import { ArchiveExpiry } from "./archive-expiry.ts";
import { roomEvents } from "./events/room-event.ts";
import { WebhookQueue } from "./events/webhook-queue.ts";
import type { Gate } from "./auth/gate.ts";
import type { Config } from "./config.ts";
import { createApp } from "./http/app.ts";
import type { Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { recorder } from "./muc/recorder.ts";
import { MucService } from "./muc/service.ts";
import type { Storage } from "./muc/storage.ts";
import { Outbox } from "./outbox.ts";
import { RoomLoader } from "./room-loader.ts";
import { roomLog } from "./room-log.ts";
import { SessionProber } from "./session-prober.ts";
import { openStorage } from "./storage/open-storage.ts";
import { ComponentConnection, flushBound, type ConnectionState } from "./xmpp/component-connection.ts";
import { EventRate } from "./xmpp/event-rate.ts";
import { StanzaLimits } from "./xmpp/stanza-limits.ts";
import { StanzaRouter } from "./xmpp/stanza-router.ts";

export interface MucgateDeps {
  logger: Logger;
  /** The join gate, built from the config by the caller (`createGate`). */
  authorizer: Gate;
  metrics?: Metrics;
  /** An open storage to use instead of opening `config.storage` (tests, benchmarks); closed by `stop()`. */
  storage?: Storage;
}

export interface Mucgate {
  readonly service: MucService;
  readonly router: StanzaRouter;
  readonly connection: ComponentConnection;
  readonly storage: Storage;
  readonly metrics: Metrics;
  /** Where the HTTP API listens. */
  readonly httpUrl: string;
  /**
   * Stop: with `muc_keep_occupants_on_restart` the occupants stay stored and
   * nobody is told (the next start brings them back); without it every
   * occupant gets status 332 (XEP-0045 §15.7.2). Then the stream, the HTTP
   * server and the storage close. `onFlushBound`: how long the stream may
   * take to deliver what is queued (component-connection.ts `stop`), once known.
   */
  stop(options?: { onFlushBound?: (ms: number) => void }): Promise<void>;
}

/** The shutdown's 332s go out this many at a time (about 350 KB), each slice once the link has taken the one before. */
const SHUTDOWN_SLICE = 1000;
/** About what one 332 presence weighs on the wire, to size the time its slices may take. */
const SHUTDOWN_STANZA_BYTES = 350;

/** The key that keeps occupant ids (XEP-0421) and IQ routing tags stable across restarts. */
const SECRET_KEY = "service-secret";

async function serviceSecret(storage: Storage): Promise<string> {
  const stored = await storage.getMeta(SECRET_KEY);
  if (stored !== undefined) return stored;
  const secret = randomBytes(32).toString("base64url");
  storage.setMeta(SECRET_KEY, secret);
  await storage.commit();
  return secret;
}

/**
 * The composition root: storage, one MUC service, its XMPP link and its HTTP
 * API, wired from a validated Config. Process concerns (argv, environment,
 * signals) stay in main.ts so this also runs inside tests and benchmarks.
 */
export async function startMucgate(config: Config, deps: MucgateDeps): Promise<Mucgate> {
  const { logger } = deps;
  const metrics = deps.metrics ?? new Metrics();
  const storage = deps.storage ?? (await openStorage(config.storage, { logger }));
  const service = new MucService({
    domain: config.component_jid,
    historySize: config.max_history_messages,
    secret: await serviceSecret(storage),
    roomDefaults: {
      name: "",
      description: "",
      public: config.muc_room_default_public,
      changeSubject: config.muc_room_default_change_subject,
      persistent: config.muc_room_default_persistent,
      historyLength: config.muc_room_default_history_length,
      archiving: config.muc_log_by_default,
      language: config.muc_room_default_language,
      moderated: config.muc_room_default_moderated,
      membersOnly: config.muc_room_default_members_only,
      allowInvites: false,
      password: "",
      whois: config.muc_room_default_public_jids ? "anyone" : "moderators",
      maxUsers: config.muc_room_default_max_occupants,
      allowPm: "anyone",
    },
    settings: {
      maxHistoryLength: config.max_history_messages,
      archiveAllRooms: config.muc_log_all_rooms,
      maxArchiveQueryResults: config.max_archive_query_results,
      maxOccupants: config.muc_max_occupants,
      maxHistoryBytes: config.max_history_bytes,
      maxUserConferences: config.max_user_conferences,
      restrictRoomCreation: config.restrict_room_creation,
      admins: new Set(config.admins),
    },
    newId,
    metrics,
    logger,
  });
  const rooms = new RoomLoader({ service, source: storage, logger });
  service.subscribe(recorder(storage));
  service.subscribe(roomLog(logger));
  // README "Events": the core only hands each event to the queue; delivery happens off the hot path.
  const events =
    config.muc_events_url === undefined
      ? undefined
      : new WebhookQueue({
          url: config.muc_events_url,
          secret: config.muc_events_secret,
          timeout: config.muc_events_timeout,
          maxQueued: config.muc_events_queue_size,
          metrics,
          logger,
        });
  if (events) service.subscribe(roomEvents((event) => events.push(event), randomUUID));

  // Who was in which room when the last process stopped: back, before the link is up.
  const occupied = await storage.occupiedRooms();
  if (config.muc_keep_occupants_on_restart) {
    for (const jid of occupied) await rooms.prepare(jid);
    if (occupied.length > 0) logger.info({ rooms: occupied.length, occupants: service.occupantCount }, "rooms restored with their occupants");
  } else if (occupied.length > 0) {
    storage.clearOccupants();
    await storage.commit();
  }

  let connection: ComponentConnection | undefined;
  const outbox = new Outbox({ commit: () => storage.commit(), send: (stanzas) => connection!.send(stanzas), logger });
  const send = (stanzas: Element[]) => outbox.send(stanzas);
  const router = new StanzaRouter({
    service,
    rooms,
    storage,
    authorizer: deps.authorizer,
    authorizeRegistration: config.muc_http_auth_authorize_registration,
    eventRate: config.muc_event_rate > 0 ? new EventRate({ rate: config.muc_event_rate, burst: config.muc_burst_factor }) : undefined,
    maxHeld: { stanzas: config.muc_max_held_stanzas, bytes: config.muc_max_held_bytes },
    limits: new StanzaLimits({
      stanzaBytes: config.component_stanza_size_limit,
      body: config.muc_max_char_count,
      subject: config.muc_max_subject_length,
      status: config.muc_max_status_length,
      id: config.muc_max_stanza_id_length,
      roomName: config.max_room_name,
      roomDescription: config.max_room_desc,
    }),
    send,
    defer: (task) => connection!.schedule(task),
    logger,
    metrics,
  });
  const prober = new SessionProber({ source: service, send, rate: config.muc_session_check_rate, logger });
  let onlineOnce = false;
  connection = new ComponentConnection({
    service: config.component_service,
    domain: config.component_jid,
    secret: config.component_secret,
    maxStanzaBytes: config.component_stanza_size_limit,
    ping: config.component_ping_interval > 0 ? { interval: config.component_ping_interval * 1000, timeout: config.component_ping_timeout * 1000 } : undefined,
    logger,
    onStanza: (stanza) => router.route(stanza),
    backlog: () => outbox.pending,
    onState: (state: ConnectionState) => {
      logger.debug({ state }, "component state");
      // Sessions restored from storage, or kept over a lost link, may have died meanwhile.
      if (state === "online" && (onlineOnce || service.occupantCount > 0)) prober.checkAll();
      if (state === "online") onlineOnce = true;
    },
  });
  const expiry = config.muc_log_expires_after === "never" ? undefined : new ArchiveExpiry({ storage, keepSeconds: config.muc_log_expires_after, logger });

  metrics.observeRooms(() => ({ rooms: service.rooms.size, occupants: service.occupantCount }));
  metrics.observeStorage(() => ({ failing: outbox.failing, failures: outbox.failures }));

  const app = createApp({
    xmppState: () => connection!.state,
    storageFailing: () => outbox.failing,
    metrics,
    service,
    send,
    kickAuthorization: config.http_muc_kick_authorization_header,
    apiAuthorization: config.http_api_authorization_header,
    roomService: service,
    commit: () => storage.commit(),
    prepareRoom: (jid) => rooms.prepare(jid),
    decisions: deps.authorizer,
    logger,
  });
  const server = Bun.serve({ hostname: config.http_interface, port: config.http_port, fetch: app.fetch });
  const httpUrl = `http://${server.hostname}:${server.port}`;
  logger.info({ http: httpUrl, component: config.component_jid, service: config.component_service, storage: storage.kind }, "mucgate starting");
  connection.start();
  expiry?.start();

  let stopping: Promise<void> | undefined;
  return {
    service,
    router,
    connection,
    storage,
    metrics,
    httpUrl,
    stop(options = {}) {
      stopping ??= (async () => {
        prober.stop();
        // Counted from here: the pending entries' refusals and the 332s, as they actually leave.
        connection!.countFromHere();
        const pendingEntries = router.pending;
        router.close();
        connection!.runQueued(); // what the server sent and waits behind back-pressure: entries among it are refused now
        const out: Element[] = [];
        if (!config.muc_keep_occupants_on_restart) service.shutdown(out);
        // In slices, each once the link has taken most of the one before: 200,000 occupants' 332s in one batch pass the output cap.
        const pacing = flushBound(out.length * SHUTDOWN_STANZA_BYTES);
        if (out.length > SHUTDOWN_SLICE) options.onFlushBound?.(pacing);
        const until = performance.now() + pacing;
        for (let i = 0; i < out.length || i === 0; i += SHUTDOWN_SLICE) {
          outbox.send(out.slice(i, i + SHUTDOWN_SLICE));
          await outbox.flush();
          if (i + SHUTDOWN_SLICE < out.length) await connection!.drained(until);
        }
        const flushed = await connection!.stop(options.onFlushBound);
        await events?.close();
        await server.stop(true);
        await expiry?.stop();
        await storage.close();
        // `occupantsNotified`: 332s the server confirmed it read. Bytes leave in order, so what was lost is the tail, where the 332s are.
        const notified = Math.max(0, out.length - flushed.unsent);
        logger.info(
          config.muc_keep_occupants_on_restart
            ? { occupantsKept: service.occupantCount, pendingEntriesRefused: pendingEntries, stanzasFlushed: flushed.sent, stanzasLost: flushed.unsent }
            : { occupantsNotified: notified, notificationsLost: out.length - notified, pendingEntriesRefused: pendingEntries, stanzasFlushed: flushed.sent, stanzasLost: flushed.unsent },
          "mucgate stopped",
        );
      })();
      return stopping;
    },
  };
}
