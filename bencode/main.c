/*
 * bencode: bencode to JSON (-d) and JSON to bencode (-e), losslessly, with
 * the binary-string convention of lib/json.h. See bencode.1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"
#include "conv.h"
#include "metainfo.h"	/* read_file */

static const char usage_text[] =
    "usage: bencode -d [-p] [file]\n"
    "       bencode -e [file]\n";

static int
usage(void)
{
	fputs(usage_text, stderr);
	return BT_EXIT_INPUT;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "decode",	no_argument,	NULL,	'd' },
		{ "encode",	no_argument,	NULL,	'e' },
		{ "help",	no_argument,	NULL,	'h' },
		{ "pretty",	no_argument,	NULL,	'p' },
		{ "version",	no_argument,	NULL,	'V' },
		{ NULL,		0,		NULL,	0 }
	};
	char err[BT_ERRLEN];
	const char *path = "-", *name;
	unsigned char *data;
	size_t len;
	int c, mode = 0, pretty = 0, bad, rc;

	while ((c = getopt_long(argc, argv, "dehp", longopts, NULL)) != -1)
		switch (c) {
		case 'd':
		case 'e':
			if (mode != 0 && mode != c)
				return usage();
			mode = c;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return bt_close_stdout("bencode");
		case 'p':
			pretty = 1;
			break;
		case 'V':
			puts("bencode " BT_VERSION);
			return bt_close_stdout("bencode");
		default:
			return usage();
		}
	argc -= optind;
	argv += optind;
	if (mode == 0 || argc > 1 || (pretty && mode == 'e'))
		return usage();
	if (argc == 1)
		path = argv[0];
	name = strcmp(path, "-") == 0 ? "stdin" : path;

	if (read_file(path, mode == 'd' ? BENCODE_MAX_IN : JSON_MAX_IN, &data,
	    &len, err) == -1) {
		fprintf(stderr, "bencode: %s: %s\n", name, err);
		return BT_EXIT_INPUT;
	}
	if (mode == 'd')
		rc = conv_decode(data, len, pretty, stdout, &bad, err);
	else
		rc = conv_encode(data, len, stdout, &bad, err);
	free(data);
	if (rc == -1) {
		if (bad)
			fprintf(stderr, "bencode: %s: %s\n", name, err);
		else
			fprintf(stderr, "bencode: %s\n", err);
		return bad ? BT_EXIT_INPUT : BT_EXIT_WORLD;
	}
	return bt_close_stdout("bencode");
}
