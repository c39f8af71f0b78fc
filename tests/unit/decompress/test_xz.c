/*
 * Host test of hv's xz decoder (hv/common/decompress/xz.c).
 *   test_xz STREAM.xz ORIGINAL   decode and compare with the original: exit 0 when equal
 *   test_xz -bad STREAM.xz       the decoder must refuse the stream: exit 0 when it does
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xz.h"

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		perror(path);
		exit(2);
	}
	buf = malloc(n ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(2);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

int main(int argc, char **argv)
{
	size_t in_len, orig_len = 0, out_len, cap;
	unsigned char *in, *orig = NULL, *out;
	const char *why = "";
	int bad = argc == 3 && strcmp(argv[1], "-bad") == 0, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: test_xz STREAM.xz ORIGINAL | test_xz -bad STREAM.xz\n");
		return 2;
	}
	in = slurp(argv[bad ? 2 : 1], &in_len);
	if (!bad)
		orig = slurp(argv[2], &orig_len);
	cap = bad ? 64 << 20 : orig_len;
	out = malloc(cap ? cap : 1);
	rc = xz_decompress(in, in_len, out, cap, &out_len, &why);
	if (bad) {
		printf("%s: %s\n", argv[2], rc ? why : "accepted (wrong)");
		rc = rc ? 0 : 1;
	} else if (rc) {
		printf("%s: refused: %s\n", argv[1], why);
		rc = 1;
	} else if (out_len != orig_len || memcmp(out, orig, orig_len) != 0) {
		printf("%s: decoded %zu bytes that differ from the %zu original bytes\n", argv[1],
		       out_len, orig_len);
		rc = 1;
	} else {
		printf("%s: %zu bytes ok\n", argv[1], out_len);
	}
	free(in);
	free(orig);
	free(out);
	return rc;
}
