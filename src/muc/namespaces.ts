/** XML namespaces mucgate speaks, by the specification that defines them. */
export const NS = {
  /** XEP-0045 */
  MUC: "http://jabber.org/protocol/muc",
  MUC_USER: "http://jabber.org/protocol/muc#user",
  MUC_ADMIN: "http://jabber.org/protocol/muc#admin",
  MUC_OWNER: "http://jabber.org/protocol/muc#owner",
  MUC_REGISTER: "http://jabber.org/protocol/muc#register",
  MUC_ROOMCONFIG: "http://jabber.org/protocol/muc#roomconfig",
  MUC_ROOMINFO: "http://jabber.org/protocol/muc#roominfo",
  /** §7.13, §8.6 voice requests and their approval. */
  MUC_REQUEST: "http://jabber.org/protocol/muc#request",
  /** XEP-0045 §17.1: the room keeps the sender's message id when reflecting. */
  MUC_STABLE_ID: "http://jabber.org/protocol/muc#stable_id",
  /** XEP-0410 §3.3: the service answers self-pings itself. */
  MUC_SELF_PING: "http://jabber.org/protocol/muc#self-ping-optimization",
  /** XEP-0030 */
  DISCO_INFO: "http://jabber.org/protocol/disco#info",
  DISCO_ITEMS: "http://jabber.org/protocol/disco#items",
  /** XEP-0199 */
  PING: "urn:xmpp:ping",
  /** XEP-0203 */
  DELAY: "urn:xmpp:delay",
  /** XEP-0313 */
  MAM: "urn:xmpp:mam:2",
  MAM_EXTENDED: "urn:xmpp:mam:2#extended",
  /** XEP-0059 */
  RSM: "http://jabber.org/protocol/rsm",
  /** XEP-0297 */
  FORWARD: "urn:xmpp:forward:0",
  /** XEP-0359 */
  SID: "urn:xmpp:sid:0",
  /** XEP-0421 */
  OCCUPANT_ID: "urn:xmpp:occupant-id:0",
  /** XEP-0424 */
  RETRACT: "urn:xmpp:message-retract:1",
  /** XEP-0425 */
  MODERATE: "urn:xmpp:message-moderate:1",
  /** XEP-0004 */
  DATA: "jabber:x:data",
  /** XEP-0077, used by XEP-0045 §7.10 */
  REGISTER: "jabber:iq:register",
  /** RFC 6120 §8.3 */
  STANZAS: "urn:ietf:params:xml:ns:xmpp-stanzas",
} as const;
