# Installation and Debian packaging (included from the top CMakeLists.txt).
#
#   cmake --install build [--prefix DIR]     binaries, man pages, sample
#                                            configurations, systemd units
#   (cd build && cpack -G DEB)               followcdc_<v>_<arch>.deb and
#                                            followcdc-devbroker_<v>_<arch>.deb
#
# Components: "followcdc" (producer, consumer, verify and everything they
# need) and "devbroker" (the in-memory Kafka for development and tests,
# a package of its own so a production host never gets it).
# tests/deploy/deb.sh builds the packages, installs them and runs them.
include(GNUInstallDirs)

install(TARGETS followcdc-producer followcdc-consumer followcdc-verify
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT followcdc)
install(TARGETS followcdc-devbroker
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT devbroker)

# Man pages: hand-written roff in deploy/man/, gzipped as Debian wants them.
set(CDC_MAN_PAGES followcdc-producer.1 followcdc-consumer.1 followcdc-verify.1)
set(_cdc_man_gz)
foreach(m ${CDC_MAN_PAGES})
  add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/man/${m}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND gzip -9 -n -c ${CMAKE_CURRENT_LIST_DIR}/man/${m}
            > ${PROJECT_BINARY_DIR}/man/${m}.gz
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/man/${m}
    VERBATIM)
  list(APPEND _cdc_man_gz ${PROJECT_BINARY_DIR}/man/${m}.gz)
endforeach()
add_custom_target(man ALL DEPENDS ${_cdc_man_gz})
install(FILES ${_cdc_man_gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT followcdc)

install(FILES ${CMAKE_CURRENT_LIST_DIR}/producer.conf.sample
              ${CMAKE_CURRENT_LIST_DIR}/consumer.conf.sample
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT followcdc)

# systemd units: their paths depend on the prefix given at install time
# (cmake --install --prefix, or /usr when cpack builds the package), so
# they are written at install time, not at configure time.
install(CODE "
  set(_p \"\${CMAKE_INSTALL_PREFIX}\")
  foreach(_d BINDIR:${CMAKE_INSTALL_BINDIR} SAMPLEDIR:${CMAKE_INSTALL_DOCDIR}/examples)
    string(REPLACE \":\" \";\" _d \"\${_d}\")
    list(GET _d 0 _k)
    list(GET _d 1 _v)
    if(IS_ABSOLUTE \"\${_v}\")
      set(\${_k} \"\${_v}\")
    else()
      set(\${_k} \"\${_p}/\${_v}\")
    endif()
  endforeach()
  # as GNUInstallDirs: /usr keeps its configuration in /etc
  if(_p STREQUAL \"/usr\")
    set(CONFDIR /etc/followcdc)
  else()
    set(CONFDIR \"\${_p}/etc/followcdc\")
  endif()
  foreach(_u followcdc-producer.service followcdc-consumer.service)
    set(_out \"\$ENV{DESTDIR}\${_p}/lib/systemd/system/\${_u}\")
    message(STATUS \"Installing: \${_out}\")
    configure_file(\"${CMAKE_CURRENT_LIST_DIR}/systemd/\${_u}.in\" \"\${_out}\" @ONLY)
    list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${_out}\")
  endforeach()
" COMPONENT followcdc)

# ---- cpack -G DEB ----
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME followcdc)
set(CPACK_PACKAGE_VENDOR followcdc)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "followcdc maintainers <followcdc@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL followcdc devbroker)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Depends from the binaries' shared libraries (dpkg-shlibdeps)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FOLLOWCDC_PACKAGE_NAME followcdc)
set(CPACK_DEBIAN_DEVBROKER_PACKAGE_NAME followcdc-devbroker)
set(CPACK_COMPONENT_FOLLOWCDC_DESCRIPTION
  "MySQL/MariaDB binlog to Kafka to Redis change data capture
 followcdc-producer streams the binlog of a MySQL/MariaDB primary to Kafka
 as JSON change events; followcdc-consumer applies them to Redis as
 version-checked updates (following, followers, friends, idempotency
 records). Includes man pages, sample configurations and systemd units.")
set(CPACK_COMPONENT_DEVBROKER_DESCRIPTION
  "in-memory Kafka cluster for followcdc development and tests
 followcdc-devbroker runs librdkafka's mock cluster in a process of its
 own, with a control socket for fault injection. Not for production: it
 keeps everything in memory.")
include(CPack)
