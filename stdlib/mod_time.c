/* The time module: clocks, sleep, and calendar time as struct_time (a
 * tuple subclass with the tm_* fields as properties).
 *
 * sleep() detaches the thread for the wait, so it releases the GIL and
 * does not hold up a collection; a signal wakes it to run the safepoint
 * (Ctrl-C raises KeyboardInterrupt there) and it then sleeps on until the
 * same deadline. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/args.h"
#include "runtime/class.h"
#include "runtime/dict.h"
#include "runtime/error.h"
#include "runtime/file.h"
#include "runtime/function.h"
#include "runtime/int.h"
#include "runtime/module.h"
#include "runtime/ops.h"
#include "runtime/str.h"
#include "runtime/strbuf.h"
#include "runtime/tuple.h"
#include "stdlib/builtins.h"
#include "stdlib/modules.h"
#include "vm/interp.h"
#include "vm/thread.h"
#include "vm/vm.h"

#define NS_PER_SEC 1000000000LL

/* ---- clocks -------------------------------------------------------------- */

static int64_t clock_ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (int64_t)t.tv_sec * NS_PER_SEC + t.tv_nsec;
}

static double clock_seconds(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define CLOCK_FUNCTIONS(pyname, clock)                                                    \
    static Value time_##pyname(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {   \
        if (!args_check(ts, #pyname, nargs, kwnames, 0, 0)) return ERROR_VAL;             \
        return FLOAT_VAL(clock_seconds(clock));                                           \
    }                                                                                     \
    static Value time_##pyname##_ns(TState *ts, Value *args, int nargs, ObjTuple *kwnames) { \
        if (!args_check(ts, #pyname "_ns", nargs, kwnames, 0, 0)) return ERROR_VAL;       \
        return int_from_i64(ts, clock_ns(clock));                                         \
    }

CLOCK_FUNCTIONS(time, CLOCK_REALTIME)
CLOCK_FUNCTIONS(perf_counter, CLOCK_MONOTONIC)
CLOCK_FUNCTIONS(monotonic, CLOCK_MONOTONIC)
CLOCK_FUNCTIONS(process_time, CLOCK_PROCESS_CPUTIME_ID)
CLOCK_FUNCTIONS(thread_time, CLOCK_THREAD_CPUTIME_ID)

/* ---- sleep ------------------------------------------------------------------ */

/* A duration in seconds (int or float) as nanoseconds, with CPython's
 * errors. */
static bool duration_ns(TState *ts, Value v, int64_t *out) {
    Interp *interp = ts->interp;
    if (IS_FLOAT(v)) {
        double d = AS_FLOAT(v);
        if (isnan(d)) {
            err_format(ts, interp->exc.ValueError, "Invalid value NaN (not a number)");
            return false;
        }
        double ns = ceil(d * 1e9);
        if (!(ns < 9.2e18 && ns > -9.2e18)) {
            err_format(ts, interp->exc.OverflowError, "timestamp out of range for platform time_t");
            return false;
        }
        *out = (int64_t)ns;
        return true;
    }
    Value i = int_index(ts, v);
    if (IS_ERROR(i)) return false;
    int64_t secs;
    if (!int_to_i64(i, &secs) || __builtin_mul_overflow(secs, NS_PER_SEC, out)) {
        err_format(ts, interp->exc.OverflowError, "timestamp out of range for platform time_t");
        return false;
    }
    return true;
}

static Value time_sleep(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "sleep", nargs, kwnames, 1, 1)) return ERROR_VAL;
    int64_t ns;
    if (!duration_ns(ts, args[0], &ns)) return ERROR_VAL;
    if (ns < 0) return err_format(ts, ts->interp->exc.ValueError, "sleep length must be non-negative");
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    int64_t total = deadline.tv_nsec + ns % NS_PER_SEC;
    deadline.tv_sec += (time_t)(ns / NS_PER_SEC + total / NS_PER_SEC);
    deadline.tv_nsec = (long)(total % NS_PER_SEC);
    for (;;) {
        thread_detach(ts);
        int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
        thread_attach(ts);
        if (r == 0) return NONE_VAL;
        if (r != EINTR) return file_raise_oserror(ts, r, NONE_VAL);
        if (!vm_safepoint(ts)) return ERROR_VAL;
    }
}

/* ---- calendar time ---------------------------------------------------------- */

/* A timestamp argument (None or absent: now), floored to whole seconds. */
static bool timestamp_arg(TState *ts, Value *args, int nargs, time_t *out) {
    if (nargs == 0 || IS_NONE(args[0])) {
        *out = time(NULL);
        return true;
    }
    Interp *interp = ts->interp;
    Value v = args[0];
    if (IS_FLOAT(v)) {
        double d = AS_FLOAT(v);
        if (isnan(d)) {
            err_format(ts, interp->exc.ValueError, "Invalid value NaN (not a number)");
            return false;
        }
        d = floor(d);
        if (!(d >= -9.2e18 && d <= 9.2e18)) {
            err_format(ts, interp->exc.OverflowError, "timestamp out of range for platform time_t");
            return false;
        }
        *out = (time_t)d;
        return true;
    }
    Value i = int_index(ts, v);
    if (IS_ERROR(i)) return false;
    int64_t secs;
    if (!int_to_i64(i, &secs)) {
        err_format(ts, interp->exc.OverflowError, "timestamp out of range for platform time_t");
        return false;
    }
    *out = (time_t)secs;
    return true;
}

/* ---- struct_time: a tuple subclass with named fields ------------------------ */

static const char *const tm_fields[9] = {"tm_year", "tm_mon",  "tm_mday", "tm_hour", "tm_min",
                                         "tm_sec",  "tm_wday", "tm_yday", "tm_isdst"};

static Value tm_field(TState *ts, Value *args, int nargs, ObjTuple *kwnames, size_t i) {
    if (!args_check(ts, tm_fields[i], nargs, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_TUPLE(args[0]) || AS_TUPLE(args[0])->len <= i)
        return err_format(ts, ts->interp->exc.TypeError, "descriptor '%s' for 'time.struct_time' objects "
                          "doesn't apply to a '%s' object", tm_fields[i], ops_type_name(ts, args[0]));
    return AS_TUPLE(args[0])->items[i];
}

#define TM_FIELD_GETTER(i)                                                             \
    static Value tm_field_##i(TState *ts, Value *args, int nargs, ObjTuple *kwnames) { \
        return tm_field(ts, args, nargs, kwnames, i);                                  \
    }
TM_FIELD_GETTER(0)
TM_FIELD_GETTER(1)
TM_FIELD_GETTER(2)
TM_FIELD_GETTER(3)
TM_FIELD_GETTER(4)
TM_FIELD_GETTER(5)
TM_FIELD_GETTER(6)
TM_FIELD_GETTER(7)
TM_FIELD_GETTER(8)

static const NativeFn tm_getters[9] = {tm_field_0, tm_field_1, tm_field_2, tm_field_3, tm_field_4,
                                       tm_field_5, tm_field_6, tm_field_7, tm_field_8};

/* time.struct_time(tm_year=2024, tm_mon=1, ...) */
static Value struct_time_repr(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "__repr__", nargs, kwnames, 1, 1)) return ERROR_VAL;
    if (!IS_TUPLE(args[0])) return err_format(ts, ts->interp->exc.TypeError, "struct_time expected");
    ObjTuple *t = AS_TUPLE(args[0]);
    StrBuf sb;
    sb_init(&sb);
    bool ok = sb_append_cstr(&sb, "time.struct_time(");
    for (size_t i = 0; ok && i < t->len && i < 9; i++) {
        ok = sb_appendf(&sb, "%s%s=", i ? ", " : "", tm_fields[i]);
        if (ok && !str_append_repr(ts, &sb, t->items[i])) {
            sb_free(&sb);
            return ERROR_VAL;
        }
    }
    if (!ok || !sb_append_char(&sb, ')')) {
        sb_free(&sb);
        return err_no_memory(ts);
    }
    ObjStr *r = str_from_sb(ts, &sb);
    return r ? OBJ_VAL(r) : ERROR_VAL;
}

/* The struct_time class: a tuple subclass whose fields are properties. */
static Value struct_time_new_class(TState *ts) {
    Interp *interp = ts->interp;
    ObjDict *ns = dict_new(ts);
    if (!ns) return ERROR_VAL;
    vm_push(ts, OBJ_VAL(ns));
    ObjStr *module = str_intern_cstr(ts, "time");
    bool ok = module && builtins_add_value(ts, ns, "__module__", OBJ_VAL(module)) &&
              builtins_add_value(ts, ns, "n_fields", INT_VAL(9)) &&
              builtins_add_value(ts, ns, "n_sequence_fields", INT_VAL(9));
    for (size_t i = 0; ok && i < 9; i++) {
        ObjNative *getter = native_new(ts, tm_fields[i], tm_getters[i], NULL);
        Value fget = getter ? OBJ_VAL(getter) : ERROR_VAL;
        Value prop = IS_ERROR(fget) ? fget : ops_call(ts, OBJ_VAL(interp->types.property), &fget, 1, NULL);
        ok = !IS_ERROR(prop) && builtins_add_value(ts, ns, tm_fields[i], prop);
    }
    ObjNative *repr = ok ? native_new(ts, "__repr__", struct_time_repr, NULL) : NULL;
    ok = repr && builtins_add_value(ts, ns, "__repr__", OBJ_VAL(repr));
    ObjStr *name = ok ? str_intern_cstr(ts, "struct_time") : NULL;
    ObjTuple *bases = name ? tuple_from(ts, (Value[]){OBJ_VAL(interp->types.tuple)}, 1) : NULL;
    Value cls = bases ? class_new(ts, interp->types.type, name, bases, ns) : ERROR_VAL;
    vm_pop(ts);
    return cls;
}

/* time.struct_time of the imported time module, or NULL. */
static ObjType *struct_time_class(TState *ts) {
    Value cls = module_attr(ts, "time", "struct_time");
    if (IS_ERROR(cls)) err_clear(ts);
    return IS_TYPE(cls) ? AS_TYPE(cls) : NULL;
}

/* struct tm as Python's struct_time: (year, month 1-12, day, hour, minute,
 * second, weekday with Monday 0, day of the year 1-366, isdst). */
static Value tm_to_tuple(TState *ts, const struct tm *tm) {
    ObjTuple *t = tuple_new(ts, 9);
    if (!t) return ERROR_VAL;
    ObjType *cls = struct_time_class(ts);
    if (cls) t->obj.type = cls; /* a fresh tuple becomes an instance of the subclass */
    t->items[0] = INT_VAL((int64_t)tm->tm_year + 1900);
    t->items[1] = INT_VAL(tm->tm_mon + 1);
    t->items[2] = INT_VAL(tm->tm_mday);
    t->items[3] = INT_VAL(tm->tm_hour);
    t->items[4] = INT_VAL(tm->tm_min);
    t->items[5] = INT_VAL(tm->tm_sec);
    t->items[6] = INT_VAL((tm->tm_wday + 6) % 7);
    t->items[7] = INT_VAL(tm->tm_yday + 1);
    t->items[8] = INT_VAL(tm->tm_isdst);
    return OBJ_VAL(t);
}

/* The reverse; `fname` words the errors as CPython. */
static bool tuple_to_tm(TState *ts, Value v, const char *fname, struct tm *tm) {
    Interp *interp = ts->interp;
    if (!IS_TUPLE(v)) {
        err_format(ts, interp->exc.TypeError, "Tuple or struct_time argument required");
        return false;
    }
    ObjTuple *t = AS_TUPLE(v);
    int64_t f[9];
    bool ok = t->len == 9;
    for (size_t i = 0; ok && i < 9; i++) {
        Value x = t->items[i];
        ok = IS_INTLIKE(x) && int_to_i64(x, &f[i]) && f[i] >= INT_MIN && f[i] <= INT_MAX;
    }
    if (!ok) {
        err_format(ts, interp->exc.TypeError, "%s(): illegal time tuple argument", fname);
        return false;
    }
    memset(tm, 0, sizeof *tm);
    tm->tm_year = (int)(f[0] - 1900);
    tm->tm_mon = (int)f[1] - 1;
    tm->tm_mday = (int)f[2];
    tm->tm_hour = (int)f[3];
    tm->tm_min = (int)f[4];
    tm->tm_sec = (int)f[5];
    tm->tm_wday = (int)((f[6] + 1) % 7);
    tm->tm_yday = (int)f[7] - 1;
    tm->tm_isdst = (int)f[8];
    return true;
}

/* CPython's checks before strftime/asctime (zeros mean "first"). */
static bool check_tm(TState *ts, struct tm *tm) {
    const char *bad = NULL;
    if (tm->tm_mon == -1) tm->tm_mon = 0;
    if (tm->tm_mday == 0) tm->tm_mday = 1;
    if (tm->tm_yday == -1) tm->tm_yday = 0;
    if (tm->tm_isdst < -1) tm->tm_isdst = -1;
    else if (tm->tm_isdst > 1) tm->tm_isdst = 1;
    if (tm->tm_mon < 0 || tm->tm_mon > 11) bad = "month out of range";
    else if (tm->tm_mday < 0 || tm->tm_mday > 31) bad = "day of month out of range";
    else if (tm->tm_hour < 0 || tm->tm_hour > 23) bad = "hour out of range";
    else if (tm->tm_min < 0 || tm->tm_min > 59) bad = "minute out of range";
    else if (tm->tm_sec < 0 || tm->tm_sec > 61) bad = "seconds out of range";
    else if (tm->tm_wday < 0) bad = "day of week out of range";
    else if (tm->tm_yday < 0 || tm->tm_yday > 365) bad = "day of year out of range";
    if (!bad) return true;
    err_format(ts, ts->interp->exc.ValueError, "%s", bad);
    return false;
}

static Value convert_time(TState *ts, const char *fname, Value *args, int nargs, ObjTuple *kwnames, bool local) {
    if (!args_check(ts, fname, nargs, kwnames, 0, 1)) return ERROR_VAL;
    time_t when;
    if (!timestamp_arg(ts, args, nargs, &when)) return ERROR_VAL;
    struct tm tm;
    if (!(local ? localtime_r(&when, &tm) : gmtime_r(&when, &tm)))
        return err_format(ts, ts->interp->exc.OverflowError, "timestamp out of range for platform time_t");
    return tm_to_tuple(ts, &tm);
}

static Value time_localtime(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return convert_time(ts, "localtime", args, nargs, kwnames, true);
}

static Value time_gmtime(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    return convert_time(ts, "gmtime", args, nargs, kwnames, false);
}

static Value time_mktime(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "mktime", nargs, kwnames, 1, 1)) return ERROR_VAL;
    struct tm tm;
    if (!tuple_to_tm(ts, args[0], "mktime", &tm)) return ERROR_VAL;
    tm.tm_wday = -1; /* mktime sets it on success: tells -1 (1969) from failure */
    time_t t = mktime(&tm);
    if (t == (time_t)-1 && tm.tm_wday == -1)
        return err_format(ts, ts->interp->exc.OverflowError, "mktime argument out of range");
    return FLOAT_VAL((double)t);
}

/* The time tuple argument of strftime and asctime: absent or None means
 * now, in local time. */
static bool tm_arg(TState *ts, const char *fname, Value *args, int nargs, int index, struct tm *tm) {
    if (nargs <= index || IS_NONE(args[index])) {
        time_t now = time(NULL);
        localtime_r(&now, tm);
        return true;
    }
    return tuple_to_tm(ts, args[index], fname, tm) && check_tm(ts, tm);
}

static Value time_strftime(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "strftime", nargs, kwnames, 1, 2)) return ERROR_VAL;
    if (!IS_STR(args[0]))
        return err_format(ts, ts->interp->exc.TypeError, "strftime() argument 1 must be str, not %s",
                          ops_type_name(ts, args[0]));
    struct tm tm;
    if (!tm_arg(ts, "strftime", args, nargs, 1, &tm)) return ERROR_VAL;
    ObjStr *fmt = AS_STR(args[0]);
    if (fmt->len == 0) return OBJ_VAL(ts->interp->names.empty);
    /* strftime(3) returns 0 both for "too small" and for an empty result:
     * grow up to a bound, as CPython does, then accept the empty result. */
    size_t limit = 256 * fmt->len + 1024;
    for (size_t size = 1024;; size *= 2) {
        char *buf = malloc(size);
        if (!buf) return err_no_memory(ts);
        size_t n = strftime(buf, size, fmt->data, &tm);
        if (n > 0 || size >= limit) {
            ObjStr *s = str_new(ts, buf, n);
            free(buf);
            return s ? OBJ_VAL(s) : ERROR_VAL;
        }
        free(buf);
    }
}

/* "Sun Jun 20 23:21:05 1993", CPython's asctime layout. */
static Value format_asctime(TState *ts, const struct tm *tm) {
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    ObjStr *s = str_printf(ts, "%s %s%3d %.2d:%.2d:%.2d %lld", days[(tm->tm_wday % 7 + 7) % 7],
                           months[(tm->tm_mon % 12 + 12) % 12], tm->tm_mday, tm->tm_hour, tm->tm_min,
                           tm->tm_sec, (long long)tm->tm_year + 1900);
    return s ? OBJ_VAL(s) : ERROR_VAL;
}

static Value time_asctime(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "asctime", nargs, kwnames, 0, 1)) return ERROR_VAL;
    struct tm tm;
    if (!tm_arg(ts, "asctime", args, nargs, 0, &tm)) return ERROR_VAL;
    return format_asctime(ts, &tm);
}

static Value time_ctime(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "ctime", nargs, kwnames, 0, 1)) return ERROR_VAL;
    time_t when;
    if (!timestamp_arg(ts, args, nargs, &when)) return ERROR_VAL;
    struct tm tm;
    if (!localtime_r(&when, &tm))
        return err_format(ts, ts->interp->exc.OverflowError, "timestamp out of range for platform time_t");
    return format_asctime(ts, &tm);
}

/* strptime(string, format="%a %b %d %H:%M:%S %Y"): parsed by the
 * strptime of stdlib/datetime.mini, as CPython's time.strptime is by its
 * _strptime module. */
static Value time_strptime(TState *ts, Value *args, int nargs, ObjTuple *kwnames) {
    if (!args_check(ts, "strptime", nargs, kwnames, 1, 2)) return ERROR_VAL;
    ObjStr *module_name = str_intern_cstr(ts, "datetime");
    Value m = module_name ? module_import(ts, module_name, NONE_VAL, 0, ts->interp->builtins) : ERROR_VAL;
    if (IS_ERROR(m)) return ERROR_VAL;
    ObjStr *fn_name = str_intern_cstr(ts, "_strptime_time");
    Value fn = fn_name ? ops_getattr(ts, m, fn_name) : ERROR_VAL;
    if (IS_ERROR(fn)) return ERROR_VAL;
    return vm_call(ts, fn, args, nargs, NULL);
}

static const NativeDef time_functions[] = {
    {"time", time_time},
    {"time_ns", time_time_ns},
    {"perf_counter", time_perf_counter},
    {"perf_counter_ns", time_perf_counter_ns},
    {"monotonic", time_monotonic},
    {"monotonic_ns", time_monotonic_ns},
    {"process_time", time_process_time},
    {"process_time_ns", time_process_time_ns},
    {"thread_time", time_thread_time},
    {"thread_time_ns", time_thread_time_ns},
    {"sleep", time_sleep},
    {"localtime", time_localtime},
    {"gmtime", time_gmtime},
    {"mktime", time_mktime},
    {"strftime", time_strftime},
    {"strptime", time_strptime},
    {"asctime", time_asctime},
    {"ctime", time_ctime},
    {NULL, NULL},
};

bool mod_time_init(TState *ts, ObjDict *ns) {
    if (!builtins_add_natives(ts, ns, time_functions)) return false;
    Value struct_time = struct_time_new_class(ts);
    if (IS_ERROR(struct_time) || !builtins_add_value(ts, ns, "struct_time", struct_time)) return false;
    tzset();
    ObjStr *std_name = str_from_cstr(ts, tzname[0]);
    ObjStr *dst_name = std_name ? str_from_cstr(ts, tzname[1]) : NULL;
    ObjTuple *names = dst_name ? tuple_pack2(ts, OBJ_VAL(std_name), OBJ_VAL(dst_name)) : NULL;
    return names && builtins_add_value(ts, ns, "tzname", OBJ_VAL(names)) &&
           builtins_add_value(ts, ns, "timezone", INT_VAL(timezone)) &&
           builtins_add_value(ts, ns, "altzone", INT_VAL(daylight ? timezone - 3600 : timezone)) &&
           builtins_add_value(ts, ns, "daylight", INT_VAL(daylight));
}
