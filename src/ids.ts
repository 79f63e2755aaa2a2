/**
 * The ids the service mints (XEP-0359 stanza-ids, which are the archive's
 * keys): UUIDv7, time-ordered, so the archive's unique index on them grows at
 * its end instead of at a random page (a side measurement, bare SQLite
 * inserts with the archive's indexes and 300,000 rows already stored: 1.2–1.5×
 * the rows/s of random UUIDs; in the storage bench's smaller archive, within
 * noise). Its 74 random bits keep an id unguessable.
 */
export const newId = (): string => Bun.randomUUIDv7();
