# Cross-compiling ouro for a bare-metal ARM Cortex-M with Debian's gcc-arm-none-eabi
# (newlib C library, newlib libstdc++ with exceptions). Use it with OURO_BARE_METAL=ON:
#
#   cmake -S . -B build/embedded -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-none-eabi.cmake -DOURO_BARE_METAL=ON
#
# OURO_ARM_CPU_FLAGS picks the core (default: Cortex-M3, Thumb-2, no FPU, as on the
# Stellaris LM3S6965 that QEMU's lm3s6965evb emulates); docs/embedded.md lists the flags
# for other boards. No --specs here: nano libstdc++ has no exceptions, and rdimon's start-up
# file puts the heap in flash on the LM3S6965, so embedded/ brings its own start-up code.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_OBJCOPY arm-none-eabi-objcopy CACHE FILEPATH "")
set(CMAKE_SIZE arm-none-eabi-size CACHE FILEPATH "")

# Compiler checks cannot link a program without a start-up file and linker script.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(OURO_ARM_CPU_FLAGS "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft" CACHE STRING
    "Target core flags: -mcpu, -mthumb, FPU and float ABI")

# -ffunction-sections/-fdata-sections with --gc-sections keep only what the image reaches
# (without --gc-sections libstdc++'s random.o is linked and needs getentropy).
set(CMAKE_C_FLAGS_INIT "${OURO_ARM_CPU_FLAGS} -ffunction-sections -fdata-sections")
# -g costs no flash (debug sections are not loaded) and lets addr2line name a fault.
set(CMAKE_CXX_FLAGS_INIT "${OURO_ARM_CPU_FLAGS} -ffunction-sections -fdata-sections -g")
set(CMAKE_ASM_FLAGS_INIT "${OURO_ARM_CPU_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${OURO_ARM_CPU_FLAGS} -Wl,--gc-sections")

# Libraries and headers come from the cross toolchain only; programs from the host.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
