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
