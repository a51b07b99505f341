/* insitu-fw's log: one line per event on stderr, with a monotonic timestamp and a level, so
 * a foreground daemon under systemd or a test harness reads cleanly. */
#ifndef INSITU_FW_LOG_H
#define INSITU_FW_LOG_H

enum fw_log_level {
	FW_LOG_ERROR = 0,
	FW_LOG_WARN  = 1,
	FW_LOG_INFO  = 2,
	FW_LOG_DEBUG = 3,
};

/* Lines above this level are dropped; default FW_LOG_INFO. */
void fw_log_set_level(enum fw_log_level level);
int fw_log_enabled(enum fw_log_level level);

__attribute__((format(printf, 2, 3)))
void fw_log(enum fw_log_level level, const char *fmt, ...);

#define fw_err(...)   fw_log(FW_LOG_ERROR, __VA_ARGS__)
#define fw_warn(...)  fw_log(FW_LOG_WARN, __VA_ARGS__)
#define fw_info(...)  fw_log(FW_LOG_INFO, __VA_ARGS__)
#define fw_debug(...) do { if (fw_log_enabled(FW_LOG_DEBUG)) fw_log(FW_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
