/* main() for the harness where libFuzzer is not linked in (gcc builds):
 * runs each file named on the command line once through
 * LLVMFuzzerTestOneInput, as `fuzz_mini FILE...` does under libFuzzer, so
 * that every build (Release, ASan, GC stress) replays the crash corpus.
 * The programs' stdout goes to /dev/null; a crash, a sanitizer report or
 * a leak fails the run. */

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/file.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
    LLVMFuzzerInitialize(&argc, &argv);
    fflush(stdout);
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, STDOUT_FILENO) < 0) return 2;
    close(null);
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        size_t len = 0;
        char *data = f ? file_slurp(f, &len) : NULL;
        if (f) fclose(f);
        if (!data) {
            perror(argv[i]);
            return 2;
        }
        fprintf(stderr, "Running: %s\n", argv[i]);
        LLVMFuzzerTestOneInput((const uint8_t *)data, len);
        free(data);
    }
    return 0;
}
