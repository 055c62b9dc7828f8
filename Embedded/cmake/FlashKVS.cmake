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
