# nenepd's memory allocator. Included from the top-level CMakeLists.txt after
# nenep_sanitizers.cmake.
#
#   -DNENEP_JEMALLOC=ON (default)  nenepd links jemalloc (Debian 12's
#                                  libjemalloc-dev, which ships only the
#                                  static library), replacing glibc's malloc
#                                  in the whole process.
#   -DNENEP_JEMALLOC=OFF           glibc's malloc.
#
# Why: an append's bytes are allocated on a gRPC handler thread and freed on
# the log's syncer thread; glibc's malloc refills no thread cache that way and
# takes a lock per call. With jemalloc, batch appends run ~20 % faster and a
# national rebuild of the projections ~15 % faster at the same peak memory
# (docs/benchmarks.md, "The allocator"). Sanitizer and fuzzing builds keep
# their own allocator, so there jemalloc is never linked.
#
# Defines nenep::allocator: an interface target that nenepd links, which adds
# NENEP_JEMALLOC=1 to its compile definitions when jemalloc is in.

option(NENEP_JEMALLOC "Link nenepd with jemalloc (libjemalloc-dev)" ON)

add_library(nenep_allocator INTERFACE)
add_library(nenep::allocator ALIAS nenep_allocator)
if(NENEP_JEMALLOC AND NENEP_SANITIZE STREQUAL "" AND NOT NENEP_FUZZ)
  pkg_check_modules(JEMALLOC IMPORTED_TARGET jemalloc)
  if(NOT JEMALLOC_FOUND)
    message(FATAL_ERROR
      "jemalloc not found: install it with tools/setup.sh (Debian package "
      "libjemalloc-dev), or configure with -DNENEP_JEMALLOC=OFF to use "
      "glibc's malloc (slower appends; see docs/benchmarks.md)")
  endif()
  target_link_libraries(nenep_allocator INTERFACE PkgConfig::JEMALLOC
                        Threads::Threads ${CMAKE_DL_LIBS} m)
  target_compile_definitions(nenep_allocator INTERFACE NENEP_JEMALLOC=1)
  message(STATUS "nenepd allocator: jemalloc ${JEMALLOC_VERSION}")
else()
  message(STATUS "nenepd allocator: glibc malloc")
endif()
