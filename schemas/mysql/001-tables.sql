-- followcdc source tables (MySQL 8 / MariaDB 10.5+).
-- Real deployments may use other names: the producer and consumer map
-- tables and columns through configuration (see README, "Configuration").

CREATE TABLE IF NOT EXISTS follow (
  id          BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
  follower_id BIGINT UNSIGNED  NOT NULL,
  followee_id BIGINT UNSIGNED  NOT NULL,
  -- 1 = following, 0 = unfollowed (soft delete)
  status      TINYINT UNSIGNED NOT NULL DEFAULT 1,
  -- bumped by every write:
  --   INSERT ... ON DUPLICATE KEY UPDATE status = VALUES(status), version = version + 1
  version     BIGINT UNSIGNED  NOT NULL DEFAULT 1,
  created_at  DATETIME(3)      NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at  DATETIME(3)      NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                               ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uk_follow_edge (follower_id, followee_id),
  KEY idx_follow_followee (followee_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS idempotent_log (
  id          BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
  request_id  VARCHAR(128)     NOT NULL,
  biz_key     VARCHAR(255)     NOT NULL DEFAULT '',
  -- 1 = processing, 2 = succeeded, 3 = failed
  status      TINYINT UNSIGNED NOT NULL DEFAULT 1,
  version     BIGINT UNSIGNED  NOT NULL DEFAULT 1,
  created_at  DATETIME(3)      NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at  DATETIME(3)      NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                               ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uk_idem_request (request_id),
  -- lets the TTL reaper find expired rows of one status without a scan:
  --   WHERE status IN (...) AND created_at < ? ORDER BY created_at LIMIT n
  KEY idx_idem_status_created (status, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- followcdc signal table: repair and re-snapshot requests (docs/repair.md).
-- Optional: the producer reads it only when repair.signal.table names it.
-- A request is a row any tool (or plain SQL) inserts; the producer sees it
-- in the binlog, in order with the data, and keeps its progress in the row:
--
--   INSERT INTO followcdc_signal (kind, payload) VALUES ('users', '42,77');
--   INSERT INTO followcdc_signal (kind, payload) VALUES ('table', 'follow');
--
-- kind 'table': payload = a captured table, every row is re-read;
-- kind 'users': payload = comma separated user ids, every row of
--   repair.users.table (follow) where the user is follower or followee,
--   then the user's edges older than the repair that no row re-asserted
--   are removed from Redis.
-- state: new -> running -> done (or failed, progress = why); progress:
--   how far it got (a 'table' request: the last key done; 'users': the
--   number of users done). Rows of kind 'low' / 'high' are the producer's
--   watermarks (deleted once their chunk is acknowledged).
CREATE TABLE IF NOT EXISTS followcdc_signal (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  kind       VARCHAR(16)     NOT NULL,
  payload    MEDIUMTEXT      NOT NULL,
  state      VARCHAR(16)     NOT NULL DEFAULT 'new',
  progress   VARCHAR(255)    NOT NULL DEFAULT '',
  created_at DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                             ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY idx_signal_state (state, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
