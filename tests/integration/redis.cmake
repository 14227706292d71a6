# Redis integration programs (owned by the test harness area).
# redis_roundtrip: hiredis SET/GET, EVAL and pipelining, used by
# 0002-redis-roundtrip.sh.
add_executable(redis_roundtrip ${CMAKE_CURRENT_LIST_DIR}/redis_roundtrip.c)
target_link_libraries(redis_roundtrip PRIVATE PkgConfig::HIREDIS)
