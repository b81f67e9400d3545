# Compiler settings shared by every target: warnings, sanitizers, ccache.

find_program(TERRASYNTH_CCACHE ccache)
if(TERRASYNTH_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # Precompiled headers need this sloppiness to be cacheable.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${TERRASYNTH_CCACHE})
endif()

add_library(terrasynth_warnings INTERFACE)
target_compile_options(terrasynth_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter)
if(TERRASYNTH_WERROR)
  target_compile_options(terrasynth_warnings INTERFACE -Werror)
endif()

if(TERRASYNTH_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  # libtorch's CPU kernels are not built with the vptr checks' RTTI expectations.
  list(APPEND _san -fno-sanitize=vptr)
  add_compile_options(${_san})
  # GCC's -Wmaybe-uninitialized gives false positives inside libstdc++ (std::regex, std::function)
  # under the sanitizers' instrumentation; every other warning stays an error there too.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
  add_link_options(-fsanitize=address,undefined)
endif()
