#ifndef CSQLITECONFIG_H
#define CSQLITECONFIG_H

/// Turns on SQLite's query planner stability guarantee for `db` (a `sqlite3 *` from
/// sqlite-nio's bundled SQLite). `sqlite3_db_config` is variadic, which Swift cannot call.
/// Returns SQLite's result code.
int switchboard_sqlite_enable_qpsg(void *db);

#endif
