// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "py_containers.h"
#include "py_objects.h"
#include "python_version.h"

static int read_u64(pid_t pid, uint64_t addr, uint64_t *v)
{
	return py_read_memory(pid, addr, v, sizeof(*v));
}

/* sys.version of the main interpreter: "3.10.13 (main, Nov 24 2026, ...) [GCC 12.2.0]" */
static int read_sys_version(struct py_reader *r, const struct python_target *t, char *out,
			    size_t size)
{
	const struct cpython_layout *l = &t->layout;
	uint64_t interp, modules, sys, dict, version;

	if (read_u64(t->pid, t->runtime_addr + l->runtime_interp_head, &interp) ||
	    read_u64(t->pid, interp + l->interp_modules, &modules) ||
	    !py_type_is(r, py_type_of(r, modules), "dict") ||
	    py_dict_get(r, modules, "sys", &sys) ||
	    read_u64(t->pid, sys + l->module_dict, &dict) ||
	    py_dict_get(r, dict, "version", &version))
		return -EIO;
	return py_str_copy(r, version, out, size);
}

int python_version_complete(struct python_target *t)
{
	char text[256], prefix[32];
	struct py_reader r;
	size_t n;
	int err;

	if (strchr(t->version + strlen("3."), '.'))
		return 0;	/* the binary said it all */
	py_reader_init(&r, t->pid, &t->layout);
	err = read_sys_version(&r, t, text, sizeof(text));
	py_reader_free(&r);
	if (err)
		return err;
	/* what it says must be this minor version, and a version is all it may hold */
	snprintf(prefix, sizeof(prefix), "%s.", t->version);
	n = strcspn(text, " ");
	if (strncmp(text, prefix, strlen(prefix)) || n >= sizeof(t->version) ||
	    strspn(text, "0123456789.abrc+") < n)
		return -EINVAL;
	memcpy(t->version, text, n);
	t->version[n] = '\0';
	return 0;
}
