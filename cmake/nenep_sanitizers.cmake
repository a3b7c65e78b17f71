# Sanitizer and fuzzing build options (issue 7). Included from the top-level
# CMakeLists.txt before any target, so the flags reach every target.
#
#   -DNENEP_SANITIZE=address  AddressSanitizer + UndefinedBehaviorSanitizer
#                             (LeakSanitizer included), no recovery from UB.
#   -DNENEP_SANITIZE=thread   ThreadSanitizer, with the absl::Mutex
#                             annotations of tests/sanitizers/ (below).
#   -DNENEP_FUZZ=ON           libFuzzer targets (tests/fuzz): everything is
#                             built with ASan + UBSan and coverage
#                             instrumentation (-fsanitize=fuzzer-no-link);
#                             only the fuzzer executables link libFuzzer.
#
# tools/run-sanitizers.sh builds and runs all three. Debian's gRPC,
# Protobuf, RocksDB and Abseil libraries are not instrumented: ASan and
# UBSan work with that (their code is simply not checked); see
# tests/sanitizers/ for ThreadSanitizer.

set(NENEP_SANITIZE "" CACHE STRING
    "Sanitizers for every target: \"\", \"address\" (ASan+UBSan) or \"thread\" (TSan)")
set_property(CACHE NENEP_SANITIZE PROPERTY STRINGS "" address thread)
option(NENEP_FUZZ "Build the libFuzzer targets of tests/fuzz (clang only)" OFF)

if(NOT NENEP_SANITIZE STREQUAL "" AND NOT NENEP_SANITIZE STREQUAL "address"
   AND NOT NENEP_SANITIZE STREQUAL "thread")
  message(FATAL_ERROR
    "NENEP_SANITIZE must be empty, \"address\" or \"thread\", not \"${NENEP_SANITIZE}\"")
endif()
if(NENEP_FUZZ AND NENEP_SANITIZE STREQUAL "thread")
  message(FATAL_ERROR "NENEP_FUZZ=ON uses ASan; it cannot be combined with "
                      "NENEP_SANITIZE=thread")
endif()
if((NENEP_FUZZ OR NOT NENEP_SANITIZE STREQUAL "")
   AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "NENEP_SANITIZE and NENEP_FUZZ need clang "
                      "(-DCMAKE_CXX_COMPILER=clang++-14)")
endif()

# ASan + UBSan: UB aborts (no recovery) so that ctest sees it as a failure.
set(NENEP_ASAN_FLAGS -fsanitize=address,undefined
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)

if(NENEP_FUZZ)
  # Coverage instrumentation in every library the fuzzers link, so that
  # libFuzzer is guided by the project's code and not only by the targets.
  add_compile_options(${NENEP_ASAN_FLAGS} -fsanitize=fuzzer-no-link)
  add_link_options(${NENEP_ASAN_FLAGS})
  message(STATUS "nenep: fuzzing build (ASan + UBSan + libFuzzer)")
elseif(NENEP_SANITIZE STREQUAL "address")
  add_compile_options(${NENEP_ASAN_FLAGS})
  add_link_options(${NENEP_ASAN_FLAGS})
  message(STATUS "nenep: AddressSanitizer + UndefinedBehaviorSanitizer build")
elseif(NENEP_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  message(STATUS "nenep: ThreadSanitizer build")

  # Debian's Abseil is not instrumented: TSan would not see absl::Mutex
  # synchronize (the project's or gRPC's) and would report every guarded
  # access as a race. Every executable carries tests/sanitizers/
  # tsan_absl_sync.cc, whose own absl::Mutex, CondVar and Notification
  # functions (exported, so that they take precedence for every library of
  # the process) annotate the library's for TSan.
  add_library(nenep_tsan_absl_sync OBJECT
              ${PROJECT_SOURCE_DIR}/tests/sanitizers/tsan_absl_sync.cc)
  target_link_libraries(nenep_tsan_absl_sync PUBLIC absl::synchronization
                        absl::time ${CMAKE_DL_LIBS})
  # It reads the waiters' stacks from other threads on purpose.
  target_compile_options(nenep_tsan_absl_sync PRIVATE -fno-sanitize=thread)
  foreach(class 5Mutex 7CondVar 12Notification)
    add_link_options(
      "$<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:LINKER:--export-dynamic-symbol=_ZN*4absl*${class}*>")
  endforeach()
  # Every target from here on links its object (directly, so that it comes
  # before Abseil's shared library).
  link_libraries(nenep_tsan_absl_sync)
endif()
