# wisp_module(NAME [DEPENDS module...] [LIBS target...] [PUBLIC_LIBS target...])
#
# LIBS are private to the module; PUBLIC_LIBS appear in its headers (only the
# json module does that, for its DOM).
#
# Declares one module under src/NAME as the library wisp_NAME. A module may
# depend only on modules below it in WISP_LAYERS; a dependency that points up
# fails the configure step. tools/check_layering.py checks the same rule on
# #include lines, so neither the link graph nor the sources can cheat.
set(WISP_LAYERS util json http store whisk apps/stackoverflow cli)

function(wisp_module name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;LIBS;PUBLIC_LIBS" ${ARGN})
  list(FIND WISP_LAYERS ${name} own_rank)
  if(own_rank EQUAL -1)
    message(FATAL_ERROR "wisp_module(${name}): not a layer in WISP_LAYERS")
  endif()
  foreach(dep IN LISTS ARG_DEPENDS)
    list(FIND WISP_LAYERS ${dep} dep_rank)
    if(dep_rank EQUAL -1 OR NOT dep_rank LESS own_rank)
      message(FATAL_ERROR "wisp_module(${name}) may not depend on '${dep}': modules link only downward (${WISP_LAYERS})")
    endif()
  endforeach()

  string(REPLACE "/" "_" target_suffix ${name})
  set(target wisp_${target_suffix})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  list(FILTER sources EXCLUDE REGEX "_test\\.cc$")
  list(FILTER sources EXCLUDE REGEX "/main\\.cc$")

  set(dep_targets "")
  foreach(dep IN LISTS ARG_DEPENDS)
    string(REPLACE "/" "_" dep_suffix ${dep})
    list(APPEND dep_targets wisp_${dep_suffix})
  endforeach()

  if(sources)
    add_library(${target} STATIC ${sources})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${target} PUBLIC ${dep_targets} ${ARG_PUBLIC_LIBS} PRIVATE ${ARG_LIBS})
  else()
    # A module that has no code yet still holds its place in the layering.
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${target} INTERFACE ${dep_targets} ${ARG_PUBLIC_LIBS})
  endif()
  add_library(wisp::${target_suffix} ALIAS ${target})
endfunction()
