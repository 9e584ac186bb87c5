-- integrityd database schema.
-- Every statement is idempotent (IF NOT EXISTS): --init-db runs the whole file on
-- new and existing databases alike. PRAGMA user_version holds the schema version
-- and PRAGMA application_id marks the file as ours; both are set by src/db/db.ts,
-- which also runs the migrations from older versions before this file.
-- Each module owns one section below; times are milliseconds since the epoch.

-- ==== core ====================================================================
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- The report queue: every event stays here until every sink has taken it.
-- Mail marks rows (mailed); append-only sinks (jsonlog, syslog) keep a cursor
-- (the last event id they wrote) in meta as 'cursor.<sink>'.
CREATE TABLE IF NOT EXISTS events (
  id       INTEGER PRIMARY KEY,
  time     INTEGER NOT NULL,
  channel  TEXT NOT NULL CHECK (channel IN ('file', 'log', 'pid')),
  kind     TEXT NOT NULL,            -- file: new|changed|deleted|baseline|error; log: alert|violation|system|notice; pid: died|zombie|restarted|created|removed|recovered|error
  urgent   INTEGER NOT NULL DEFAULT 0, -- 1: skips pooling and hold-off (cracking alerts, process deaths)
  subject  TEXT NOT NULL,            -- path, log file or PID file, printable (escaped)
  section  TEXT NOT NULL DEFAULT '', -- log channel: report section title
  text     TEXT NOT NULL,            -- the report line(s), printable (escaped)
  details  TEXT NOT NULL DEFAULT '{}', -- JSON object for machine-readable sinks
  mailed   INTEGER                   -- time the mail holding it was accepted; NULL = pending
);
CREATE INDEX IF NOT EXISTS events_unmailed ON events (channel, id) WHERE mailed IS NULL;

-- Every delivery attempt of a mail, for --status and the retry backoff.
CREATE TABLE IF NOT EXISTS mails (
  id      INTEGER PRIMARY KEY,
  time    INTEGER NOT NULL,
  events  INTEGER NOT NULL,
  ok      INTEGER NOT NULL,
  error   TEXT NOT NULL DEFAULT ''
);

-- ==== scan (file integrity) ====================================================
-- One row per file system entry under the configured areas. path is the raw bytes.
CREATE TABLE IF NOT EXISTS entries (
  path     BLOB PRIMARY KEY,
  type     TEXT NOT NULL,            -- file|dir|symlink|fifo|socket|chardev|blockdev
  mode     INTEGER NOT NULL,
  uid      INTEGER NOT NULL,
  gid      INTEGER NOT NULL,
  size     INTEGER NOT NULL,
  ino      INTEGER NOT NULL,
  nlink    INTEGER NOT NULL,
  mtime    INTEGER NOT NULL,         -- nanoseconds
  ctime    INTEGER NOT NULL,         -- nanoseconds
  target   BLOB,                     -- symlink target
  hash     TEXT,                     -- 'algo:hex' for regular files
  checked  INTEGER NOT NULL,         -- last time this entry was verified
  cycle    INTEGER NOT NULL DEFAULT 0 -- traversal cycle that last visited it
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_checked ON entries (checked);

-- The traversal queue: entries still to visit in this cycle, drawn by rnd.
CREATE TABLE IF NOT EXISTS pending (
  path BLOB PRIMARY KEY,
  rnd  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pending_rnd ON pending (rnd);

-- Every change ever found: for --status and later tools.
CREATE TABLE IF NOT EXISTS history (
  id     INTEGER PRIMARY KEY,
  time   INTEGER NOT NULL,
  path   BLOB NOT NULL,
  kind   TEXT NOT NULL,              -- new|changed|deleted
  before TEXT,                       -- JSON of the old attributes
  after  TEXT                        -- JSON of the new attributes
);

-- ==== logs (tailer) ============================================================
CREATE TABLE IF NOT EXISTS logs (
  path        TEXT PRIMARY KEY,
  dev         INTEGER NOT NULL DEFAULT 0,
  ino         INTEGER NOT NULL DEFAULT 0,
  offset      INTEGER NOT NULL DEFAULT 0,
  fingerprint BLOB,                  -- the first bytes of the file, to tell a new file from the old one
  missing     INTEGER NOT NULL DEFAULT 0,
  updated     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- ==== pids (process watch) =====================================================
CREATE TABLE IF NOT EXISTS pids (
  pidfile  TEXT PRIMARY KEY,
  pidct    INTEGER NOT NULL,
  pid      INTEGER,                  -- as read from the PID file (namespace PID)
  hostpid  INTEGER,
  start    INTEGER,                  -- start time in clock ticks since boot (/proc/PID/stat field 22)
  boot     INTEGER,                  -- boot time (btime), to tell a reboot from a restart
  name     TEXT,
  state    TEXT NOT NULL,            -- ok|died|zombie|missing|bad
  since    INTEGER NOT NULL,
  detail   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
