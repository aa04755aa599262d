# Sanitizer builds are one option away: -DWISP_ASAN=ON or -DWISP_TSAN=ON.
if(WISP_ASAN AND WISP_TSAN)
  message(FATAL_ERROR "WISP_ASAN and WISP_TSAN cannot be combined")
endif()
# WISP_SANITIZER_FLAGS: what a program linked against this tree's libraries
# needs too (the `cpp` kind compiles actions against the SDK, src/whisk).
set(WISP_SANITIZER_FLAGS "")
if(WISP_ASAN)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  set(WISP_SANITIZER_FLAGS "-fsanitize=address,undefined")
endif()
if(WISP_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  set(WISP_SANITIZER_FLAGS "-fsanitize=thread")
endif()
if(WISP_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "WISP_FUZZ needs clang: configure with CXX=clang++-14")
  endif()
  # Every library is instrumented for coverage; the fuzz binaries add the libFuzzer main.
  # Undefined behaviour stops the run, so libFuzzer records it as a crash.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
