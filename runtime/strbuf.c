#include "runtime/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_init(StrBuf *sb) {
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

void sb_free(StrBuf *sb) {
    free(sb->data);
    sb_init(sb);
}

bool sb_reserve(StrBuf *sb, size_t extra) {
    /* Objects larger than PTRDIFF_MAX are not usable in C; refusing them
     * here also keeps absurd requests away from malloc. */
    if (extra > (size_t)PTRDIFF_MAX - 1 - sb->len)
        return false;
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return true;
    size_t cap = sb->cap < 16 ? 16 : sb->cap;
    while (cap < need)
        cap = cap > (size_t)PTRDIFF_MAX / 2 ? need : cap * 2;
    char *p = realloc(sb->data, cap);
    if (!p)
        return false;
    sb->data = p;
    sb->cap = cap;
    return true;
}

bool sb_append(StrBuf *sb, const char *s, size_t n) {
    if (!sb_reserve(sb, n))
        return false;
    if (n)
        memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    return true;
}

bool sb_append_cstr(StrBuf *sb, const char *s) {
    return sb_append(sb, s, strlen(s));
}

bool sb_append_char(StrBuf *sb, char c) {
    return sb_append(sb, &c, 1);
}

bool sb_append_repeat(StrBuf *sb, char c, size_t n) {
    if (!sb_reserve(sb, n))
        return false;
    memset(sb->data + sb->len, c, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    return true;
}

bool sb_vappendf(StrBuf *sb, const char *fmt, va_list ap) {
    /* Try the spare room first; most formatted pieces are short. */
    if (!sb_reserve(sb, 64))
        return false;
    va_list ap2;
    va_copy(ap2, ap);
    size_t room = sb->cap - sb->len;
    int n = vsnprintf(sb->data + sb->len, room, fmt, ap);
    bool ok = n >= 0;
    if (ok && (size_t)n >= room) {
        ok = sb_reserve(sb, (size_t)n);
        if (ok)
            vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    if (!ok) {
        sb->data[sb->len] = '\0'; /* undo a truncated partial write */
        return false;
    }
    sb->len += (size_t)n;
    return true;
}

bool sb_appendf(StrBuf *sb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    bool ok = sb_vappendf(sb, fmt, ap);
    va_end(ap);
    return ok;
}

char *sb_take(StrBuf *sb, size_t *len_out) {
    char *p = sb->data;
    if (len_out)
        *len_out = sb->len;
    if (!p) {
        p = malloc(1);
        if (!p)
            return NULL;
        *p = '\0';
    }
    sb_init(sb);
    return p;
}

void sb_clear(StrBuf *sb) {
    sb->len = 0;
    if (sb->data)
        sb->data[0] = '\0';
}
