# Fuzz targets (issue 7), included from tests/CMakeLists.txt.
#
# Each target NAME is tests/fuzz/NAME_fuzzer.cc, with its seed corpus in
# tests/fuzz/corpus/NAME/ and an optional libFuzzer dictionary NAME.dict.
#
# -DNENEP_FUZZ=ON: NAME_fuzzer is a libFuzzer executable (see
#   cmake/nenep_sanitizers.cmake for the flags); `ninja nenep_fuzzers`
#   builds them all, tools/run-sanitizers.sh fuzz runs them.
# Otherwise: NAME_fuzzer is an ordinary executable whose main
#   (fuzz_replay_main.cc) replays the seed corpus through
#   LLVMFuzzerTestOneInput, so ordinary builds keep the targets compiling
#   and the corpus passing.
# Either way ctest runs the corpus as the test fuzz_NAME_corpus (label unit).

set(NENEP_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
add_custom_target(nenep_fuzzers)

function(nenep_fuzz_target NAME)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  set(exe ${NAME}_fuzzer)
  set(corpus ${NENEP_FUZZ_DIR}/corpus/${NAME})
  if(NENEP_FUZZ)
    add_executable(${exe} ${NENEP_FUZZ_DIR}/${NAME}_fuzzer.cc)
    target_link_options(${exe} PRIVATE -fsanitize=fuzzer)
    # -runs=0: execute every corpus input once, then stop.
    add_test(NAME fuzz_${NAME}_corpus COMMAND ${exe} -runs=0 ${corpus})
  else()
    add_executable(${exe} ${NENEP_FUZZ_DIR}/${NAME}_fuzzer.cc
                   ${NENEP_FUZZ_DIR}/fuzz_replay_main.cc)
    add_test(NAME fuzz_${NAME}_corpus COMMAND ${exe} ${corpus})
  endif()
  target_include_directories(${exe} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${exe} PRIVATE ${ARG_DEPS})
  set_tests_properties(fuzz_${NAME}_corpus PROPERTIES LABELS unit TIMEOUT 120)
  add_dependencies(nenep_fuzzers ${exe})
endfunction()

nenep_fuzz_target(import_line
  DEPS nenep::cli nenep::services_common nenep::api_proto)
nenep_fuzz_target(validation
  DEPS nenep::services_common nenep::api_proto nenep::log)
nenep_fuzz_target(log_format
  DEPS nenep::log nenep::storage_proto)
nenep_fuzz_target(merkle_proof
  DEPS nenep::audit)

# Writes the binary seeds of tests/fuzz/corpus (not built by default):
#   ninja nenep_fuzz_make_seeds &&
#   ./tests/nenep_fuzz_make_seeds tools/demo/demo.jsonl tests/fuzz/corpus
add_executable(nenep_fuzz_make_seeds EXCLUDE_FROM_ALL
               ${NENEP_FUZZ_DIR}/make_seeds.cc)
target_include_directories(nenep_fuzz_make_seeds PRIVATE ${PROJECT_SOURCE_DIR})
target_link_libraries(nenep_fuzz_make_seeds PRIVATE nenep::api_proto
                      nenep::storage_proto nenep::log protobuf::libprotobuf)
