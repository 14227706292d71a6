-- Least-privilege accounts for followcdc. Replace the passwords (or create
-- the users with your own authentication plugin) before running this.
-- The database name `followcdc` is the default; change it to yours.

-- Producer: reads the binlog as a replica and snapshots the two tables.
--   REPLICATION SLAVE     : COM_BINLOG_DUMP (stream the binlog)
--   REPLICATION CLIENT    : SHOW MASTER STATUS / SHOW BINARY LOGS (MySQL 8,
--                           MariaDB < 10.5; on MariaDB >= 10.5 this is
--                           BINLOG MONITOR, granted by the same name alias)
--   SELECT                : the consistent snapshot and column metadata
--   RELOAD is NOT needed  : the snapshot takes no global read lock.
CREATE USER IF NOT EXISTS 'followcdc_producer'@'%' IDENTIFIED BY 'change-me-producer';
GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'followcdc_producer'@'%';
GRANT SELECT ON followcdc.follow TO 'followcdc_producer'@'%';
GRANT SELECT ON followcdc.idempotent_log TO 'followcdc_producer'@'%';

-- Consumer: only the TTL reaper touches MySQL. It deletes expired rows of
-- idempotent_log; its DELETE reads only the status and created_at columns
-- (WHERE and ORDER BY), so SELECT is granted on those two alone (rename
-- them here too when idem.col.status / idem.col.created differ).
CREATE USER IF NOT EXISTS 'followcdc_consumer'@'%' IDENTIFIED BY 'change-me-consumer';
GRANT SELECT (status, created_at), DELETE ON followcdc.idempotent_log TO 'followcdc_consumer'@'%';

-- Producer with repair.signal.table (schemas/mysql/001-tables.sql): it
-- writes watermarks and the progress of requests, and deletes watermarks.
GRANT SELECT, INSERT, UPDATE, DELETE ON followcdc.followcdc_signal TO 'followcdc_producer'@'%';
-- Whoever files requests (followcdc-verify --repair, an operator):
--   GRANT INSERT ON followcdc.followcdc_signal TO '<that account>'@'%';

-- followcdc-verify: reads both tables in consistent snapshots (SELECT;
-- SHOW STATUS LIKE 'binlog_snapshot_%' and BINLOG_GTID_POS() need nothing
-- more). It writes nothing.
CREATE USER IF NOT EXISTS 'followcdc_verify'@'%' IDENTIFIED BY 'change-me-verify';
GRANT SELECT ON followcdc.follow TO 'followcdc_verify'@'%';
GRANT SELECT ON followcdc.idempotent_log TO 'followcdc_verify'@'%';
-- only for followcdc-verify --repair (it files repair requests):
GRANT INSERT ON followcdc.followcdc_signal TO 'followcdc_verify'@'%';
