# Helpers every component's tests use, so that skip codes, labels and fuzz targets are uniform.
#
#   insitu_add_test(NAME n COMMAND cmd... [LABELS l...] [TIMEOUT s] [WORKING_DIRECTORY d])
#       A ctest test; exit 77 means "skipped: this machine lacks a feature" (print why).
#   insitu_add_unit_test(n SOURCES s... [LIBS l...] [LABELS l...] [TIMEOUT s])
#       Builds one test program and registers it.
#   insitu_add_fuzzer(n SOURCES s... [LIBS l...] [CORPUS dir])
#       Fuzz build (INSITU_FUZZ): a libFuzzer binary run for INSITU_FUZZ_SECONDS over CORPUS.
#       Other builds: the same target linked with a replay driver that runs every file of
#       CORPUS once, so the seeds are exercised under the normal and sanitizer builds too.

function(insitu_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT;WORKING_DIRECTORY" "COMMAND;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  if(T_WORKING_DIRECTORY)
    add_test(NAME ${T_NAME} COMMAND ${T_COMMAND} WORKING_DIRECTORY ${T_WORKING_DIRECTORY})
  else()
    add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  endif()
  set_tests_properties(${T_NAME} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT ${T_TIMEOUT}
                       LABELS "${T_LABELS}")
  if(INSITU_SANITIZE OR INSITU_FUZZ)
    set_property(TEST ${T_NAME} APPEND PROPERTY ENVIRONMENT
      "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1"
      "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  endif()
endfunction()

function(insitu_add_unit_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS})
  insitu_add_test(NAME ${name} COMMAND ${name} LABELS ${T_LABELS} TIMEOUT ${T_TIMEOUT})
endfunction()

function(insitu_add_fuzzer name)
  cmake_parse_arguments(F "" "CORPUS" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${F_SOURCES})
  target_link_libraries(${name} PRIVATE ${F_LIBS})
  if(INSITU_FUZZ)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus)
    file(MAKE_DIRECTORY ${work})
    insitu_add_test(NAME fuzz.${name}
      COMMAND ${name} -max_total_time=${INSITU_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048
              -print_final_stats=1 ${work} ${F_CORPUS}
      LABELS fuzz TIMEOUT 900)
  else()
    target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/fuzz_replay.c)
    insitu_add_test(NAME fuzz-replay.${name} COMMAND ${name} ${F_CORPUS} LABELS fuzz-replay)
  endif()
endfunction()
