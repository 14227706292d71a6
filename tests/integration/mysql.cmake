# MariaDB integration programs (owned by the test harness area).
# mariadb_rpl_read: binlog stream through Connector/C's mariadb_rpl_* API,
# used by 0001-mariadb-rpl.sh.
add_executable(mariadb_rpl_read ${CMAKE_CURRENT_LIST_DIR}/mariadb_rpl_read.c)
target_link_libraries(mariadb_rpl_read PRIVATE PkgConfig::MARIADB)
# mysql_probe: one connection through common/cdc_mysql (TLS modes, SHOW
# BINARY LOG STATUS fallback), used by 0091-mysql-tls.sh.
add_executable(mysql_probe ${CMAKE_CURRENT_LIST_DIR}/mysql_probe.c)
target_link_libraries(mysql_probe PRIVATE cdc_mysql)
