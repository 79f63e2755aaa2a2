/**
 * A room's settings (XEP-0045 §10.2), one immutable value: the room replaces
 * it as a whole on every change (`Room.configure`), so subscribers can tell
 * what changed by comparing the old value with the new one. Each field is
 * owned by the feature that offers it in the configuration form
 * (src/muc/features/).
 */
export interface RoomConfig {
  /** muc#roomconfig_roomname */
  readonly name: string;
  /** muc#roomconfig_roomdesc */
  readonly description: string;
  /** muc#roomconfig_publicroom: muc_public vs muc_hidden, listed in the service's disco#items. */
  readonly public: boolean;
  /** muc#roomconfig_changesubject: participants, not only moderators, may change the subject (§8.1). */
  readonly changeSubject: boolean;
  /** muc#roomconfig_persistentroom: the room outlives its last occupant (§10.1.3 muc_persistent). */
  readonly persistent: boolean;
  /** muc#roomconfig_historylength: messages of §7.2.15 history a newcomer may get. */
  readonly historyLength: number;
  /** muc#roomconfig_enablearchiving: the room keeps a XEP-0313 archive. */
  readonly archiving: boolean;
  /** muc#roomconfig_lang: the room's language (XEP-0045 §10.2, RFC 5646 tag), "" when unset. */
  readonly language: string;
  /** muc#roomconfig_moderatedroom: newcomers without affiliation are visitors (§5.1.2). */
  readonly moderated: boolean;
}

/** A new room's configuration, before its owner changes anything. */
export const DEFAULT_ROOM_CONFIG: RoomConfig = Object.freeze({
  name: "",
  description: "",
  public: true,
  changeSubject: false,
  persistent: false,
  historyLength: 20,
  archiving: true,
  language: "",
  moderated: false,
});
