/* info.h: btinfo's outputs. Each writes to f and returns 0 or -1. */
#ifndef BTINFO_INFO_H
#define BTINFO_INFO_H

#include <stdio.h>

struct metainfo;
struct magnet;

int	info_json(FILE *, const struct metainfo *, int pieces);
int	info_summary(FILE *, const struct metainfo *, int pieces);
int	info_magnet_json(FILE *, const struct magnet *);
int	info_magnet_summary(FILE *, const struct magnet *);
/*
 * Writes s with control bytes (C0, DEL, C1), bytes that are not UTF-8
 * and, if backslash, backslashes as \xHH: one line, nothing a terminal
 * obeys.
 */
void	info_putsafe(FILE *, const char *s, int backslash);
/* --lines (lines.c): keyword, tab, value; see the comment there. */
int	info_lines(FILE *, const struct metainfo *);
int	info_magnet_lines(FILE *, const struct magnet *);

#endif
