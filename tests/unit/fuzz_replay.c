/*
 * fuzz_replay.c — run a libFuzzer target over files, without libFuzzer.
 *
 * make test (tests/run_scenarios.py) links each tests/unit/fuzz_X.c with this
 * main() and plain ASan/UBSan, then passes the target's committed seed
 * corpus and its kept crash inputs. Every file is one input, given to
 * LLVMFuzzerTestOneInput() in name order, so a replay is deterministic and
 * a crash is reported with the file that caused it:
 *
 *     fuzz_replay: tests/unit/fuzz/multiboot2/crashes/mmap-entry-size-wraps.bin
 *     ==123==ERROR: AddressSanitizer: heap-buffer-overflow ...
 *
 * Arguments are files or directories (one level: each regular file in it).
 * Fails (exit 1) when no input at all was found: a replay of nothing proves
 * nothing. Prints "fuzz_replay: N inputs, all clean" at the end.
 */
#define _POSIX_C_SOURCE 200809L /* strdup, opendir under -std=c11 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int inputs;

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		printf("fuzz_replay: cannot open %s\n", path);
		exit(1);
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			data = realloc(data, cap);
		}
		size_t n = fread(data + len, 1, cap - len, f);

		if (!n)
			break;
		len += n;
	}
	fclose(f);
	printf("fuzz_replay: %s (%zu bytes)\n", path, len);
	fflush(stdout);
	/* An exact-size copy, so a read one byte past the input is caught. */
	uint8_t *exact = malloc(len ? len : 1);

	memcpy(exact, data, len);
	free(data);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	inputs++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if (!d) {
		printf("fuzz_replay: cannot open directory %s\n", dir);
		exit(1);
	}
	while ((e = readdir(d))) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_name[0] == '.' || stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		names[n++] = strdup(path);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		run_file(names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st)) {
			printf("fuzz_replay: %s does not exist\n", argv[i]);
			return 1;
		}
		if (S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			run_file(argv[i]);
	}
	if (!inputs) {
		printf("FAIL fuzz_replay: no inputs to replay\n");
		return 1;
	}
	printf("fuzz_replay: %u inputs, all clean\n", inputs);
	return 0;
}
