# Asserts that a static library calls nothing of libseccomp: the sandbox library of a build
# with embedded seccomp programs must not (a run never compiles a filter).
#   cmake -DNM=nm -DLIB=libcontainer_lite_sandbox.a -P no_libseccomp.cmake
execute_process(COMMAND ${NM} -u ${LIB} OUTPUT_VARIABLE undefined RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -u ${LIB} failed (${rc})")
endif()
# libseccomp's whole API is seccomp_*; the sandbox's own names are cl_sbx_seccomp_*.
string(REGEX MATCHALL "[ \t]U[ \t]+seccomp_[A-Za-z0-9_]+" calls "${undefined}")
if(calls)
  message(FATAL_ERROR "${LIB} calls libseccomp: ${calls}")
endif()
string(REGEX MATCHALL "[ \t]U[ \t]+" all "${undefined}")
list(LENGTH all n)
if(n EQUAL 0)
  message(FATAL_ERROR "${NM} listed no undefined symbol in ${LIB}: nothing was checked")
endif()
message(STATUS "${LIB}: ${n} undefined symbols, none of libseccomp")
