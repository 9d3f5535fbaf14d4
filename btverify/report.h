/* report.h: btverify's three outputs: text, JSON, have-bitfield. */
#ifndef BTVERIFY_REPORT_H
#define BTVERIFY_REPORT_H

#include <stdio.h>

#include "metainfo.h"
#include "verify.h"

/* Each returns 0, or -1 when memory ran out (nothing or part written). */
int	report_text(FILE *, const struct metainfo *, const struct vresult *,
	    int all);
int	report_json(FILE *, const struct metainfo *, const struct vresult *,
	    int spool);
int	report_bitfield(FILE *, const struct metainfo *,
	    const struct vresult *);

#endif
