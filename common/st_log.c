#include "st_log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "st_error.h"

void st_log_init(struct st_log *lg, enum st_log_level level, FILE *out)
{
	lg->level = level;
	lg->out = out;
}

int st_log_level_parse(const char *name, enum st_log_level *level)
{
	static const struct {
		const char *name;
		enum st_log_level level;
	} names[] = {
		{ "none", ST_LOG_NONE },   { "error", ST_LOG_ERR },
		{ "warn", ST_LOG_WARN },   { "info", ST_LOG_INFO },
		{ "debug", ST_LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i].name) == 0) {
			*level = names[i].level;
			return ST_OK;
		}
	}
	return ST_EINVAL;
}

static const char *level_name(enum st_log_level level)
{
	switch (level) {
	case ST_LOG_ERR: return "error";
	case ST_LOG_WARN: return "warn";
	case ST_LOG_INFO: return "info";
	case ST_LOG_DEBUG: return "debug";
	case ST_LOG_NONE: break;
	}
	return "-";
}

void st_log_write(const struct st_log *lg, enum st_log_level level,
		  const char *comp, const char *fmt, ...)
{
	FILE *out = lg->out != NULL ? lg->out : stderr;
	char stamp[32] = "";
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (clock_gettime(CLOCK_REALTIME, &ts) == 0 &&
	    gmtime_r(&ts.tv_sec, &tm) != NULL)
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);

	/* One fprintf per part keeps lines whole for line-buffered streams. */
	flockfile(out);
	fprintf(out, "%s %s [%s] ", stamp, level_name(level),
		comp != NULL ? comp : "-");
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	funlockfile(out);
}
