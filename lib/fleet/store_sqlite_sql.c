/*
 * Every SQL text of the SQLite store, in one place: the schema migrations and
 * the statements. All are constants; values only ever arrive through bound
 * parameters (?N), never in the text.
 */
#include "fleet/store_sqlite_internal.h"

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
};
