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
  /** muc#roomconfig_membersonly: only members, admins and owners may enter (§7.2.5). */
  readonly membersOnly: boolean;
  /** muc#roomconfig_allowinvites: in a members-only room, members (not only admins) may invite, which makes the invitee a member (§7.8). */
  readonly allowInvites: boolean;
  /** muc#roomconfig_roomsecret: the password a join must carry (§7.2.6); "" when the room has none. Never shown to anyone but owners, never logged. */
  readonly password: string;
  /** muc#roomconfig_whois: who sees occupants' real JIDs — moderators (semi-anonymous) or anyone (non-anonymous, §4.2). */
  readonly whois: "moderators" | "anyone";
  /** muc#roomconfig_maxusers: most occupants (nicks) at once, owners and admins not held to it (§7.2.10); 0 for no limit. */
  readonly maxUsers: number;
  /** muc#roomconfig_allowpm: the least role that may send private messages (§7.5), Prosody's values. */
  readonly allowPm: "anyone" | "participants" | "moderators" | "none";
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
  membersOnly: false,
  allowInvites: false,
  password: "",
  whois: "moderators",
  maxUsers: 0,
  allowPm: "anyone",
});
