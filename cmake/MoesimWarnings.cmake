# Warnings for project code: on everywhere, errors unless MOESIM_WERROR=OFF.
option(MOESIM_WERROR "Treat warnings in project code as errors" ON)

function(moesim_set_warnings target)
  set(flags -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
            -Wnon-virtual-dtor -Woverloaded-virtual)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    list(APPEND flags
         # GCC 12 false positive on std::string concatenation (GCC PR 105651).
         -Wno-restrict
         # GCC 12 middle-end false positive inside yaml-cpp 0.7's node/impl.h.
         -Wno-dangling-pointer)
  endif()
  if(MOESIM_WERROR)
    list(APPEND flags -Werror)
  endif()
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${flags}>)
  if(MOESIM_WERROR)
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CUDA>:--Werror=all-warnings -Xcompiler=-Wall,-Wextra,-Werror>)
  endif()
endfunction()
