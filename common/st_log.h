/*
 * st_log.h - level-gated logging with a component tag.
 *
 * There is no global logger: a struct st_log lives in the context of whoever
 * logs (resolver, fetcher, scanner) and is passed down.  The ST_LOG macros
 * evaluate their format arguments only when the level is enabled, and a level
 * above ST_LOG_COMPILED_MAX is compiled out entirely.
 */
#ifndef ST_LOG_H
#define ST_LOG_H

#include <stdio.h>

enum st_log_level {
	ST_LOG_NONE = 0,
	ST_LOG_ERR = 1,
	ST_LOG_WARN = 2,
	ST_LOG_INFO = 3,
	ST_LOG_DEBUG = 4,
};

#ifndef ST_LOG_COMPILED_MAX
#define ST_LOG_COMPILED_MAX ST_LOG_DEBUG
#endif

struct st_log {
	enum st_log_level level; /* messages above this level are dropped */
	FILE *out;               /* not owned; NULL means stderr */
};

/* Set up lg to write messages up to level to out (NULL: stderr). */
void st_log_init(struct st_log *lg, enum st_log_level level, FILE *out);

/* Parse "error", "warn", "info", "debug" or "none"; ST_EINVAL otherwise. */
int st_log_level_parse(const char *name, enum st_log_level *level);

/* Write one line: "<ISO time> <level> [<comp>] <message>\n".  Use the macros
 * below, which skip the call (and argument evaluation) when filtered out. */
void st_log_write(const struct st_log *lg, enum st_log_level level,
		  const char *comp, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define ST_LOG(lg, lvl, comp, ...)                                        \
	do {                                                              \
		if ((lvl) <= ST_LOG_COMPILED_MAX && (lg) != NULL &&       \
		    (lvl) <= (lg)->level)                                 \
			st_log_write((lg), (lvl), (comp), __VA_ARGS__);   \
	} while (0)

#define ST_ERR(lg, comp, ...) ST_LOG(lg, ST_LOG_ERR, comp, __VA_ARGS__)
#define ST_WARN(lg, comp, ...) ST_LOG(lg, ST_LOG_WARN, comp, __VA_ARGS__)
#define ST_INFO(lg, comp, ...) ST_LOG(lg, ST_LOG_INFO, comp, __VA_ARGS__)
#define ST_DEBUG(lg, comp, ...) ST_LOG(lg, ST_LOG_DEBUG, comp, __VA_ARGS__)

#endif /* ST_LOG_H */
