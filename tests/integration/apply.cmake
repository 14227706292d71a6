# cdc_apply programs run by integration/0030..0034-*.sh against a private
# Redis (H_REDIS_PORT from tests/lib/harness.sh).
add_library(apply_testlib STATIC ${CMAKE_CURRENT_LIST_DIR}/apply_testlib.c)
target_link_libraries(apply_testlib PUBLIC cdc_apply)
target_include_directories(apply_testlib PUBLIC ${CMAKE_CURRENT_LIST_DIR})

# semantics of each script (cmocka)
add_executable(apply_redis ${CMAKE_CURRENT_LIST_DIR}/apply_redis.c)
target_link_libraries(apply_redis PRIVATE apply_testlib PkgConfig::CMOCKA)
# random histories with duplicates, replays and interleavings vs a model
add_executable(apply_prop ${CMAKE_CURRENT_LIST_DIR}/apply_prop.c)
target_link_libraries(apply_prop PRIVATE apply_testlib)
# restart (kill -9) scenario, benchmark, script source printer
add_executable(apply_tool ${CMAKE_CURRENT_LIST_DIR}/apply_tool.c)
target_link_libraries(apply_tool PRIVATE apply_testlib)
# several sources, both table models (edge rows, pair rows), moves
add_executable(apply_sources_prop ${CMAKE_CURRENT_LIST_DIR}/apply_sources_prop.c)
target_link_libraries(apply_sources_prop PRIVATE apply_testlib)
