/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * A container's name as its runtime keeps it on disk, which stays the same
 * when the container is re-created (its ID does not): Docker's
 * /var/lib/docker/containers/<id>/config.v2.json "Name". Read as data from
 * disk, not trusted: size-capped, and a name only of the characters Docker
 * allows in one.
 */
#ifndef INFLIGHT_CONTAINER_NAME_H
#define INFLIGHT_CONTAINER_NAME_H
#include <stddef.h>
#include <sys/types.h>

#define CONTAINER_NAME_MAX 129		/* a name of up to 128 characters and its NUL */
#define DOCKER_CONFIG_MAX_BYTES (1 << 20)
#define ENVIRON_MAX_BYTES (1 << 20)

/*
 * The "Name" of a config.v2.json's text (len bytes), without Docker's
 * leading '/': 0, -EINVAL if the text is not such a document or the name not
 * [A-Za-z0-9][A-Za-z0-9_.-]*, -ENAMETOOLONG if it does not fit in size.
 */
int docker_config_name(const char *text, size_t len, char *name, size_t size);
/*
 * A Kubernetes pod's stable name from its process's environment (the text of
 * /proc/PID/environ, len bytes): HOSTNAME, which a pod's is its name, without
 * the random suffixes a Deployment, ReplicaSet or DaemonSet adds to it (a
 * 5-character one, and before it a 6-10 character pod-template hash, of the
 * characters Kubernetes draws them from). 0, -ENOENT if there is no HOSTNAME,
 * -EINVAL if it is not a DNS label or subdomain, -ENAMETOOLONG.
 */
int pod_name_from_environ(const char *text, size_t len, char *name, size_t size);
/* The name of Docker container id (64 hex digits), from its config.v2.json: 0 or -errno. */
int docker_container_name(const char *id, char *name, size_t size);
/* The stable name of the pod process pid runs in, from its environment: 0 or -errno. */
int pod_name_of_process(pid_t pid, char *name, size_t size);

#endif
