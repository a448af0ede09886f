/*
 * main() for fuzz targets built without libFuzzer (gcc, or -Dfuzz=disabled):
 * runs LLVMFuzzerTestOneInput once per file named on the command line (a
 * directory means every file in it), as libFuzzer does with a corpus. So
 * the checked-in corpora are regression tests in every build, and a crash
 * file found elsewhere replays under gdb or valgrind:
 *
 *   build/tests/fuzz/fuzz-nvme crash-1234...
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
    gchar *data = NULL;
    gsize len = 0;
    GError *err = NULL;
    uint8_t *copy;

    if (!g_file_get_contents(path, &data, &len, &err)) {
        fprintf(stderr, "%s\n", err->message);
        g_error_free(err);
        return 1;
    }
    /* A private copy: the target may not read past len without ASan noticing
     * in a sanitized build, nor rely on a terminating NUL. */
    copy = g_memdup2(data, len);

    LLVMFuzzerTestOneInput(copy, len);
    g_free(copy);
    g_free(data);
    return 0;
}

static int run_path(const char *path)
{
    GDir *dir;
    const char *name;
    int ret = 0, n = 0;

    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        return run_file(path);
    }
    dir = g_dir_open(path, 0, NULL);
    if (!dir) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    while ((name = g_dir_read_name(dir))) {
        char *p = g_build_filename(path, name, NULL);

        ret |= run_file(p);
        g_free(p);
        n++;
    }
    g_dir_close(dir);
    printf("%s: %d inputs replayed\n", path, n);
    return ret;
}

int main(int argc, char **argv)
{
    int ret = 0;

    if (LLVMFuzzerInitialize) {
        LLVMFuzzerInitialize(&argc, &argv);
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        ret |= run_path(argv[i]);
    }
    return ret;
}
