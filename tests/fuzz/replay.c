/*
 * replay.c - run a fuzz target's corpus without libFuzzer.
 *
 * Linked with one fuzz_<target>.c, it feeds every regular file under the
 * given files or directories to LLVMFuzzerTestOneInput once, so the corpus
 * (seeds plus every crash ever found) replays under ctest in every build,
 * sanitizers included.  Exits 1 if an argument cannot be read or names no
 * file at all: an empty corpus is a mistake, not a pass.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_FILE (1u << 20)

static int run_file(const char *path, size_t *count)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len;
	int ret = -1;

	if (fp == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	buf = malloc(REPLAY_MAX_FILE);
	if (buf == NULL)
		goto cleanup;
	len = fread(buf, 1, REPLAY_MAX_FILE, fp);
	if (ferror(fp)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		goto cleanup;
	}
	LLVMFuzzerTestOneInput(buf, len);
	(*count)++;
	ret = 0;
cleanup:
	free(buf);
	fclose(fp);
	return ret;
}

static int run_path(const char *path, size_t *count)
{
	struct stat st;
	DIR *dir;
	struct dirent *de;
	int ret = 0;

	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: cannot stat %s\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? run_file(path, count) : 0;
	dir = opendir(path);
	if (dir == NULL) {
		fprintf(stderr, "replay: cannot open directory %s\n", path);
		return -1;
	}
	while (ret == 0 && (de = readdir(dir)) != NULL) {
		char child[4096];
		int n;

		if (de->d_name[0] == '.')
			continue;
		n = snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(child)) {
			fprintf(stderr, "replay: path too long in %s\n", path);
			ret = -1;
			break;
		}
		ret = run_path(child, count);
	}
	closedir(dir);
	return ret;
}

int main(int argc, char **argv)
{
	size_t count = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (run_path(argv[i], &count) != 0)
			return 1;
	}
	if (count == 0) {
		fprintf(stderr, "replay: no corpus files found\n");
		return 1;
	}
	printf("replay: %zu inputs ran cleanly\n", count);
	return 0;
}
