/*
 * fuzz.h - shared by the libFuzzer targets and the replay driver.
 *
 * A target checks what the parser promises, not only that it does not
 * crash: a broken promise aborts, and libFuzzer or the replay driver
 * reports it like a crash.
 */
#ifndef CM_FUZZ_H
#define CM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, \
		    __LINE__, #c); \
		abort(); \
	} \
} while (0)

#endif /* CM_FUZZ_H */
