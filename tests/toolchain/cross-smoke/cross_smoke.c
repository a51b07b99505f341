/* Compiled by the aarch64 toolchain file; the test checks the result is an aarch64 ELF. */
#include <stdio.h>

int main(void)
{
#if defined(__aarch64__)
	puts("aarch64");
	return 0;
#else
#error "the aarch64 toolchain file did not select an aarch64 compiler"
#endif
}
