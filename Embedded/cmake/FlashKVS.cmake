# Adds FlashKVS to an Embedded Swift firmware project built with CMake
# (3.29 or newer, Ninja generator): include() this file after project(),
# with the Swift target triple and the Embedded flags already set (see
# Embedded/CMakeLists.txt). Defines the static library target `FlashKVS`
# (Swift module FlashKVS) from FLASHKVS_CORE_DIR; link it into the Swift
# library that holds your firmware's code:
#
#   target_link_libraries(MyFirmwareSwift PUBLIC FlashKVS)
#
# Embedded Swift compiles the store's generic code where your code
# specializes it, so the FlashKVS library holds only its non-generic part.
if(NOT DEFINED FLASHKVS_CORE_DIR)
  set(FLASHKVS_CORE_DIR "${CMAKE_CURRENT_LIST_DIR}/../../Sources/FlashKVS")
endif()
file(GLOB_RECURSE FLASHKVS_SOURCES CONFIGURE_DEPENDS "${FLASHKVS_CORE_DIR}/*.swift")
add_library(FlashKVS STATIC ${FLASHKVS_SOURCES})

# Size setting (Docs/EMBEDDED.md, "Code size"): one trap instruction per
# function for all of its runtime checks instead of one per check, so a trap
# no longer tells which check of the function failed (the checks themselves
# all stay). PUBLIC, because the store's generic code is compiled in the
# module that uses it: your firmware's Swift code gets the flag too. About
# 0.1 kB of the minimal image; FLASHKVS_MERGEABLE_TRAPS=OFF keeps a trap per
# check.
option(FLASHKVS_MERGEABLE_TRAPS "Merge each function's runtime-check traps (smaller code)" ON)
if(FLASHKVS_MERGEABLE_TRAPS)
  target_compile_options(FlashKVS PUBLIC "$<$<COMPILE_LANGUAGE:Swift>:SHELL:-Xfrontend -mergeable-traps>")
endif()
