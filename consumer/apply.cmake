# cdc_apply: event -> version-checked Redis scripts, pipelined (cdc_apply),
# routed to one Redis or the masters of a Redis Cluster (cdc_rcluster:
# nodes and topology; cdc_rcluster_run: the pipelined run with redirects
# and WAIT; cdc_rcluster_parse: key slots and reply parsing),
# the Redis connection (cdc_rsink) and the Lua scripts (lua/*.lua, embedded
# at configure time into cdc_scripts_lua.inc so the .lua files stay the one
# source: redis-benchmark and redis-cli --eval can run them as they are).

set(CDC_APPLY_LUA edge idem purge ipurge)
set(CDC_APPLY_LUA_INC ${CMAKE_CURRENT_BINARY_DIR}/cdc_scripts_lua.inc)
set(_cdc_lua_out "/* generated from consumer/lua/cdc_NAME.lua by apply.cmake: do not edit */\n")
foreach(s ${CDC_APPLY_LUA})
  set(_f ${CMAKE_CURRENT_SOURCE_DIR}/lua/cdc_${s}.lua)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_f})
  file(READ ${_f} _hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _hex "${_hex}")
  string(APPEND _cdc_lua_out "static const char scripts_${s}_lua[] = {${_hex}0x00};\n")
endforeach()
file(WRITE ${CDC_APPLY_LUA_INC}.tmp "${_cdc_lua_out}")
configure_file(${CDC_APPLY_LUA_INC}.tmp ${CDC_APPLY_LUA_INC} COPYONLY)

add_library(cdc_apply STATIC
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_apply.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_apply_map.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_apply_sweep.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_rcluster.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_rcluster_parse.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_rcluster_run.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_rloss.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_rsink.c
  ${CMAKE_CURRENT_SOURCE_DIR}/cdc_scripts.c)
target_include_directories(cdc_apply PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}
                           PRIVATE ${CMAKE_CURRENT_BINARY_DIR})
# TLS to Redis: OpenSSL (hiredis 0.14 has no TLS; cdc_rsink does it)
pkg_check_modules(OPENSSL REQUIRED IMPORTED_TARGET openssl)
target_link_libraries(cdc_apply PUBLIC cdc_common PkgConfig::HIREDIS
                      PkgConfig::JANSSON PkgConfig::OPENSSL)
