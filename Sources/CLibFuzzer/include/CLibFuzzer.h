// libFuzzer's driver, for fuzzing binaries that bring their own `main` (SwiftPM names an
// executable's entry point after its module): it parses libFuzzer's flags and runs the
// callback on every input. Linked from libFuzzer by `-sanitize=fuzzer`; declared here
// only, so that a plain build (no fuzzer) never references it.
#ifndef C_LIB_FUZZER_H
#define C_LIB_FUZZER_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
