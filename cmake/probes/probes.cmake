# Cross builds only (included by the top-level CMakeLists.txt when CMAKE_CROSSCOMPILING):
#   pith_simd_target   prints the Highway target the dispatcher picks under the emulator
#                      and checks one SGEMM; registered as the ctest `simd_target`.
#   pith_session_only  creates a Session and nothing else: its stripped size is the
#                      runtime's footprint (scripts/test-aarch64.sh prints it).
add_executable(pith_simd_target ${CMAKE_CURRENT_LIST_DIR}/simd_target.cpp)
target_link_libraries(pith_simd_target PRIVATE pith_runtime hwy::hwy)
add_test(NAME simd_target COMMAND pith_simd_target)

add_executable(pith_session_only ${CMAKE_CURRENT_LIST_DIR}/session_only.cpp)
target_link_libraries(pith_session_only PRIVATE pith_runtime)
