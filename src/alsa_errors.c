/* alsa-lib prints its own errors to stderr through a variadic handler,
 * which stable Rust cannot define. This shim formats each message and
 * hands the text to cunxiang (src/alsa_log.rs), which logs it through
 * tracing: no stray lines in the journal, and never a blocked thread. */
#include <stdarg.h>
#include <stdio.h>
#include <alsa/asoundlib.h>

void cunxiang_alsa_message(const char *file, int line, const char *function, int err,
                           const char *text);

static void cunxiang_alsa_handler(const char *file, int line, const char *function, int err,
                                  const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cunxiang_alsa_message(file, line, function, err, buf);
}

int cunxiang_alsa_route_errors(void) { return snd_lib_error_set_handler(cunxiang_alsa_handler); }
