# What every tta Node-API addon shares, included by each addon's CMakeLists.txt (native/ and
# packages/tfjs-backend-native/): the Node-API settings, the sanitizer builds and the one
# static library of shared C++ (src/common: the thread pool, argument checks, PromiseWorker),
# compiled once per addon build rather than copied.
#
#   execute_process(... require('node-addon-api').include_dir ... OUTPUT_VARIABLE NODE_ADDON_API_DIR)
#   include(<path to native>/src/common/tta.cmake)
#   add_library(my_addon SHARED ...)
#   tta_addon(my_addon)
include_guard(GLOBAL)

# One source of truth for the Node-API version: the including package's binary.napi_versions.
file(READ "${CMAKE_CURRENT_SOURCE_DIR}/package.json" TTA_PACKAGE_JSON)
string(JSON TTA_NAPI_VERSION GET "${TTA_PACKAGE_JSON}" binary napi_versions 0)
# C++ exceptions of every kind (std::bad_alloc included) become JavaScript errors rather
# than terminating the process.
add_compile_definitions(NAPI_VERSION=${TTA_NAPI_VERSION} NAPI_CPP_EXCEPTIONS NODE_ADDON_API_CPP_EXCEPTIONS_ALL
  NODE_ADDON_API_DISABLE_DEPRECATED)

if(NOT NODE_ADDON_API_DIR)
  message(FATAL_ERROR "tta.cmake: set NODE_ADDON_API_DIR (node-addon-api's include_dir, relative to the package) first")
endif()

find_package(Threads REQUIRED)

set(TTA_SANITIZE "" CACHE STRING "Sanitizer build: address (ASan + UBSan) or thread (TSan)")

# Optimisation or sanitizer flags and warnings, the same for the addon and the library it links.
function(tta_compile_options target)
  if(TTA_SANITIZE STREQUAL "address" OR TTA_SANITIZE STREQUAL "ON")
    target_compile_options(${target} PRIVATE -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  elseif(TTA_SANITIZE STREQUAL "thread")
    target_compile_options(${target} PRIVATE -O1 -g -fno-omit-frame-pointer -fsanitize=thread)
    target_link_options(${target} PRIVATE -fsanitize=thread)
  elseif(TTA_SANITIZE)
    message(FATAL_ERROR "TTA_SANITIZE must be address or thread, not ${TTA_SANITIZE}")
  else()
    target_compile_options(${target} PRIVATE -O3)
  endif()
  target_compile_options(${target} PRIVATE -fexceptions -ffp-contract=off -Wall -Wextra -Wno-unused-parameter)
endfunction()

add_library(tta_common STATIC "${CMAKE_CURRENT_LIST_DIR}/common.cc")
target_include_directories(tta_common PUBLIC "${CMAKE_CURRENT_LIST_DIR}" ${CMAKE_JS_INC}
  "${CMAKE_CURRENT_SOURCE_DIR}/${NODE_ADDON_API_DIR}")
target_link_libraries(tta_common PUBLIC Threads::Threads)
tta_compile_options(tta_common)

# A Node-API addon: a .node module linking the shared library.
function(tta_addon target)
  set_target_properties(${target} PROPERTIES PREFIX "" SUFFIX ".node")
  target_link_libraries(${target} PRIVATE tta_common ${CMAKE_JS_LIB})
  tta_compile_options(${target})
endfunction()
