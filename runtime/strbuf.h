/* Growable byte buffer.
 *
 * Growing functions return false when memory runs out (or a size would
 * overflow) and leave the buffer unchanged, so callers can raise MemoryError
 * instead of crashing.  `data` is NUL-terminated whenever it is non-NULL;
 * an empty, never-grown buffer has data == NULL. */
#ifndef MINI_RUNTIME_STRBUF_H
#define MINI_RUNTIME_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct StrBuf {
    char *data;
    size_t len, cap; /* cap counts the byte reserved for the NUL */
} StrBuf;

void sb_init(StrBuf *sb);
/* Releases the memory and leaves sb empty (ready for reuse). */
void sb_free(StrBuf *sb);
/* Ensures `extra` more bytes can be appended without reallocating. */
bool sb_reserve(StrBuf *sb, size_t extra);
bool sb_append(StrBuf *sb, const char *s, size_t n);
bool sb_append_cstr(StrBuf *sb, const char *s);
bool sb_append_char(StrBuf *sb, char c);
bool sb_append_repeat(StrBuf *sb, char c, size_t n);
bool sb_appendf(StrBuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool sb_vappendf(StrBuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Hands the NUL-terminated contents to the caller (free() them) and resets
 * sb to empty; *len_out (if non-NULL) receives the length.  Returns NULL
 * only if sb had never allocated and allocating "" failed. */
char *sb_take(StrBuf *sb, size_t *len_out);
/* Empties the buffer but keeps its memory. */
void sb_clear(StrBuf *sb);

#endif
