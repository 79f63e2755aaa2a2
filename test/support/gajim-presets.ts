/**
 * The values Gajim 1.7's "Create Group Chat" sets on the §10.2 form it was
 * given (gajim/common/modules/muc.py `_apply_config` over
 * helpers.get_default_muc_config, and groupchat_creation.py's public and
 * private choices). Gajim fills only the fields the form offers and submits
 * every field it got, so a test submits `preset[name]` where the form has
 * `name` and the form's own value elsewhere.
 */

/** "Public channel" (the values the persistence tests rely on). */
export const GAJIM_PUBLIC: Readonly<Record<string, string>> = Object.freeze({
  "muc#roomconfig_roomname": "Book Club",
  "muc#roomconfig_roomdesc": "We read",
  "muc#roomconfig_publicroom": "1",
  "muc#roomconfig_membersonly": "0",
  "muc#roomconfig_whois": "moderators",
  "muc#roomconfig_changesubject": "0",
  "muc#roomconfig_persistentroom": "1",
});

/** "Private group". */
export const GAJIM_PRIVATE: Readonly<Record<string, string>> = Object.freeze({
  "muc#roomconfig_roomname": "Friends",
  "muc#roomconfig_roomdesc": "",
  "muc#roomconfig_publicroom": "0",
  "muc#roomconfig_membersonly": "1",
  "muc#roomconfig_whois": "anyone",
  "muc#roomconfig_changesubject": "1",
  public_list: "0",
  "muc#roomconfig_allowinvites": "1",
  "muc#roomconfig_persistentroom": "1",
  "muc#roomconfig_moderatedroom": "0",
  "muc#roomconfig_enablelogging": "1",
  allow_voice_requests: "0",
  "{http://prosody.im/protocol/muc}roomconfig_allowmemberinvites": "1",
  "muc#roomconfig_enablearchiving": "1",
});
