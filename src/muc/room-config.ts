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
}

/** A new room's configuration, before its owner changes anything. */
export const DEFAULT_ROOM_CONFIG: RoomConfig = Object.freeze({
  name: "",
  description: "",
  public: true,
  changeSubject: false,
});
