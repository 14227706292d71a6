# Deployment, packaging and documentation checks (label "deploy"): static
# but strict. tests/deploy/venv.sh installs their pinned Python tooling
# (requirements.txt) into <build>/deploy-venv from PyPI on first use.
set(CDC_DEPLOY_TESTS k8s compose compose-init healthcheck deb man docs)
foreach(t ${CDC_DEPLOY_TESTS})
  add_test(NAME deploy.${t}
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${t}.sh)
  set_tests_properties(deploy.${t} PROPERTIES LABELS deploy TIMEOUT 600
    ENVIRONMENT "CDC_BUILD_DIR=${PROJECT_BINARY_DIR};CDC_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endforeach()
