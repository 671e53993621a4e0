/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/* Messages on stderr: errors always, info and debug by -v. */
#ifndef INFLIGHT_LOG_H
#define INFLIGHT_LOG_H

extern int log_verbosity;

/* "inflight: <message>" on stderr */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* printed with -v */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* printed with -vv */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
