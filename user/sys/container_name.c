// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "container_name.h"

#define DOCKER_CONTAINERS "/var/lib/docker/containers"

/* Docker's rule for a name: [a-zA-Z0-9][a-zA-Z0-9_.-]* */
static bool is_docker_name(const char *s, size_t len)
{
	size_t i;
	char c;

	if (!len)
		return false;
	for (i = 0; i < len; i++) {
		c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (i && (c == '_' || c == '.' || c == '-'))
			continue;
		return false;
	}
	return true;
}

static bool only_space(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

int docker_config_name(const char *text, size_t len, char *name, size_t size)
{
	json_tokener *tok;
	json_object *root, *field;
	const char *s;
	size_t n;
	int err = -EINVAL;

	if (len > DOCKER_CONFIG_MAX_BYTES || len > INT32_MAX)
		return -EINVAL;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, text, (int)len);
	/* one document, nothing but white space after it */
	if (root && json_tokener_get_error(tok) == json_tokener_success &&
	    only_space(text + json_tokener_get_parse_end(tok), len - json_tokener_get_parse_end(tok)) &&
	    json_object_object_get_ex(root, "Name", &field) &&
	    json_object_is_type(field, json_type_string)) {
		s = json_object_get_string(field);
		n = (size_t)json_object_get_string_len(field);
		if (n && s[0] == '/') {
			s++;
			n--;
		}
		/* a NUL inside the JSON string would cut the name short: not a name */
		if (!is_docker_name(s, n) || strnlen(s, n) != n)
			err = -EINVAL;
		else if (n >= size)
			err = -ENAMETOOLONG;
		else {
			memcpy(name, s, n);
			name[n] = '\0';
			err = 0;
		}
	}
	json_object_put(root);
	json_tokener_free(tok);
	return err;
}

/* The whole of a regular file of at most max bytes, NUL-terminated: 0 or -errno. */
static int read_capped(const char *path, size_t max, char **text, size_t *len)
{
	char *buf = malloc(max + 1);
	size_t used = 0;
	ssize_t n;
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	while (used <= max && (n = read(fd, buf + used, max + 1 - used)) > 0)
		used += (size_t)n;
	if (n < 0)
		err = -errno;
	else if (used > max)
		err = -EFBIG;
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[used] = '\0';
	*text = buf;
	*len = used;
	return 0;
}

int docker_container_name(const char *id, char *name, size_t size)
{
	char path[sizeof(DOCKER_CONTAINERS) + 128], *text = NULL;
	size_t len = 0;
	int err;

	if (strlen(id) != 64 || strspn(id, "0123456789abcdef") != 64)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s/config.v2.json", DOCKER_CONTAINERS, id);
	err = read_capped(path, DOCKER_CONFIG_MAX_BYTES, &text, &len);
	if (err)
		return err;
	err = docker_config_name(text, len, name, size);
	free(text);
	return err;
}

/* The characters Kubernetes draws generated name suffixes and hashes from. */
static bool is_generated(const char *s, size_t len, size_t min, size_t max)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	size_t i;

	if (len < min || len > max)
		return false;
	for (i = 0; i < len; i++)
		if (!s[i] || !strchr(alphabet, s[i]))
			return false;
	return true;
}

/* A hostname Kubernetes could give: lower-case letters, digits, '-' and '.', not at the ends. */
static bool is_dns_name(const char *s, size_t len)
{
	size_t i;

	if (!len || s[0] == '-' || s[0] == '.' || s[len - 1] == '-' || s[len - 1] == '.')
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.'))
			return false;
	return true;
}

/* len of s without its last "-<generated part of min..max characters>", or len itself. */
static size_t drop_generated(const char *s, size_t len, size_t min, size_t max)
{
	const char *dash = NULL;
	size_t i;

	for (i = len; i > 0; i--)
		if (s[i - 1] == '-') {
			dash = s + i - 1;
			break;
		}
	/* what is left must still be a name: not empty, not ending in '-' */
	if (!dash || dash == s || dash[-1] == '-')
		return len;
	i = (size_t)(dash - s);
	return is_generated(dash + 1, len - i - 1, min, max) ? i : len;
}

int pod_name_from_environ(const char *text, size_t len, char *name, size_t size)
{
	const char *var = text, *end = text + len, *nul, *value = NULL;
	size_t n = 0, cut;

	for (; var < end; var = nul + 1) {
		nul = memchr(var, '\0', (size_t)(end - var));
		if (!nul)
			nul = end;
		/* the first, as getenv() would find it */
		if ((size_t)(nul - var) > 9 && !strncmp(var, "HOSTNAME=", 9)) {
			value = var + 9;
			n = (size_t)(nul - value);
			break;
		}
	}
	if (!value)
		return -ENOENT;
	if (!is_dns_name(value, n))
		return -EINVAL;
	cut = drop_generated(value, n, 5, 5);
	if (cut != n)
		cut = drop_generated(value, cut, 6, 10);
	if (cut >= size)
		return -ENAMETOOLONG;
	memcpy(name, value, cut);
	name[cut] = '\0';
	return 0;
}

int pod_name_of_process(pid_t pid, char *name, size_t size)
{
	char path[64], *text = NULL;
	size_t len = 0;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	err = read_capped(path, ENVIRON_MAX_BYTES, &text, &len);
	if (err)
		return err;
	err = pod_name_from_environ(text, len, name, size);
	free(text);
	return err;
}
