/*
 * Every SQL text of the SQLite store, in one place: the schema migrations and
 * the statements. All are constants; values only ever arrive through bound
 * parameters (?N), never in the text.
 */
#include "fleet/store_sqlite_internal.h"

/* The desired state of each device and its version, for versions that keep growing across
   restarts. No foreign key: the row outlives a deleted record, so that a device id
   registered again goes on from its last version (the device remembers it). */
const char iotkit__sq_migration_desired[] = "CREATE TABLE desired_state ("
                                            " device_id TEXT PRIMARY KEY NOT NULL,"
                                            " version INTEGER NOT NULL,"
                                            " state TEXT NOT NULL,"
                                            " updated_ms INTEGER NOT NULL"
                                            ") WITHOUT ROWID;";

/*
 * Forward migrations. Step i turns schema version i (PRAGMA user_version) into
 * i + 1; store_sqlite.c applies the missing steps in order, inside the
 * transaction that opens the database, and sets user_version. Append only:
 * never edit a step that has shipped.
 */
const char *const iotkit__sq_migrations[] = {
    /* 0 -> 1: the registry. last_seen_ms is NULL until the device is heard from. */
    "CREATE TABLE devices ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT NOT NULL DEFAULT '',"
    " type TEXT NOT NULL DEFAULT '',"
    " attributes TEXT NOT NULL DEFAULT '{}',"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " last_seen_ms INTEGER,"
    " online INTEGER NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;"
    "CREATE INDEX devices_by_type ON devices(type, id);"
    "CREATE INDEX devices_by_last_seen ON devices(last_seen_ms);"
    "CREATE TABLE device_tags ("
    " device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
    " pos INTEGER NOT NULL,"
    " tag TEXT NOT NULL,"
    " PRIMARY KEY (device_id, pos),"
    " UNIQUE (device_id, tag)"
    ") WITHOUT ROWID;"
    "CREATE INDEX device_tags_by_tag ON device_tags(tag, device_id);",
    /* 1 -> 2: the live view. value has no declared type, so that it keeps what the
       metric is (REAL, INTEGER for integers and booleans, TEXT); type says which. */
    "CREATE TABLE device_state ("
    " device_id TEXT PRIMARY KEY NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
    " state TEXT NOT NULL,"
    " ts_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE metrics_latest ("
    " device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " unit TEXT,"
    " type INTEGER NOT NULL,"
    " value,"
    " ts_ms INTEGER NOT NULL,"
    " PRIMARY KEY (device_id, name)"
    ") WITHOUT ROWID;"
    /* The latest position of each device, and the index that answers "within R of a
       point": a query walks the (lat, lon) index over the latitude band of the circle's
       bounding box only, tests the longitude range on the index entries themselves, and
       reads the rows of those candidates alone (never every row). */
    "CREATE TABLE location_latest ("
    " device_id TEXT PRIMARY KEY NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
    " lat REAL NOT NULL, lon REAL NOT NULL, alt REAL, acc REAL, ts_ms INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX location_latest_by_lat_lon ON location_latest(lat, lon);"
    "CREATE TABLE location_history ("
    " device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
    " ts_ms INTEGER NOT NULL,"
    " lat REAL NOT NULL, lon REAL NOT NULL, alt REAL, acc REAL,"
    " PRIMARY KEY (device_id, ts_ms)"
    ") WITHOUT ROWID;",
    /* 2 -> 3: the telemetry history (numeric points; the key serves every query and trim). */
    "CREATE TABLE telemetry_history ("
    " device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " ts_ms INTEGER NOT NULL,"
    " value REAL NOT NULL,"
    " PRIMARY KEY (device_id, name, ts_ms)"
    ") WITHOUT ROWID;",
    /* 3 -> 4: desired state (store_sqlite_desired.c). A step of its own, so that it can
       move to another number at a merge without touching the others. */
    iotkit__sq_migration_desired,
    /* 4 -> 5: OTA rollouts (self-contained; its statements are in store_sqlite_rollout.c). */
    IOTKIT__SQ_MIGRATION_ROLLOUTS,
};

const unsigned iotkit__sq_schema_version = sizeof(iotkit__sq_migrations) / sizeof(iotkit__sq_migrations[0]);

#define COLS "d.id, d.name, d.type, d.attributes, d.created_ms, d.updated_ms, d.last_seen_ms, d.online"

/*
 * The list filters, bound the same way in every variant:
 *   ?1 after id ('' for the start)  ?2 type   ?3 tag   ?4 online (0/1)
 *   ?5 last seen before             ?6 last seen after  ?7 limit
 * where an absent condition is bound as NULL. The variants differ only in
 * which index drives the walk in id order: by tag (device_tags_by_tag), by
 * type (devices_by_type), or the primary key.
 */
#define FILTER_REST                                                                       \
  " AND (?4 IS NULL OR d.online = ?4)"                                                    \
  " AND (?5 IS NULL OR d.last_seen_ms < ?5)"                                              \
  " AND (?6 IS NULL OR d.last_seen_ms > ?6)"

const char *const iotkit__sq_sql[IOTKIT__SQ_COUNT_] = {
    [IOTKIT__SQ_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [IOTKIT__SQ_BEGIN_READ] = "BEGIN DEFERRED",
    [IOTKIT__SQ_COMMIT] = "COMMIT",
    [IOTKIT__SQ_ROLLBACK] = "ROLLBACK",
    [IOTKIT__SQ_INSERT] = "INSERT INTO devices (id, name, type, attributes, created_ms, updated_ms, online)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?5, 0)",
    [IOTKIT__SQ_INSERT_TAG] = "INSERT INTO device_tags (device_id, pos, tag) VALUES (?1, ?2, ?3)",
    /* A NULL parameter keeps the field. */
    [IOTKIT__SQ_UPDATE] = "UPDATE devices SET name = coalesce(?2, name), type = coalesce(?3, type),"
                          " attributes = coalesce(?4, attributes), updated_ms = ?5 WHERE id = ?1",
    [IOTKIT__SQ_EXISTS] = "SELECT 1 FROM devices WHERE id = ?1",
    [IOTKIT__SQ_DELETE_TAGS] = "DELETE FROM device_tags WHERE device_id = ?1",
    [IOTKIT__SQ_DELETE] = "DELETE FROM devices WHERE id = ?1",
    [IOTKIT__SQ_PRESENCE] = "UPDATE devices SET online = ?2, last_seen_ms = ?3 WHERE id = ?1",
    [IOTKIT__SQ_GET] = "SELECT " COLS " FROM devices d WHERE d.id = ?1",
    [IOTKIT__SQ_GET_TAGS] = "SELECT tag FROM device_tags WHERE device_id = ?1 ORDER BY pos",
    [IOTKIT__SQ_LIST_BY_ID] = "SELECT " COLS " FROM devices d WHERE d.id > ?1"
                              " AND (?2 IS NULL OR d.type = ?2)"
                              " AND (?3 IS NULL OR EXISTS (SELECT 1 FROM device_tags t"
                              " WHERE t.device_id = d.id AND t.tag = ?3))" FILTER_REST
                              " ORDER BY d.id LIMIT ?7",
    [IOTKIT__SQ_LIST_BY_TYPE] = "SELECT " COLS " FROM devices d INDEXED BY devices_by_type"
                                " WHERE d.type = ?2 AND d.id > ?1"
                                " AND (?3 IS NULL OR EXISTS (SELECT 1 FROM device_tags t"
                                " WHERE t.device_id = d.id AND t.tag = ?3))" FILTER_REST
                                " ORDER BY d.id LIMIT ?7",
    [IOTKIT__SQ_LIST_BY_TAG] = "SELECT " COLS " FROM device_tags t INDEXED BY device_tags_by_tag"
                               " CROSS JOIN devices d ON d.id = t.device_id"
                               " WHERE t.tag = ?3 AND t.device_id > ?1"
                               " AND (?2 IS NULL OR d.type = ?2)" FILTER_REST
                               " ORDER BY t.device_id LIMIT ?7",
    [IOTKIT__SQ_COUNT] = "SELECT count(*) FROM devices d WHERE (?2 IS NULL OR d.type = ?2)"
                         " AND (?3 IS NULL OR EXISTS (SELECT 1 FROM device_tags t"
                         " WHERE t.device_id = d.id AND t.tag = ?3))" FILTER_REST,
    /* The live view. A row for a device that is gone (deleted meanwhile) is not written:
       "WHERE EXISTS" instead of a foreign-key failure that would end the whole batch. */
    [IOTKIT__SQ_AUTO_INSERT] = "INSERT OR IGNORE INTO devices (id, name, type, attributes, created_ms, updated_ms,"
                               " online) VALUES (?1, '', '', '{}', ?2, ?2, 0)",
    [IOTKIT__SQ_STATE_PUT] = "INSERT INTO device_state (device_id, state, ts_ms) SELECT ?1, ?2, ?3"
                             " WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?1)"
                             " ON CONFLICT (device_id) DO UPDATE SET state = excluded.state, ts_ms = excluded.ts_ms",
    [IOTKIT__SQ_METRIC_PUT] = "INSERT INTO metrics_latest (device_id, name, unit, type, value, ts_ms)"
                              " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?1)"
                              " ON CONFLICT (device_id, name) DO UPDATE SET unit = excluded.unit,"
                              " type = excluded.type, value = excluded.value, ts_ms = excluded.ts_ms",
    [IOTKIT__SQ_LOC_PUT] = "INSERT INTO location_latest (device_id, lat, lon, alt, acc, ts_ms)"
                           " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?1)"
                           " ON CONFLICT (device_id) DO UPDATE SET lat = excluded.lat, lon = excluded.lon,"
                           " alt = excluded.alt, acc = excluded.acc, ts_ms = excluded.ts_ms",
    [IOTKIT__SQ_HIST_ADD] = "INSERT OR IGNORE INTO location_history (device_id, ts_ms, lat, lon, alt, acc)"
                            " SELECT ?1, ?6, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?1)",
    /* Keep the newest ?2 positions: delete what is older than the ?2-th newest. */
    [IOTKIT__SQ_HIST_TRIM] = "DELETE FROM location_history WHERE device_id = ?1 AND ts_ms <"
                             " (SELECT ts_ms FROM location_history WHERE device_id = ?1"
                             " ORDER BY ts_ms DESC LIMIT 1 OFFSET ?2 - 1)",
    [IOTKIT__SQ_LOAD_DEVICES] = "SELECT id, online, last_seen_ms FROM devices",
    [IOTKIT__SQ_LOAD_STATES] = "SELECT device_id, state, ts_ms FROM device_state",
    [IOTKIT__SQ_LOAD_METRICS] = "SELECT device_id, name, unit, type, value, ts_ms FROM metrics_latest",
    [IOTKIT__SQ_LOAD_LOCATIONS] = "SELECT device_id, lat, lon, alt, acc, ts_ms FROM location_latest",
    [IOTKIT__SQ_TRACK] = "SELECT lat, lon, alt, acc, ts_ms FROM location_history"
                         " WHERE device_id = ?1 AND ts_ms BETWEEN ?2 AND ?3 ORDER BY ts_ms",
    [IOTKIT__SQ_TEL_ADD] = "INSERT OR IGNORE INTO telemetry_history (device_id, name, ts_ms, value)"
                           " SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?1)",
    [IOTKIT__SQ_TEL_TRIM_COUNT] = "DELETE FROM telemetry_history WHERE device_id = ?1 AND name = ?2 AND ts_ms <"
                                  " (SELECT ts_ms FROM telemetry_history WHERE device_id = ?1 AND name = ?2"
                                  " ORDER BY ts_ms DESC LIMIT 1 OFFSET ?3 - 1)",
    [IOTKIT__SQ_TEL_TRIM_AGE] = "DELETE FROM telemetry_history WHERE device_id = ?1 AND name = ?2 AND ts_ms < ?3",
    [IOTKIT__SQ_TEL_POINTS] = "SELECT ts_ms, value, value, value, 1 FROM telemetry_history"
                              " WHERE device_id = ?1 AND name = ?2 AND ts_ms BETWEEN ?3 AND ?4 ORDER BY ts_ms",
    /* Buckets of ?5 ms from ?3: (ts - t1) / width is a whole number, so each point falls in one. */
    [IOTKIT__SQ_TEL_BUCKETS] = "SELECT ?3 + ((ts_ms - ?3) / ?5) * ?5 AS b, min(value), max(value), avg(value), count(*)"
                               " FROM telemetry_history WHERE device_id = ?1 AND name = ?2"
                               " AND ts_ms BETWEEN ?3 AND ?4 GROUP BY b ORDER BY b",
    /* Desired state: a version only ever grows, even if two writers raced. */
    [IOTKIT__SQ_DESIRED_GET] = "SELECT version, state FROM desired_state WHERE device_id = ?1",
    [IOTKIT__SQ_DESIRED_PUT] = "INSERT INTO desired_state (device_id, version, state, updated_ms)"
                               " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (device_id) DO UPDATE SET"
                               " version = excluded.version, state = excluded.state, updated_ms = excluded.updated_ms"
                               " WHERE excluded.version > desired_state.version",
    [IOTKIT__SQ_TEL_ROWS] = "SELECT count(*) FROM telemetry_history WHERE device_id = ?1 AND name = ?2",
    /* Delete the ?3 oldest points: (device, name, ts) is the key, so "up to the ?3-th oldest ts" is ?3 rows. */
    [IOTKIT__SQ_TEL_TRIM_OLDEST] = "DELETE FROM telemetry_history WHERE device_id = ?1 AND name = ?2 AND ts_ms <="
                                   " (SELECT ts_ms FROM telemetry_history WHERE device_id = ?1 AND name = ?2"
                                   " ORDER BY ts_ms LIMIT 1 OFFSET ?3 - 1)",
    [IOTKIT__SQ_DATA_VERSION] = "PRAGMA data_version",
    [IOTKIT__SQ_IN_BOX] = "SELECT device_id, lat, lon, alt, acc, ts_ms FROM location_latest"
                          " INDEXED BY location_latest_by_lat_lon"
                          " WHERE lat BETWEEN ?1 AND ?2 AND (lon BETWEEN ?3 AND ?4 OR lon BETWEEN ?5 AND ?6)",
};
