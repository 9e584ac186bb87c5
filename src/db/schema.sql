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

-- The report queue: every event stays here until every sink has taken it, then
-- 30 days more (src/report/prune.ts).
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
-- the oldest pending urgent event, found without scanning a backlog
CREATE INDEX IF NOT EXISTS events_unmailed_urgent ON events (id) WHERE mailed IS NULL AND urgent = 1;
-- Events queued by a process that writes beside the daemon without the chain
-- key (the apt hook): the daemon moves them into events with their chain
-- entries (db/events.ts adoptInbox). Same columns as events, never mailed here.
CREATE TABLE IF NOT EXISTS events_inbox (
  id       INTEGER PRIMARY KEY,
  time     INTEGER NOT NULL,
  channel  TEXT NOT NULL CHECK (channel IN ('file', 'log', 'pid')),
  kind     TEXT NOT NULL,
  urgent   INTEGER NOT NULL DEFAULT 0,
  subject  TEXT NOT NULL,
  section  TEXT NOT NULL DEFAULT '',
  text     TEXT NOT NULL,
  details  TEXT NOT NULL DEFAULT '{}'
);

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
-- Scan state (cycle, speed, first pass...) lives in meta under 'scan.*' (see src/scan/cycle.ts).
CREATE TABLE IF NOT EXISTS entries (
  path     BLOB PRIMARY KEY,
  parent   BLOB NOT NULL,            -- path of the directory holding it ('' for an area root)
  type     TEXT NOT NULL,            -- file|dir|symlink|fifo|socket|chardev|blockdev|unknown
  mode     INTEGER NOT NULL,         -- permission bits incl. setuid/setgid/sticky (mode & 07777)
  uid      INTEGER NOT NULL,
  gid      INTEGER NOT NULL,
  size     INTEGER NOT NULL,
  ino      INTEGER NOT NULL,
  nlink    INTEGER NOT NULL,
  mtime    INTEGER NOT NULL,         -- nanoseconds
  ctime    INTEGER NOT NULL,         -- nanoseconds
  rdev     INTEGER NOT NULL DEFAULT 0, -- devices
  target   BLOB,                     -- symlink target
  hash     TEXT,                     -- 'algo:hex' for regular files (NULL until read)
  error    TEXT,                     -- current problem reading it (reported once), NULL = fine
  checked  INTEGER NOT NULL,         -- last time this entry was verified (ms)
  cycle    INTEGER NOT NULL DEFAULT 0 -- traversal cycle that last visited it
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_checked ON entries (checked);
CREATE INDEX IF NOT EXISTS entries_parent ON entries (parent);

-- The traversal queue: entries still to visit in this cycle, drawn by rnd
-- (random, reassigned by the periodic reshuffle).
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
CREATE INDEX IF NOT EXISTS history_path ON history (path);

-- ==== logs (tailer) ============================================================
-- One row per followed `log`, updated in the same transaction as the events
-- queued for its lines (src/logs/store.ts). uid and tailprint: schema version 2.
CREATE TABLE IF NOT EXISTS logs (
  path        TEXT PRIMARY KEY,
  dev         INTEGER NOT NULL DEFAULT 0,  -- the file followed (dev, ino); ino 0: none (missing)
  ino         INTEGER NOT NULL DEFAULT 0,
  offset      INTEGER NOT NULL DEFAULT 0,  -- bytes of that file classified (the next line starts here)
  size        INTEGER NOT NULL DEFAULT 0,  -- its size at the last commit
  fingerprint BLOB,                        -- its first bytes (<= 256), to tell a new file from the old one
  tailprint   BLOB,                        -- its last bytes (<= 256) before offset, to tell a file rewritten past the offset from the old one
  uid         INTEGER NOT NULL DEFAULT -1, -- its owner when last opened or read (-1: not known), to report a change of owner
  skipping    INTEGER NOT NULL DEFAULT 0,  -- 1: inside an over-long line already reported cut; skip to its newline
  missing     INTEGER NOT NULL DEFAULT 0,  -- 1: the path does not exist (notice queued once)
  updated     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- ==== journals (systemd journal sources, src/logs/journal/) ==================
-- One row per `journal` config line (source: its canonical text). cursor is
-- the last entry handled, committed in the same transaction as the events of
-- the entries up to it; '' : the journal was empty at first start (read it
-- from its beginning).
CREATE TABLE IF NOT EXISTS journals (
  source   TEXT PRIMARY KEY,
  cursor   TEXT NOT NULL DEFAULT '',
  realtime INTEGER NOT NULL DEFAULT 0,  -- __REALTIME_TIMESTAMP of that entry (µs since the epoch)
  entries  INTEGER NOT NULL DEFAULT 0,  -- entries handled since the first start
  problem  TEXT NOT NULL DEFAULT '',    -- the problem last noticed ('' : none), so a restart does not repeat it
  updated  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- ==== pids (process watch) =====================================================
-- Paths are raw bytes held one char per byte (latin1 decoding).
-- One row per configured pidfile path (a file or a directory): a path without a
-- row is new, and its PID files are recorded without reports (baseline).
CREATE TABLE IF NOT EXISTS pid_roots (
  root     TEXT PRIMARY KEY,
  pidct    INTEGER NOT NULL,
  added    INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per PID file. pid..seen describe the last process seen (kept after it
-- died, to name it in later reports); filepid is what the file held last.
CREATE TABLE IF NOT EXISTS pids (
  pidfile  TEXT PRIMARY KEY,
  root     TEXT NOT NULL,            -- the pid_roots entry it belongs to
  pidct    INTEGER NOT NULL,
  state    TEXT NOT NULL,            -- ok|zombie|died|missing|bad
  filepid  INTEGER,                  -- as read from the PID file (namespace PID)
  pid      INTEGER,
  hostpid  INTEGER,
  start    INTEGER,                  -- start time in clock ticks since boot (/proc/PID/stat field 22)
  started  INTEGER,                  -- the same as ms since the epoch (btime-based, for reports)
  boot     TEXT,                     -- boot id: with hostpid and start, the identity of the process
  name     TEXT,                     -- printable (escaped)
  seen     INTEGER,
  reason   TEXT NOT NULL DEFAULT '', -- state bad: why (empty|garbage|negative|range|symlink|...)
  detail   TEXT NOT NULL DEFAULT '',
  since    INTEGER NOT NULL,
  checked  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pids_root ON pids (root);

-- ==== rules (src/rules/cache.ts) ===============================================
-- Compiled rule sets: key = SHA-256 of the engine build, the level and the
-- selected rule files; value = zstd-compressed snapshot bytes (src/rules/snapshot.ts);
-- sum = their SHA-256, checked at every read. The last few written are kept.
CREATE TABLE IF NOT EXISTS rule_cache (
  key    TEXT PRIMARY KEY,
  sum    TEXT NOT NULL,
  value  BLOB NOT NULL,
  created INTEGER NOT NULL
);

-- Change hints (src/scan/hints/): each area's coverage as the daemon last
-- said it (live, degraded, off), with the backend and the reason; rewritten
-- at start and whenever it changes, read by --status and the mail footer.
CREATE TABLE IF NOT EXISTS hints (
  area     TEXT PRIMARY KEY,       -- printable path (util/escape.ts)
  backend  TEXT NOT NULL,          -- fanotify, inotify or none
  state    TEXT NOT NULL,          -- live, degraded or off
  reason   TEXT NOT NULL,
  updated  INTEGER NOT NULL        -- ms since the epoch
);
-- ==== packages (src/packages) ==================================================
-- What the package manager installed, by evidence. One row per package version
-- and kind of evidence: verified (the .deb's SHA-256 is listed in a Packages
-- index whose SHA-256 is in an InRelease that gpgv verified with the keyring
-- apt uses for that source), unverified (a .deb whose chain did not hold:
-- its files are known, never trusted) or md5-only (dpkg's md5sums, no .deb).
CREATE TABLE IF NOT EXISTS pkg_versions (
  id        INTEGER PRIMARY KEY,
  package   TEXT NOT NULL,
  version   TEXT NOT NULL,
  arch      TEXT NOT NULL,
  evidence  TEXT NOT NULL CHECK (evidence IN ('verified', 'unverified', 'md5-only')),
  deb       BLOB,                     -- SHA-256 of the .deb (32 bytes); NULL for md5-only
  key       TEXT NOT NULL DEFAULT '', -- fingerprint of the key that signed the InRelease (verified)
  origin    TEXT NOT NULL DEFAULT '', -- "URI SUITE" of the source entry (verified), or why not verified
  files     INTEGER NOT NULL DEFAULT 0, -- regular files in the manifest
  captured  INTEGER NOT NULL,
  UNIQUE (package, version, arch, evidence)
);
-- Every path a manifest names, stored once.
CREATE TABLE IF NOT EXISTS pkg_paths (
  id    INTEGER PRIMARY KEY,
  path  BLOB NOT NULL UNIQUE
);
-- The manifest: one row per path and package version. Hashes are raw bytes
-- (32 and 16); sha256 is NULL for md5-only rows and for non-files; mode holds
-- the type bits too (S_IFMT | permissions).
CREATE TABLE IF NOT EXISTS pkg_files (
  path      INTEGER NOT NULL,          -- pkg_paths.id
  version   INTEGER NOT NULL,          -- pkg_versions.id
  sha256    BLOB,
  md5       BLOB,
  mode      INTEGER NOT NULL,
  uid       INTEGER NOT NULL,
  gid       INTEGER NOT NULL,
  conffile  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (path, version)
) WITHOUT ROWID;
-- ==== chain (tamper evidence, src/chain) ========================================
-- A keyed hash chain over every event, scanner record change, retention prune
-- and mail sent: mac = HMAC-SHA256(key of the epoch, seq ‖ time ‖ kind ‖ hash ‖
-- previous mac) (src/chain/core.ts). The key is never in this database: it is
-- in its own file (config `chainkey`) and evolves at every seal.
CREATE TABLE IF NOT EXISTS chain (
  seq    INTEGER PRIMARY KEY,
  epoch  INTEGER NOT NULL,
  time   INTEGER NOT NULL,
  kind   TEXT NOT NULL,            -- genesis|event|record|drop|dropbelow|prune|mail|seal|start|skip
  ref    BLOB,                     -- event: the events id; record, drop, dropbelow: the path
  data   TEXT,                     -- the payload itself (JSON) for entries without a row elsewhere
  hash   BLOB NOT NULL,            -- SHA-256 of the payload
  mac    BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chain_mail ON chain (seq) WHERE kind = 'mail';
CREATE INDEX IF NOT EXISTS chain_seal ON chain (seq) WHERE kind = 'seal';
