/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The whole version of a CPython ("3.10.13") whose binary does not publish
 * it (3.9 and 3.10 have no Py_Version): read from sys.version in its memory.
 */
#ifndef INFLIGHT_PYTHON_VERSION_H
#define INFLIGHT_PYTHON_VERSION_H
#include "python_target.h"

/*
 * Where t->version is only "3.<minor>", replaces it with sys.version's
 * "3.<minor>.<micro>..." if the process's memory has it: 0, or -errno (the
 * version is then left as it was).
 */
int python_version_complete(struct python_target *t);

#endif
