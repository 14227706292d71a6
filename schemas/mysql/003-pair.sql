-- followcdc: the pair-table model (MySQL 8 / MariaDB 10.5+), for apps that
-- store a relationship once per pair instead of once per direction. The
-- consumer reads it with follow.model=pair (docs/consumer.md); the producer
-- captures it like any table (source.tables=friendship,idempotent_log and
-- source.keys=friendship:user_a,user_b). Redis gets the same keys as from
-- `follow` (schemas/redis.md, "Pair tables").

CREATE TABLE IF NOT EXISTS friendship (
  id          BIGINT UNSIGNED  NOT NULL AUTO_INCREMENT,
  -- one row per pair, the smaller id first
  user_a      BIGINT UNSIGNED  NOT NULL,
  user_b      BIGINT UNSIGNED  NOT NULL,
  -- bit 1 = a follows b, bit 2 = b follows a (3 = friends); other bits are
  -- the app's own (e.g. 4 = blocked) and ignored by followcdc
  relation    TINYINT UNSIGNED NOT NULL DEFAULT 0,
  version     BIGINT UNSIGNED  NOT NULL DEFAULT 1,
  -- optional: when each direction started (follow.col.time.ab=a_since,
  -- follow.col.time.ba=b_since); without them both directions are scored
  -- by updated_at, which every write to the row moves
  a_since     DATETIME(3)      NULL,
  b_since     DATETIME(3)      NULL,
  created_at  DATETIME(3)      NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at  DATETIME(3)      NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                               ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uk_friendship_pair (user_a, user_b),
  KEY idx_friendship_b (user_b, relation),
  CONSTRAINT ck_friendship_order CHECK (user_a < user_b)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The writes (a < b). The row lock serializes two users following each
-- other at the same instant, so the row ends at 3 whatever the order:
--
--   a follows b:    INSERT INTO friendship (user_a, user_b, relation, a_since)
--                   VALUES (a, b, 1, NOW(3)) ON DUPLICATE KEY UPDATE
--                     a_since = IF(relation & 1, a_since, NOW(3)),
--                     relation = relation | 1, version = version + 1;
--   b follows a:    the same with bit 2 and b_since
--   a unfollows b:  UPDATE friendship SET relation = relation & ~1,
--                     a_since = NULL, version = version + 1
--                   WHERE user_a = a AND user_b = b;
--   forget the pair: DELETE FROM friendship WHERE user_a = a AND user_b = b;
--
-- (In ON DUPLICATE KEY UPDATE the assignments run left to right and see
-- the new values: set a_since before relation.)

-- The producer reads the table in its snapshot.
GRANT SELECT ON followcdc.friendship TO 'followcdc_producer'@'%';
