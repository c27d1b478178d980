# Cross builds only (included by the top-level CMakeLists.txt when CMAKE_CROSSCOMPILING):
#   pith_simd_target   prints the Highway target the dispatcher picks under the emulator
#                      and checks one SGEMM; registered as the ctest `simd_target`.
#   pith_session_only  creates a Session and nothing else, every kernel registered: its
#                      stripped size is the whole runtime's footprint.
#   pith_run_artifact  a device's inference program (open a .pith, run it), every kernel.
#   pith_run_artifact_NAME  the same with only the kernels PITH_PROBE_OPS_DIR/NAME.ops
#                      lists (`pith inspect MODEL --kernels`): a selective build's footprint.
# scripts/test-aarch64.sh prints their stripped sizes and runs the artifact programs.
add_executable(pith_simd_target ${CMAKE_CURRENT_LIST_DIR}/simd_target.cpp)
target_link_libraries(pith_simd_target PRIVATE pith_runtime hwy::hwy)
add_test(NAME simd_target COMMAND pith_simd_target)

add_executable(pith_session_only ${CMAKE_CURRENT_LIST_DIR}/session_only.cpp)
target_link_libraries(pith_session_only PRIVATE pith_runtime)
target_link_options(pith_session_only PRIVATE -Wl,--gc-sections)

add_executable(pith_run_artifact ${CMAKE_CURRENT_LIST_DIR}/run_artifact.cpp)
target_link_libraries(pith_run_artifact PRIVATE pith_artifact)
target_link_options(pith_run_artifact PRIVATE -Wl,--gc-sections)

set(PITH_PROBE_OPS_DIR "" CACHE PATH "Folder of NAME.ops kernel lists, one selective probe each")
if(PITH_PROBE_OPS_DIR)
  file(GLOB probe_ops_files CONFIGURE_DEPENDS ${PITH_PROBE_OPS_DIR}/*.ops)
  foreach(ops_file IN LISTS probe_ops_files)
    get_filename_component(set_name ${ops_file} NAME_WE)
    pith_selected_registry(pith_registry_${set_name} ${ops_file})
    add_executable(pith_run_artifact_${set_name} ${CMAKE_CURRENT_LIST_DIR}/run_artifact.cpp)
    # The object library comes first on the link line, so the archive's full registry
    # is never pulled in.
    target_link_libraries(pith_run_artifact_${set_name} PRIVATE pith_registry_${set_name} pith_artifact)
    target_link_options(pith_run_artifact_${set_name} PRIVATE -Wl,--gc-sections)
  endforeach()
endif()
