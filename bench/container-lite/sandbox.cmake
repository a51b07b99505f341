# The sandbox's startup benchmark helper (included from bench/CMakeLists.txt); the
# comparison with crun and bwrap is sandbox_startup.sh.
add_executable(cl-bench-sandbox-startup ${CMAKE_CURRENT_LIST_DIR}/sandbox_startup.c)
target_link_libraries(cl-bench-sandbox-startup PRIVATE container_lite_sandbox)
