# The library's sources and flags from native/sources.mk, the list native/Makefile includes:
# CMakeLists.txt and the Zephyr module (zephyr/CMakeLists.txt) use this file, so no second list
# can drift from the Makefile's.

# Reads sources.mk's `NAME = value` lines into EDGECNN_MK_<NAME> (a list of the value's words).
function(edgecnn_read_sources_mk native_dir)
  file(STRINGS "${native_dir}/sources.mk" lines REGEX "^[A-Za-z0-9_/]+[ \t]*=")
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "^([A-Za-z0-9_/]+)[ \t]*=(.*)$")
      continue()
    endif()
    set(name "${CMAKE_MATCH_1}")
    string(STRIP "${CMAKE_MATCH_2}" value)
    if(value MATCHES "[$]")
      message(FATAL_ERROR "${native_dir}/sources.mk: ${name} refers to another variable; keep its lines plain words")
    endif()
    separate_arguments(words UNIX_COMMAND "${value}")
    set(EDGECNN_MK_${name} "${words}" PARENT_SCOPE)
  endforeach()
endfunction()

# The library version, from src/core/version.c (ecnn_version()).
function(edgecnn_read_version native_dir out_var)
  file(READ "${native_dir}/src/core/version.c" text)
  if(NOT text MATCHES "return \"([0-9]+\\.[0-9]+\\.[0-9]+)\"")
    message(FATAL_ERROR "${native_dir}/src/core/version.c: no `return \"X.Y.Z\"` in ecnn_version()")
  endif()
  set(${out_var} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

# The .c files of the given src/ directories (relative to src/), sorted as the Makefile sorts them.
function(edgecnn_glob_sources native_dir out_var)
  set(files "")
  foreach(dir IN LISTS ARGN)
    file(GLOB found "${native_dir}/src/${dir}/*.c")
    list(APPEND files ${found})
  endforeach()
  list(SORT files)
  set(${out_var} "${files}" PARENT_SCOPE)
endfunction()

# The architecture family of the C compiler's target (sources.mk: ISA_FAMILIES, MACHINES_<family>),
# from `cc -dumpmachine` as the Makefile; "" for a compiler without it (the portable build).
function(edgecnn_isa_family out_var)
  execute_process(COMMAND "${CMAKE_C_COMPILER}" -dumpmachine OUTPUT_VARIABLE machine
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
  set(family "")
  if(NOT failed)
    foreach(candidate IN LISTS EDGECNN_MK_ISA_FAMILIES)
      foreach(pattern IN LISTS EDGECNN_MK_MACHINES_${candidate})
        string(REPLACE "%" ".*" regex "${pattern}")
        if(machine MATCHES "^${regex}$" AND family STREQUAL "")
          set(family "${candidate}")
        endif()
      endforeach()
    endforeach()
  endif()
  set(${out_var} "${family}" PARENT_SCOPE)
endfunction()
