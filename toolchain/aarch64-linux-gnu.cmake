# Cross build for the CSD's ARM SoC: aarch64 Linux with Debian's gcc-aarch64-linux-gnu.
# Libraries come from Debian's arm64 multiarch packages (/usr/lib/aarch64-linux-gnu) and, for
# packages that cannot co-install with their amd64 twin (libnvme), from a sysroot folder given
# as INSITU_ARM64_SYSROOT. Test binaries run through qemu-aarch64-static where it is installed.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(INSITU_ARM64_SYSROOT "" CACHE PATH "extra arm64 sysroot (dpkg -x of arm64 packages)")
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu ${INSITU_ARM64_SYSROOT})
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# pkg-config must see only arm64 .pc files, never the build machine's.
set(_pc_dirs /usr/lib/aarch64-linux-gnu/pkgconfig /usr/share/pkgconfig)
if(INSITU_ARM64_SYSROOT)
  list(PREPEND _pc_dirs ${INSITU_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig)
endif()
list(JOIN _pc_dirs ":" _pc_path)
set(ENV{PKG_CONFIG_LIBDIR} "${_pc_path}")
set(ENV{PKG_CONFIG_PATH} "")

find_program(INSITU_QEMU_AARCH64 qemu-aarch64-static)
if(INSITU_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${INSITU_QEMU_AARCH64} -L /usr/aarch64-linux-gnu)
endif()
