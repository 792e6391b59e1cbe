/* Unit tests for runtime/numfmt.c.  The expected strings were produced by
 * CPython 3.11 (format(), repr(), int(), float(), round()); the tables are
 * the specification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/numfmt.h"

/* Expected outcome: 0 = success, else the exception class. */
enum { VE = 1, OE, ME };

static int kind_of(const char *err) {
    switch (numfmt_error_kind(err)) {
    case NUMFMT_VALUE_ERROR: return VE;
    case NUMFMT_OVERFLOW_ERROR: return OE;
    case NUMFMT_MEMORY_ERROR: return ME;
    }
    return -1;
}

/* Checks one formatter/parser outcome; `what` describes the case.  The
 * output buffer starts with a marker of length `mark` that must survive,
 * and on failure nothing may have been appended after it. */
static void check(const char *what, bool ok, const char *got, size_t got_len,
                  const char *err, const char *want, int want_kind,
                  const char *want_err) {
    if (want) {
        if (!ok)
            fail_msg("%s: unexpected error \"%s\"", what, err);
        if (got_len != strlen(want) || memcmp(got, want, got_len) != 0)
            fail_msg("%s: got \"%.*s\", want \"%s\"", what, (int)got_len, got,
                     want);
        return;
    }
    if (ok)
        fail_msg("%s: got \"%.*s\", want error \"%s\"", what, (int)got_len,
                 got, want_err ? want_err : "(MemoryError)");
    if (kind_of(err) != want_kind)
        fail_msg("%s: error \"%s\" has kind %d, want %d", what, err,
                 kind_of(err), want_kind);
    if (want_err && strcmp(err, want_err) != 0)
        fail_msg("%s: error \"%s\", want \"%s\"", what, err, want_err);
    if (got_len != 0)
        fail_msg("%s: failed but appended \"%.*s\"", what, (int)got_len, got);
}

/* Output buffers start with this; it also makes the huge-width cases
 * exceed PTRDIFF_MAX, so StrBuf refuses them without asking malloc (which
 * AddressSanitizer would turn into an abort). */
#define MARK "prefix::"
#define MARK_LEN 8

typedef struct { double x; const char *out; } ReprCase;
typedef struct {
    double x;
    const char *spec, *out;
    int kind;
    const char *err;
} FloatCase;
typedef struct {
    const char *value, *spec, *out;
    int kind;
    const char *err;
} IntCase;
typedef struct {
    const char *s, *spec, *out;
    int kind;
    const char *err;
} StrCase;
typedef struct {
    const char *s;
    size_t len;
    int base;
    const char *out;
    int kind;
    const char *err;
} ParseIntCase;
typedef struct {
    const char *s;
    size_t len;
    const char *out;
    int kind;
    const char *err;
} ParseFloatCase;
typedef struct {
    double x;
    int ndigits;
    const char *out;
    int kind;
    const char *err;
} RoundCase;
typedef struct {
    const char *value, *out;
    int kind;
    const char *err;
} IntToDoubleCase;
typedef struct {
    const char *s;
    size_t len;
    const char *out;
} ReprStrCase;

#define COUNT(a) (sizeof(a) / sizeof *(a))

/* ---- tables generated from CPython 3.11 -------------------------------- */

static const ReprCase repr_cases[] = {
    {0.1 + 0.2, "0.30000000000000004"},
    {1.0 / 3, "0.3333333333333333"},
    {1e22, "1e+22"},
    {5e-324, "5e-324"},
    {1.7976931348623157e+308, "1.7976931348623157e+308"},
    {123456789.0, "123456789.0"},
    {0.0001, "0.0001"},
    {0.00001, "1e-05"},
    {1e15, "1000000000000000.0"},
    {1e16, "1e+16"},
    {-1.5, "-1.5"},
    {2.5e-3, "0.0025"},
    {0.0, "0.0"},
    {-0.0, "-0.0"},
    {2.0, "2.0"},
    {100.0, "100.0"},
    {1e+16, "1e+16"},
    {1.2345678901234568e+17, "1.2345678901234568e+17"},
    {9999999999999998.0, "9999999999999998.0"},
    {1e17, "1e+17"},
    {0.1, "0.1"},
    {1e-4, "0.0001"},
    {1.5e-5, "1.5e-05"},
    {2e16 + 8, "2.000000000000001e+16"},
    {9007199254740993.0, "9007199254740992.0"},
    {1e23, "1e+23"},
    {2.2250738585072014e-308, "2.2250738585072014e-308"},
    {2.225073858507201e-308, "2.225073858507201e-308"},
    {4.9406564584124654e-324 * 3, "1.5e-323"},
    {5.960464477539063e-08, "5.960464477539063e-08"},
    {0x1p-24, "5.960464477539063e-08"},
    {0x1p-25, "2.9802322387695312e-08"},
    {0x1p+60, "1.152921504606847e+18"},
    {2251799813685247.75, "2251799813685247.8"},
    {123.456, "123.456"},
    {-1234.5e-10, "-1.2345e-07"},
    {1e100, "1e+100"},
    {1.0 / 7e10, "1.4285714285714286e-11"},
    {12345678901234567890.0, "1.2345678901234567e+19"},
    {0.3, "0.3"},
    {2.675, "2.675"},
    {1e-07, "1e-07"},
    {INFINITY, "inf"},
    {-INFINITY, "-inf"},
    {NAN, "nan"},
    {-NAN, "nan"},
};
static const FloatCase float_cases[] = {
    {1.0, "", "1.0", 0, NULL},
    {1e+20, "", "1e+20", 0, NULL},
    {0.1, "", "0.1", 0, NULL},
    {1.5, "10", "       1.5", 0, NULL},
    {1e+16, "", "1e+16", 0, NULL},
    {1e-05, "", "1e-05", 0, NULL},
    {-0.0, "", "-0.0", 0, NULL},
    {123.456, ".2", "1.2e+02", 0, NULL},
    {123.0, ".3", "1.23e+02", 0, NULL},
    {1.0, ".3", "1.0", 0, NULL},
    {1e+20, ".3", "1e+20", 0, NULL},
    {0.0001, ".3", "0.0001", 0, NULL},
    {1234.5, ".10", "1234.5", 0, NULL},
    {1.5, "#", "1.5", 0, NULL},
    {1e+20, "#", "1.e+20", 0, NULL},
    {1.0, "#.3", "1.00", 0, NULL},
    {3.14159, ".2f", "3.14", 0, NULL},
    {2.675, ".2f", "2.67", 0, NULL},
    {0.125, ".2f", "0.12", 0, NULL},
    {0.375, ".2f", "0.38", 0, NULL},
    {2.5, ".0f", "2", 0, NULL},
    {3.5, ".0f", "4", 0, NULL},
    {-0.5, ".0f", "-0", 0, NULL},
    {1.0, ".0f", "1", 0, NULL},
    {1.0, "#.0f", "1.", 0, NULL},
    {1e+300, "f", "100000000000000005250476025520442024870446858110815915491585411551180245"
        "798890819578637137508044786404370444383288387817694252323536043057564479"
        "218478670698284838720092657580373783023379478809005936895323497079994508"
        "111903896764088007465274278014249457925878882005684283811566947219638686"
        "5459400540160.000000", 0, NULL},
    {1e+22, "f", "10000000000000000000000.000000", 0, NULL},
    {5e-324, ".330f", "0.0000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000004940656", 0, NULL},
    {0.3333333333333333, ".20f", "0.33333333333333331483", 0, NULL},
    {1.0, "F", "1.000000", 0, NULL},
    {0.5, ".1%", "50.0%", 0, NULL},
    {0.123456, "%", "12.345600%", 0, NULL},
    {1.0, ".0%", "100%", 0, NULL},
    {1e+307, "%", "inf%", 0, NULL},
    {1234567.891, ",.2f", "1,234,567.89", 0, NULL},
    {1234567.891, "_.2f", "1_234_567.89", 0, NULL},
    {-1234567.891, ",.2f", "-1,234,567.89", 0, NULL},
    {1234.5, ",", "1,234.5", 0, NULL},
    {1e+20, ",", "1e+20", 0, NULL},
    {12345.678, ",e", "1.234568e+04", 0, NULL},
    {12345.678, ",g", "12,345.7", 0, NULL},
    {1234567.0, ",.1%", "123,456,700.0%", 0, NULL},
    {12345.678, "+.3e", "+1.235e+04", 0, NULL},
    {12345.678, ".3E", "1.235E+04", 0, NULL},
    {0.0, "e", "0.000000e+00", 0, NULL},
    {-0.0, "e", "-0.000000e+00", 0, NULL},
    {1.0, ".0e", "1e+00", 0, NULL},
    {1.0, "#.0e", "1.e+00", 0, NULL},
    {9.99999, ".2e", "1.00e+01", 0, NULL},
    {1e-300, ".3e", "1.000e-300", 0, NULL},
    {5e-324, ".0e", "5e-324", 0, NULL},
    {1e+100, "E", "1.000000E+100", 0, NULL},
    {3.14159, "08.3f", "0003.142", 0, NULL},
    {-3.14159, "08.3f", "-003.142", 0, NULL},
    {3.14159, "+08.3f", "+003.142", 0, NULL},
    {3.14159, " 08.3f", " 003.142", 0, NULL},
    {3.14159, "^10", " 3.14159  ", 0, NULL},
    {3.14159, "*^11.2f", "***3.14****", 0, NULL},
    {3.14159, "<10.2f", "3.14      ", 0, NULL},
    {3.14159, ">10.2f", "      3.14", 0, NULL},
    {-3.14159, "=10.2f", "-     3.14", 0, NULL},
    {-3.14159, "x=10.2f", "-xxxxx3.14", 0, NULL},
    {-3.14159, "0<10.2f", "-3.1400000", 0, NULL},
    {1234.5, "012,.2f", "0,001,234.50", 0, NULL},
    {1234.5, "011,.2f", "0,001,234.50", 0, NULL},
    {1234.5, "013,.2f", "00,001,234.50", 0, NULL},
    {1234.5, "€^15,.1f", "€€€€1,234.5€€€€", 0, NULL},
    {1234.5, "😀>12_.1f", "😀😀😀😀😀1_234.5", 0, NULL},
    {-1234.5, "0=+14,", "-000,001,234.5", 0, NULL},
    {0.0001, "g", "0.0001", 0, NULL},
    {1e-05, "g", "1e-05", 0, NULL},
    {123456.0, "g", "123456", 0, NULL},
    {1234567.0, "g", "1.23457e+06", 0, NULL},
    {1234567.0, "G", "1.23457E+06", 0, NULL},
    {1e-10, "G", "1E-10", 0, NULL},
    {100.0, "g", "100", 0, NULL},
    {100.0, "#g", "100.000", 0, NULL},
    {0.0, "g", "0", 0, NULL},
    {1.5, ".0g", "2", 0, NULL},
    {1.5, "#.0g", "2.", 0, NULL},
    {123.456, ".30g", "123.456000000000003069544618484", 0, NULL},
    {2.5, ".1g", "2", 0, NULL},
    {1234.5, "n", "1234.5", 0, NULL},
    {1234.5, ".2n", "1.2e+03", 0, NULL},
    {1e+20, "n", "1e+20", 0, NULL},
    {INFINITY, ".2f", "inf", 0, NULL},
    {INFINITY, "F", "INF", 0, NULL},
    {-INFINITY, "e", "-inf", 0, NULL},
    {-INFINITY, "E", "-INF", 0, NULL},
    {NAN, "g", "nan", 0, NULL},
    {NAN, "G", "NAN", 0, NULL},
    {-NAN, "", "nan", 0, NULL},
    {INFINITY, "+", "+inf", 0, NULL},
    {INFINITY, "010", "0000000inf", 0, NULL},
    {-INFINITY, "=+10", "-      inf", 0, NULL},
    {INFINITY, "%", "inf%", 0, NULL},
    {NAN, ",.2f", "nan", 0, NULL},
    {INFINITY, "#", "inf", 0, NULL},
    {-INFINITY, "z", "-inf", 0, NULL},
    {-0.0, ".2f", "-0.00", 0, NULL},
    {-0.0, "z.2f", "0.00", 0, NULL},
    {-0.0001, ".2f", "-0.00", 0, NULL},
    {-0.0001, "z.2f", "0.00", 0, NULL},
    {-0.0001, "z.2e", "-1.00e-04", 0, NULL},
    {-0.0, "z", "0.0", 0, NULL},
    {-1e-10, "z.3g", "-1e-10", 0, NULL},
    {-0.004, "z.1%", "-0.4%", 0, NULL},
    {-0.5, "z.0f", "0", 0, NULL},
    {-0.5, "+z.0f", "+0", 0, NULL},
    {-1.5, "z.0f", "-2", 0, NULL},
    {1.5, " ", " 1.5", 0, NULL},
    {-1.5, " ", "-1.5", 0, NULL},
    {1.5, "+", "+1.5", 0, NULL},
    {1.5, "-", "1.5", 0, NULL},
    {1.5, ".1000f", "1.5000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000", 0, NULL},
    {0.1, ".60e", "1.000000000000000055511151231257827021181583404541015625000000e-01", 0, NULL},
    {0.1, ".800e", "1.0000000000000000555111512312578270211815834045410156250000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "0000000000e-01", 0, NULL},
    {5e-324, ".800g", "4.9406564584124654417656879286822137236505980261432476442558568250067550"
        "727020875186529983636163599237979656469544571773092665671035593979639877"
        "479601078187812630071319031140452784581716784898210368871863605699873072"
        "305000638740915356498438731247339727316961514003171538539807412623856559"
        "117102665855668676818703956031062493194527159149245532930545654440112748"
        "012970999954193198940908041656332452475714786901472678015935523861155013"
        "480352649347201937902681071074917033322268447533357208324319360923828934"
        "583680601060115061698097530783422773183292479049825247307763759272478746"
        "560847782037344696995336470179726777175851256605511991315048911014510378"
        "627381672509558373897335989936648099411642057026370902792427675445652290"
        "87538682506419718265533447265625e-324", 0, NULL},
    {1.0, "d", NULL, VE, "Unknown format code 'd' for object of type 'float'"},
    {1.0, "x", NULL, VE, "Unknown format code 'x' for object of type 'float'"},
    {1.0, "c", NULL, VE, "Unknown format code 'c' for object of type 'float'"},
    {1.0, "s", NULL, VE, "Unknown format code 's' for object of type 'float'"},
    {1.0, "ff", NULL, VE, "Invalid format specifier 'ff' for object of type 'float'"},
    {1.0, ".2ff", NULL, VE, "Invalid format specifier '.2ff' for object of type 'float'"},
    {1.0, "é", NULL, VE, "Unknown format code '\\xe9' for object of type 'float'"},
    {1.0, "\001", NULL, VE, "Unknown format code '\\x1' for object of type 'float'"},
    {1.0, " 5 ", NULL, VE, "Unknown format code '\\x20' for object of type 'float'"},
    {1.0, ",n", NULL, VE, "Cannot specify ',' with 'n'."},
    {1.0, "_n", NULL, VE, "Cannot specify '_' with 'n'."},
    {1.0, ",_", NULL, VE, "Cannot specify both ',' and '_'."},
    {1.0, "_,", NULL, VE, "Cannot specify both ',' and '_'."},
    {1.0, ".", NULL, VE, "Format specifier missing precision"},
    {1.0, ".f", NULL, VE, "Format specifier missing precision"},
    {1.0, ".2147483648f", NULL, VE, "precision too big"},
    {1.0, "99999999999999999999", NULL, VE, "Too many decimal digits in format string"},
    {1.0, ".99999999999999999999", NULL, VE, "Too many decimal digits in format string"},
    {1.0, "9223372036854775807", NULL, ME, NULL},
};
static const IntCase int_cases[] = {
    {"0", "", "0", 0, NULL},
    {"42", "", "42", 0, NULL},
    {"-42", "", "-42", 0, NULL},
    {"1267650600228229401496703205376", "", "1267650600228229401496703205376", 0, NULL},
    {"-1267650600228229401496703205376", "d", "-1267650600228229401496703205376", 0, NULL},
    {"42", "d", "42", 0, NULL},
    {"42", "5", "   42", 0, NULL},
    {"42", "<5", "42   ", 0, NULL},
    {"42", "^5", " 42  ", 0, NULL},
    {"42", "^6", "  42  ", 0, NULL},
    {"42", "*^7", "**42***", 0, NULL},
    {"42", "05d", "00042", 0, NULL},
    {"-5", "05d", "-0005", 0, NULL},
    {"-5", "05", "-0005", 0, NULL},
    {"5", "+05", "+0005", 0, NULL},
    {"5", " 05", " 0005", 0, NULL},
    {"-5", "<05", "-5000", 0, NULL},
    {"-5", "^05", "0-500", 0, NULL},
    {"5", "=5", "    5", 0, NULL},
    {"-5", "x=5", "-xxx5", 0, NULL},
    {"-5", "0=5", "-0005", 0, NULL},
    {"255", "b", "11111111", 0, NULL},
    {"255", "#b", "0b11111111", 0, NULL},
    {"255", "o", "377", 0, NULL},
    {"255", "#o", "0o377", 0, NULL},
    {"255", "x", "ff", 0, NULL},
    {"255", "#x", "0xff", 0, NULL},
    {"255", "X", "FF", 0, NULL},
    {"255", "#X", "0XFF", 0, NULL},
    {"-255", "#x", "-0xff", 0, NULL},
    {"-255", "#010x", "-0x00000ff", 0, NULL},
    {"255", "+#x", "+0xff", 0, NULL},
    {"255", " #o", " 0o377", 0, NULL},
    {"255", "^#12b", " 0b11111111 ", 0, NULL},
    {"0", "#b", "0b0", 0, NULL},
    {"0", "#x", "0x0", 0, NULL},
    {"1234567", ",", "1,234,567", 0, NULL},
    {"1234567", "_", "1_234_567", 0, NULL},
    {"-1234567", ",", "-1,234,567", 0, NULL},
    {"1234567", ",d", "1,234,567", 0, NULL},
    {"1234567", "_d", "1_234_567", 0, NULL},
    {"123", ",", "123", 0, NULL},
    {"1234", ",", "1,234", 0, NULL},
    {"18446744073709551616", ",", "18,446,744,073,709,551,616", 0, NULL},
    {"1234", "09,", "0,001,234", 0, NULL},
    {"1234", "010,", "00,001,234", 0, NULL},
    {"1234", "08,", "0,001,234", 0, NULL},
    {"1234", "0=9,", "0,001,234", 0, NULL},
    {"1234", "x=9,", "xxxx1,234", 0, NULL},
    {"-1234", "010,", "-0,001,234", 0, NULL},
    {"-1234", "+011_", "-00_001_234", 0, NULL},
    {"3735928559", "_x", "dead_beef", 0, NULL},
    {"3735928559", "#_X", "0XDEAD_BEEF", 0, NULL},
    {"3735928559", "#012_x", "0x0_dead_beef", 0, NULL},
    {"255", "_b", "1111_1111", 0, NULL},
    {"255", "#_b", "0b1111_1111", 0, NULL},
    {"134217728", "_o", "10_0000_0000", 0, NULL},
    {"11259375", "#015_x", "0x000_00ab_cdef", 0, NULL},
    {"65", "c", "A", 0, NULL},
    {"9786", "c", "☺", 0, NULL},
    {"128512", "c", "😀", 0, NULL},
    {"233", "^5c", "  é  ", 0, NULL},
    {"65", "*<3c", "A**", 0, NULL},
    {"65", "05c", "0000A", 0, NULL},
    {"65", "=3c", "  A", 0, NULL},
    {"1114111", "c", "\364\217\277\277", 0, NULL},
    {"1234", "n", "1234", 0, NULL},
    {"-1234", "08n", "-0001234", 0, NULL},
    {"1234", "#n", "1234", 0, NULL},
    {"100000000000000000000", "n", "100000000000000000000", 0, NULL},
    {"1234", "e", "1.234000e+03", 0, NULL},
    {"1234", ".2f", "1234.00", 0, NULL},
    {"1234", "%", "123400.000000%", 0, NULL},
    {"1234", ",.2f", "1,234.00", 0, NULL},
    {"-1234", "E", "-1.234000E+03", 0, NULL},
    {"1234", "g", "1234", 0, NULL},
    {"100000000000000000000", "g", "1e+20", 0, NULL},
    {"100000000000000000000", "f", "100000000000000000000.000000", 0, NULL},
    {"9007199254740993", "f", "9007199254740992.000000", 0, NULL},
    {"179769313486231580793728971405303415079934132710037826936173778980444968"
        "292764750946649017977587207096330286416692887910946555547851940402630657"
        "488671505820681908902000708383676273854845817711531764475730270069855571"
        "366959622842914819860834936475292719074168444365510704342711559699508093"
        "042880177904174497792", "e", NULL, OE, "int too large to convert to float"},
    {"12", ".1%", "1200.0%", 0, NULL},
    {"1", "z.1f", "1.0", 0, NULL},
    {"-1", "+.3G", "-1", 0, NULL},
    {"10000000000000000", "F", "10000000000000000.000000", 0, NULL},
    {"42", "+", "+42", 0, NULL},
    {"42", " ", " 42", 0, NULL},
    {"-42", " ", "-42", 0, NULL},
    {"42", "-", "42", 0, NULL},
    {"42", "#d", "42", 0, NULL},
    {"1", "d", "1", 0, NULL},
    {"5", "é<8", "5ééééééé", 0, NULL},
    {"5", "😀^9", "😀😀😀😀5😀😀😀😀", 0, NULL},
    {"5", "0<4", "5000", 0, NULL},
    {"5", "<04", "5000", 0, NULL},
    {"1", "q", NULL, VE, "Unknown format code 'q' for object of type 'int'"},
    {"1", "s", NULL, VE, "Unknown format code 's' for object of type 'int'"},
    {"1", "é", NULL, VE, "Unknown format code '\\xe9' for object of type 'int'"},
    {"1", "\001", NULL, VE, "Unknown format code '\\x1' for object of type 'int'"},
    {"1", " ", " 1", 0, NULL},
    {"1", "dd", NULL, VE, "Invalid format specifier 'dd' for object of type 'int'"},
    {"1", "5dd", NULL, VE, "Invalid format specifier '5dd' for object of type 'int'"},
    {"1", ".2", NULL, VE, "Precision not allowed in integer format specifier"},
    {"1", ".2d", NULL, VE, "Precision not allowed in integer format specifier"},
    {"1", ".2x", NULL, VE, "Precision not allowed in integer format specifier"},
    {"1", "z", NULL, VE, "Negative zero coercion (z) not allowed in integer format specifier"},
    {"1", "zd", NULL, VE, "Negative zero coercion (z) not allowed in integer format specifier"},
    {"1", "+c", NULL, VE, "Sign not allowed with integer format specifier 'c'"},
    {"1", "-c", NULL, VE, "Sign not allowed with integer format specifier 'c'"},
    {"1", " c", NULL, VE, "Sign not allowed with integer format specifier 'c'"},
    {"1", "#c", NULL, VE, "Alternate form (#) not allowed with integer format specifier 'c'"},
    {"1", ",c", NULL, VE, "Cannot specify ',' with 'c'."},
    {"1", "_c", NULL, VE, "Cannot specify '_' with 'c'."},
    {"1", ",n", NULL, VE, "Cannot specify ',' with 'n'."},
    {"1", "_n", NULL, VE, "Cannot specify '_' with 'n'."},
    {"1", ",b", NULL, VE, "Cannot specify ',' with 'b'."},
    {"1", ",x", NULL, VE, "Cannot specify ',' with 'x'."},
    {"1", ",X", NULL, VE, "Cannot specify ',' with 'X'."},
    {"1", ",o", NULL, VE, "Cannot specify ',' with 'o'."},
    {"1", ",_", NULL, VE, "Cannot specify both ',' and '_'."},
    {"1", "_,", NULL, VE, "Cannot specify both ',' and '_'."},
    {"1", ".", NULL, VE, "Format specifier missing precision"},
    {"1", ".d", NULL, VE, "Format specifier missing precision"},
    {"-1", "c", NULL, OE, "%c arg not in range(0x110000)"},
    {"1114112", "c", NULL, OE, "%c arg not in range(0x110000)"},
    {"9223372036854775808", "c", NULL, OE, "Python int too large to convert to C long"},
    {"-9223372036854775809", "c", NULL, OE, "Python int too large to convert to C long"},
    {"179769313486231590772930519078902473361797697894230657273430081157732675"
        "805500963132708477322407536021120113879871393357658789768814416622492847"
        "430639474124377767893424865485276302219601246094119453082952085005768838"
        "150682342462881473913110540827237163350510684586298239947245938479716304"
        "835356329624224137216", "e", NULL, OE, "int too large to convert to float"},
    {"-17976931348623159077293051907890247336179769789423065727343008115773267"
        "580550096313270847732240753602112011387987139335765878976881441662249284"
        "743063947412437776789342486548527630221960124609411945308295208500576883"
        "815068234246288147391311054082723716335051068458629823994724593847971630"
        "4835356329624224137216", "f", NULL, OE, "int too large to convert to float"},
    {"179769313486231580793728971405303415079934132710037826936173778980444968"
        "292764750946649017977587207096330286416692887910946555547851940402630657"
        "488671505820681908902000708383676273854845817711531764475730270069855571"
        "366959622842914819860834936475292719074168444365510704342711559699508093"
        "042880177904174497791", "e", "1.797693e+308", 0, NULL},
    {"1", ".2147483648f", NULL, VE, "precision too big"},
    {"1", "99999999999999999999", NULL, VE, "Too many decimal digits in format string"},
    {"1", "9223372036854775807", NULL, ME, NULL},
};
static const StrCase str_cases[] = {
    {"hello", "", "hello", 0, NULL},
    {"hello", "s", "hello", 0, NULL},
    {"hello", "10", "hello     ", 0, NULL},
    {"hello", "<10", "hello     ", 0, NULL},
    {"hello", ">10", "     hello", 0, NULL},
    {"hello", "^10", "  hello   ", 0, NULL},
    {"hello", "^11", "   hello   ", 0, NULL},
    {"hello", "*^11", "***hello***", 0, NULL},
    {"hello", "3", "hello", 0, NULL},
    {"hello", ".2", "he", 0, NULL},
    {"hello", "10.2", "he        ", 0, NULL},
    {"hello", ">10.3s", "       hel", 0, NULL},
    {"hello", ".0", "", 0, NULL},
    {"hello", ".10", "hello", 0, NULL},
    {"héllo", "^9", "  héllo  ", 0, NULL},
    {"héllo", ".2", "hé", 0, NULL},
    {"😀😀x", ">6", "   😀😀x", 0, NULL},
    {"😀😀x", ".2", "😀😀", 0, NULL},
    {"日本語", "€^7", "€€日本語€€", 0, NULL},
    {"ab", "😀<4", "ab😀😀", 0, NULL},
    {"ab", "05", "ab000", 0, NULL},
    {"ab", "005", "ab000", 0, NULL},
    {"ab", "0<5", "ab000", 0, NULL},
    {"ab", "x<05", "abxxx", 0, NULL},
    {"ab", "0>5", "000ab", 0, NULL},
    {"ab", "0^5", "0ab00", 0, NULL},
    {"", "3", "   ", 0, NULL},
    {"", ".2", "", 0, NULL},
    {"", "", "", 0, NULL},
    {"a\nb", "^6", " a\nb  ", 0, NULL},
    {"xxxxxxxxxxxxxxxxxxxx", "10", "xxxxxxxxxxxxxxxxxxxx", 0, NULL},
    {"ab", "=", NULL, VE, "'=' alignment not allowed in string format specifier"},
    {"ab", "=5", NULL, VE, "'=' alignment not allowed in string format specifier"},
    {"ab", "0=5", NULL, VE, "'=' alignment not allowed in string format specifier"},
    {"ab", "+", NULL, VE, "Sign not allowed in string format specifier"},
    {"ab", "-", NULL, VE, "Sign not allowed in string format specifier"},
    {"ab", " ", NULL, VE, "Space not allowed in string format specifier"},
    {"ab", "#", NULL, VE, "Alternate form (#) not allowed in string format specifier"},
    {"ab", "z", NULL, VE, "Negative zero coercion (z) not allowed in string format specifier"},
    {"ab", ",", NULL, VE, "Cannot specify ',' with 's'."},
    {"ab", "_", NULL, VE, "Cannot specify '_' with 's'."},
    {"ab", ",s", NULL, VE, "Cannot specify ',' with 's'."},
    {"ab", "d", NULL, VE, "Unknown format code 'd' for object of type 'str'"},
    {"ab", "x", NULL, VE, "Unknown format code 'x' for object of type 'str'"},
    {"ab", "é", NULL, VE, "Unknown format code '\\xe9' for object of type 'str'"},
    {"ab", "ss", NULL, VE, "Invalid format specifier 'ss' for object of type 'str'"},
    {"ab", "5ss", NULL, VE, "Invalid format specifier '5ss' for object of type 'str'"},
    {"ab", ".", NULL, VE, "Format specifier missing precision"},
    {"ab", ",_", NULL, VE, "Cannot specify both ',' and '_'."},
    {"ab", "+=", NULL, VE, "'=' alignment not allowed in string format specifier"},
    {"ab", ".5x", NULL, VE, "Unknown format code 'x' for object of type 'str'"},
    {"ab", ".2147483648", "ab", 0, NULL},
    {"ab", "99999999999999999999", NULL, VE, "Too many decimal digits in format string"},
    {"ab", "9223372036854775807", NULL, ME, NULL},
};
static const ParseIntCase parse_int_cases[] = {
    {"0", 1, 10, "0", 0, NULL},
    {"42", 2, 10, "42", 0, NULL},
    {"-42", 3, 10, "-42", 0, NULL},
    {"+42", 3, 10, "42", 0, NULL},
    {"  42  ", 6, 10, "42", 0, NULL},
    {"\t\n42\r\013\014", 7, 10, "42", 0, NULL},
    {"\302\24042\343\200\200", 7, 10, "42", 0, NULL},
    {"\342\200\250-7\302\205", 7, 10, "-7", 0, NULL},
    {"1_000_000", 9, 10, "1000000", 0, NULL},
    {"1__0", 4, 10, NULL, VE, "invalid literal for int() with base 10: '1__0'"},
    {"_1", 2, 10, NULL, VE, "invalid literal for int() with base 10: '_1'"},
    {"1_", 2, 10, NULL, VE, "invalid literal for int() with base 10: '1_'"},
    {"- 1", 3, 10, NULL, VE, "invalid literal for int() with base 10: '- 1'"},
    {"--1", 3, 10, NULL, VE, "invalid literal for int() with base 10: '--1'"},
    {"", 0, 10, NULL, VE, "invalid literal for int() with base 10: ''"},
    {"   ", 3, 10, NULL, VE, "invalid literal for int() with base 10: '   '"},
    {"abc", 3, 10, NULL, VE, "invalid literal for int() with base 10: 'abc'"},
    {"12a", 3, 10, NULL, VE, "invalid literal for int() with base 10: '12a'"},
    {"1 2", 3, 10, NULL, VE, "invalid literal for int() with base 10: '1 2'"},
    {"\0345", 2, 10, NULL, VE, "invalid literal for int() with base 10: '\\x1c5'"},
    {"4\000", 2, 10, NULL, VE, "invalid literal for int() with base 10: '4\\x00'"},
    {"123456789012345678901234567890", 30, 10, "123456789012345678901234567890", 0, NULL},
    {"-999999999999999999999999999999999999", 37, 0, "-999999999999999999999999999999999999", 0, NULL},
    {"0x1f", 4, 16, "31", 0, NULL},
    {"0X1F", 4, 16, "31", 0, NULL},
    {"1f", 2, 16, "31", 0, NULL},
    {"0x_1f", 5, 16, "31", 0, NULL},
    {"0x__1f", 6, 16, NULL, VE, "invalid literal for int() with base 16: '0x__1f'"},
    {"0x", 2, 16, NULL, VE, "invalid literal for int() with base 16: '0x'"},
    {"0x_", 3, 16, NULL, VE, "invalid literal for int() with base 16: '0x_'"},
    {"0b1", 3, 16, "177", 0, NULL},
    {"0o17", 4, 8, "15", 0, NULL},
    {"17", 2, 8, "15", 0, NULL},
    {"18", 2, 8, NULL, VE, "invalid literal for int() with base 8: '18'"},
    {"0b101", 5, 2, "5", 0, NULL},
    {"101", 3, 2, "5", 0, NULL},
    {"2", 1, 2, NULL, VE, "invalid literal for int() with base 2: '2'"},
    {"0b101", 5, 8, NULL, VE, "invalid literal for int() with base 8: '0b101'"},
    {"-0b1_0", 6, 2, "-2", 0, NULL},
    {"zz", 2, 36, "1295", 0, NULL},
    {"ZZ", 2, 36, "1295", 0, NULL},
    {"z", 1, 35, NULL, VE, "invalid literal for int() with base 35: 'z'"},
    {"10", 2, 3, "3", 0, NULL},
    {"0x10", 4, 0, "16", 0, NULL},
    {"0o10", 4, 0, "8", 0, NULL},
    {"0b10", 4, 0, "2", 0, NULL},
    {"0B10", 4, 0, "2", 0, NULL},
    {"0O10", 4, 0, "8", 0, NULL},
    {"10", 2, 0, "10", 0, NULL},
    {"0", 1, 0, "0", 0, NULL},
    {"00", 2, 0, "0", 0, NULL},
    {"0_0", 3, 0, "0", 0, NULL},
    {"000", 3, 0, "0", 0, NULL},
    {"07", 2, 0, NULL, VE, "invalid literal for int() with base 0: '07'"},
    {"010", 3, 0, NULL, VE, "invalid literal for int() with base 0: '010'"},
    {"0_7", 3, 0, NULL, VE, "invalid literal for int() with base 0: '0_7'"},
    {"-0x_ff", 6, 0, "-255", 0, NULL},
    {"0x", 2, 0, NULL, VE, "invalid literal for int() with base 0: '0x'"},
    {"0b2", 3, 0, NULL, VE, "invalid literal for int() with base 0: '0b2'"},
    {"1_0", 3, 0, "10", 0, NULL},
    {"0xg", 3, 0, NULL, VE, "invalid literal for int() with base 0: '0xg'"},
    {" 0b_1 ", 6, 0, "1", 0, NULL},
    {"5", 1, 1, NULL, VE, "int() base must be >= 2 and <= 36, or 0"},
    {"5", 1, 37, NULL, VE, "int() base must be >= 2 and <= 36, or 0"},
    {"5", 1, -1, NULL, VE, "int() base must be >= 2 and <= 36, or 0"},
    {"it's", 4, 10, NULL, VE, "invalid literal for int() with base 10: \"it's\""},
    {"say \"hi\"", 8, 10, NULL, VE, "invalid literal for int() with base 10: 'say \"hi\"'"},
    {"both '\"", 7, 10, NULL, VE, "invalid literal for int() with base 10: 'both \\'\"'"},
    {"tab\there", 8, 10, NULL, VE, "invalid literal for int() with base 10: 'tab\\there'"},
    {"back\\slash", 10, 10, NULL, VE, "invalid literal for int() with base 10: 'back\\\\slash'"},
    {"é€", 5, 10, NULL, VE, "invalid literal for int() with base 10: 'é€'"},
    {"\177\302\200", 3, 10, NULL, VE, "invalid literal for int() with base 10: '\\x7f\\x80'"},
    {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 250, 10, NULL, VE, "invalid literal for int() with base 10: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxx"},
};
static const ParseFloatCase parse_float_cases[] = {
    {"1.5", 3, "1.5", 0, NULL},
    {"-1.5", 4, "-1.5", 0, NULL},
    {"+1.5", 4, "1.5", 0, NULL},
    {"  1.5\n", 6, "1.5", 0, NULL},
    {"\302\2401.5\342\200\200", 8, "1.5", 0, NULL},
    {"1e10", 4, "10000000000.0", 0, NULL},
    {"1E10", 4, "10000000000.0", 0, NULL},
    {"1e+10", 5, "10000000000.0", 0, NULL},
    {"1e-10", 5, "1e-10", 0, NULL},
    {".5", 2, "0.5", 0, NULL},
    {"5.", 2, "5.0", 0, NULL},
    {"-.5e-3", 6, "-0.0005", 0, NULL},
    {"0.1", 3, "0.1", 0, NULL},
    {"1_000.000_1", 11, "1000.0001", 0, NULL},
    {"1_0e1_0", 7, "100000000000.0", 0, NULL},
    {"1__0", 4, NULL, VE, "could not convert string to float: '1__0'"},
    {"_1", 2, NULL, VE, "could not convert string to float: '_1'"},
    {"1_", 2, NULL, VE, "could not convert string to float: '1_'"},
    {"1_.5", 4, NULL, VE, "could not convert string to float: '1_.5'"},
    {"1._5", 4, NULL, VE, "could not convert string to float: '1._5'"},
    {"1_e5", 4, NULL, VE, "could not convert string to float: '1_e5'"},
    {"1e_5", 4, NULL, VE, "could not convert string to float: '1e_5'"},
    {"1e5_", 4, NULL, VE, "could not convert string to float: '1e5_'"},
    {"inf", 3, "inf", 0, NULL},
    {"-inf", 4, "-inf", 0, NULL},
    {"+INF", 4, "inf", 0, NULL},
    {"Infinity", 8, "inf", 0, NULL},
    {"-iNfInItY", 9, "-inf", 0, NULL},
    {"nan", 3, "nan", 0, NULL},
    {"NaN", 3, "nan", 0, NULL},
    {"-nan", 4, "-nan", 0, NULL},
    {"+nan", 4, "nan", 0, NULL},
    {"infinit", 7, NULL, VE, "could not convert string to float: 'infinit'"},
    {"infinityy", 9, NULL, VE, "could not convert string to float: 'infinityy'"},
    {"nan(1)", 6, NULL, VE, "could not convert string to float: 'nan(1)'"},
    {"in", 2, NULL, VE, "could not convert string to float: 'in'"},
    {"inf_", 4, NULL, VE, "could not convert string to float: 'inf_'"},
    {"i_nf", 4, NULL, VE, "could not convert string to float: 'i_nf'"},
    {"1e500", 5, "inf", 0, NULL},
    {"-1e500", 6, "-inf", 0, NULL},
    {"1e-500", 6, "0.0", 0, NULL},
    {"-1e-400", 7, "-0.0", 0, NULL},
    {"0x10", 4, NULL, VE, "could not convert string to float: '0x10'"},
    {"0x1p3", 5, NULL, VE, "could not convert string to float: '0x1p3'"},
    {"", 0, NULL, VE, "could not convert string to float: ''"},
    {" ", 1, NULL, VE, "could not convert string to float: ' '"},
    {".", 1, NULL, VE, "could not convert string to float: '.'"},
    {"e5", 2, NULL, VE, "could not convert string to float: 'e5'"},
    {"1e", 2, NULL, VE, "could not convert string to float: '1e'"},
    {"1e+", 3, NULL, VE, "could not convert string to float: '1e+'"},
    {"1.2.3", 5, NULL, VE, "could not convert string to float: '1.2.3'"},
    {"1 2", 3, NULL, VE, "could not convert string to float: '1 2'"},
    {"abc", 3, NULL, VE, "could not convert string to float: 'abc'"},
    {"1,5", 3, NULL, VE, "could not convert string to float: '1,5'"},
    {"\0341", 2, NULL, VE, "could not convert string to float: '\\x1c1'"},
    {"1\000", 2, NULL, VE, "could not convert string to float: '1\\x00'"},
    {"é", 2, NULL, VE, "could not convert string to float: 'é'"},
    {"2.2250738585072011e-308", 23, "2.225073858507201e-308", 0, NULL},
    {"4.9e-324", 8, "5e-324", 0, NULL},
    {"2.4703282292062328e-324", 23, "5e-324", 0, NULL},
    {"2.4703282292062327e-324", 23, "0.0", 0, NULL},
    {"1.7976931348623158e308", 22, "1.7976931348623157e+308", 0, NULL},
    {"1.7976931348623159e308", 22, "inf", 0, NULL},
    {"0.0000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000001e400", 407, "0.1", 0, NULL},
    {"111111111111111111111111111111111111111111111111111111111111111111111111"
        "111111111111111111111111111111111111111111111111111111111111111111111111"
        "111111111111111111111111111111111111111111111111111111111111111111111111"
        "111111111111111111111111111111111111111111111111111111111111111111111111"
        "111111111111111111111111111111111111111111111111111111111111111111111111"
        "1111111111111111111111111111111111111111e-400", 405, "0.1111111111111111", 0, NULL},
    {"it's", 4, NULL, VE, "could not convert string to float: \"it's\""},
    {"9007199254740993", 16, "9007199254740992.0", 0, NULL},
    {"00001", 5, "1.0", 0, NULL},
    {"-0", 2, "-0.0", 0, NULL},
    {"-0.0e5", 6, "-0.0", 0, NULL},
};
static const RoundCase round_cases[] = {
    {2.675, 2, "2.67", 0, NULL},
    {0.125, 2, "0.12", 0, NULL},
    {0.375, 2, "0.38", 0, NULL},
    {2.5, 0, "2.0", 0, NULL},
    {3.5, 0, "4.0", 0, NULL},
    {-2.5, 0, "-2.0", 0, NULL},
    {-0.4, 0, "-0.0", 0, NULL},
    {0.5, 0, "0.0", 0, NULL},
    {1.5, 0, "2.0", 0, NULL},
    {1.05, 1, "1.1", 0, NULL},
    {1.15, 1, "1.1", 0, NULL},
    {1.25, 1, "1.2", 0, NULL},
    {1.35, 1, "1.4", 0, NULL},
    {123.456, -1, "120.0", 0, NULL},
    {125.0, -1, "120.0", 0, NULL},
    {135.0, -1, "140.0", 0, NULL},
    {25.0, -1, "20.0", 0, NULL},
    {5.0, -1, "0.0", 0, NULL},
    {15.0, -1, "20.0", 0, NULL},
    {-4.0, -1, "-0.0", 0, NULL},
    {-25.5, -1, "-30.0", 0, NULL},
    {155.5, -2, "200.0", 0, NULL},
    {1234567.0, -3, "1235000.0", 0, NULL},
    {1.7e+308, -300, "1.7e+308", 0, NULL},
    {1.7e+308, -308, NULL, OE, "rounded value too large to represent"},
    {1.7976931348623157e+308, -308, NULL, OE, "rounded value too large to represent"},
    {1.7e+308, -309, "0.0", 0, NULL},
    {-1.7e+308, -400, "-0.0", 0, NULL},
    {123.0, -400, "0.0", 0, NULL},
    {5e-324, 323, "0.0", 0, NULL},
    {5e-324, 324, "5e-324", 0, NULL},
    {1e-320, 320, "1e-320", 0, NULL},
    {0.1, 400, "0.1", 0, NULL},
    {0.1, 17, "0.1", 0, NULL},
    {0.1, 16, "0.1", 0, NULL},
    {0.3333333333333333, 15, "0.333333333333333", 0, NULL},
    {INFINITY, 2, "inf", 0, NULL},
    {-INFINITY, -2, "-inf", 0, NULL},
    {NAN, 0, "nan", 0, NULL},
    {-0.0, 2, "-0.0", 0, NULL},
    {1e+300, 5, "1e+300", 0, NULL},
    {123456789.98765433, 4, "123456789.9877", 0, NULL},
    {-1e-20, 5, "-0.0", 0, NULL},
};
static const IntToDoubleCase int_to_double_cases[] = {
    {"0", "0.0", 0, NULL},
    {"1", "1.0", 0, NULL},
    {"-1", "-1.0", 0, NULL},
    {"9007199254740992", "9007199254740992.0", 0, NULL},
    {"9007199254740993", "9007199254740992.0", 0, NULL},
    {"9007199254740995", "9007199254740996.0", 0, NULL},
    {"-9007199254740993", "-9007199254740992.0", 0, NULL},
    {"18014398509481986", "1.8014398509481984e+16", 0, NULL},
    {"18014398509481990", "1.801439850948199e+16", 0, NULL},
    {"18014398509481987", "1.8014398509481988e+16", 0, NULL},
    {"10000000000000000000000", "1e+22", 0, NULL},
    {"100000000000000000000000", "1e+23", 0, NULL},
    {"18446744073709551615", "1.8446744073709552e+19", 0, NULL},
    {"-9223372036854775808", "-9.223372036854776e+18", 0, NULL},
    {"898846567431157953864652595394512366808988489471153286367150405788663379"
        "027504815663542386612037680105600569399356966788293948844072083112464237"
        "153197370621888839467124327426381511098006230470597265414760425028844190"
        "753411712314407369565552704136185816752553422931491199736229692398581524"
        "17678164812112068608", "8.98846567431158e+307", 0, NULL},
    {"179769313486231580793728971405303415079934132710037826936173778980444968"
        "292764750946649017977587207096330286416692887910946555547851940402630657"
        "488671505820681908902000708383676273854845817711531764475730270069855571"
        "366959622842914819860834936475292719074168444365510704342711559699508093"
        "042880177904174497791", "1.7976931348623157e+308", 0, NULL},
    {"179769313486231570814527423731704356798070567525844996598917476803157260"
        "780028538760589558632766878171540458953514382464234321326889464182768467"
        "546703537516986049910576551282076245490090389328944075868508455133942304"
        "583236903222948165808559332123348274797826204144723168738177180919299881"
        "250404026184124858368", "1.7976931348623157e+308", 0, NULL},
    {"179769313486231580793728971405303415079934132710037826936173778980444968"
        "292764750946649017977587207096330286416692887910946555547851940402630657"
        "488671505820681908902000708383676273854845817711531764475730270069855571"
        "366959622842914819860834936475292719074168444365510704342711559699508093"
        "042880177904174497792", NULL, OE, "int too large to convert to float"},
    {"179769313486231590772930519078902473361797697894230657273430081157732675"
        "805500963132708477322407536021120113879871393357658789768814416622492847"
        "430639474124377767893424865485276302219601246094119453082952085005768838"
        "150682342462881473913110540827237163350510684586298239947245938479716304"
        "835356329624224137216", NULL, OE, "int too large to convert to float"},
    {"-17976931348623159077293051907890247336179769789423065727343008115773267"
        "580550096313270847732240753602112011387987139335765878976881441662249284"
        "743063947412437776789342486548527630221960124609411945308295208500576883"
        "815068234246288147391311054082723716335051068458629823994724593847971630"
        "4835356329624224137216", NULL, OE, "int too large to convert to float"},
    {"100000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000", NULL, OE, "int too large to convert to float"},
};
static const ReprStrCase repr_str_cases[] = {
    {"", 0, "''"},
    {"abc", 3, "'abc'"},
    {"it's", 4, "\"it's\""},
    {"say \"hi\"", 8, "'say \"hi\"'"},
    {"both '\"", 7, "'both \\'\"'"},
    {"\\", 1, "'\\\\'"},
    {"a\nb\tc\rd", 7, "'a\\nb\\tc\\rd'"},
    {"\000\001\037\177", 4, "'\\x00\\x01\\x1f\\x7f'"},
    {"\302\200\302\237", 4, "'\\x80\\x9f'"},
    {"\302\240\302\255", 4, "'\\xa0\\xad'"},
    {"é€日本😀", 15, "'é€日本😀'"},
    {"\342\200\250\342\200\213\357\273\277", 9, "'\\u2028\\u200b\\ufeff'"},
    {"\356\200\200\363\260\200\200\364\217\277\275", 11, "'\\ue000\\U000f0000\\U0010fffd'"},
    {"😀", 4, "'😀'"},
    {"x'y\"z\\", 6, "'x\\'y\"z\\\\'"},
};
static const ReprStrCase repr_bytes_cases[] = {
    {"", 0, "b''"},
    {"abc", 3, "b'abc'"},
    {"it's", 4, "b\"it's\""},
    {"say \"hi\"", 8, "b'say \"hi\"'"},
    {"both '\"", 7, "b'both \\'\"'"},
    {"\\", 1, "b'\\\\'"},
    {"a\nb\tc\rd", 7, "b'a\\nb\\tc\\rd'"},
    {"\000\001\037\177", 4, "b'\\x00\\x01\\x1f\\x7f'"},
    {"\200\377", 2, "b'\\x80\\xff'"},
    {"\303\251", 2, "b'\\xc3\\xa9'"},
};

/* ---- tests ------------------------------------------------------------- */

/* repr with a '-' for negative NaNs, which Python's repr hides, so that
 * parse tests can check the sign too. */
static void signed_repr(double x, char *buf) {
    char *p = buf;
    if (isnan(x) && signbit(x))
        *p++ = '-';
    numfmt_float_repr(x, p);
}

static void test_float_repr(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(repr_cases); i++) {
        char buf[NUMFMT_REPR_BUFSIZE];
        size_t n = numfmt_float_repr(repr_cases[i].x, buf);
        char what[64];
        snprintf(what, sizeof what, "repr case %zu", i);
        check(what, true, buf, n, "", repr_cases[i].out, 0, NULL);
    }
}

/* The longest reprs fit the documented buffer size. */
static void test_float_repr_length(void **state) {
    (void)state;
    static const double longest[] = {-1.2345678901234567e-308, -2.2250738585072014e-308,
                                      -0.00012345678901234568, -1234567890123456.8,
                                      -1.7976931348623157e+308};
    for (size_t i = 0; i < COUNT(longest); i++) {
        char buf[NUMFMT_REPR_BUFSIZE];
        size_t n = numfmt_float_repr(longest[i], buf);
        assert_true(n < NUMFMT_REPR_BUFSIZE);
        assert_int_equal(n, strlen(buf));
        assert_true(strtod(buf, NULL) == longest[i]);
    }
}

/* Parses spec and runs one formatter; returns its result and leaves the
 * output after MARK in sb. */
typedef enum { AS_INT, AS_I64, AS_FLOAT, AS_STR } Target;

static void run_format(const char *what, Target target, const char *ival,
                       double fval, const char *sval, const char *spec,
                       const char *want, int want_kind, const char *want_err) {
    StrBuf sb;
    sb_init(&sb);
    assert_true(sb_append_cstr(&sb, MARK));
    char err[NUMFMT_ERRLEN] = "";
    FormatSpec fs;
    bool ok = numfmt_parse_spec(spec, strlen(spec), &fs, err, sizeof err);
    if (ok) {
        mpz_t v;
        switch (target) {
        case AS_INT:
            mpz_init_set_str(v, ival, 10);
            ok = numfmt_format_int(&fs, v, "int", &sb, err, sizeof err);
            mpz_clear(v);
            break;
        case AS_I64:
            ok = numfmt_format_i64(&fs, strtoll(ival, NULL, 10), "int", &sb,
                                   err, sizeof err);
            break;
        case AS_FLOAT:
            ok = numfmt_format_float(&fs, fval, "float", &sb, err, sizeof err);
            break;
        case AS_STR:
            ok = numfmt_format_str(&fs, sval, strlen(sval), "str", &sb, err,
                                   sizeof err);
            break;
        }
    }
    assert_memory_equal(sb.data, MARK, MARK_LEN);
    assert_int_equal(sb.data[sb.len], '\0');
    check(what, ok, sb.data + MARK_LEN, sb.len - MARK_LEN, err, want, want_kind,
          want_err);
    sb_free(&sb);
}

static void test_format_float(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(float_cases); i++) {
        const FloatCase *c = &float_cases[i];
        char what[96];
        snprintf(what, sizeof what, "format(%g, '%s')", c->x, c->spec);
        run_format(what, AS_FLOAT, NULL, c->x, NULL, c->spec, c->out, c->kind,
                   c->err);
    }
}

static void test_format_int(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(int_cases); i++) {
        const IntCase *c = &int_cases[i];
        char what[160];
        snprintf(what, sizeof what, "format(%.60s, '%s')", c->value, c->spec);
        run_format(what, AS_INT, c->value, 0, NULL, c->spec, c->out, c->kind,
                   c->err);
        /* The int64 fast path must agree wherever the value fits. */
        errno = 0;
        char *end;
        (void)strtoll(c->value, &end, 10);
        if (errno == 0 && *end == '\0')
            run_format(what, AS_I64, c->value, 0, NULL, c->spec, c->out,
                       c->kind, c->err);
    }
}

static void test_format_i64_extremes(void **state) {
    (void)state;
    run_format("i64 min", AS_I64, "-9223372036854775808", 0, NULL, ",",
               "-9,223,372,036,854,775,808", 0, NULL);
    run_format("i64 max", AS_I64, "9223372036854775807", 0, NULL, "#_x",
               "0x7fff_ffff_ffff_ffff", 0, NULL);
}

/* format(0, 'c') is a single NUL character. */
static void test_format_int_c_nul(void **state) {
    (void)state;
    FormatSpec fs;
    char err[NUMFMT_ERRLEN];
    StrBuf sb;
    sb_init(&sb);
    assert_true(numfmt_parse_spec("c", 1, &fs, err, sizeof err));
    assert_true(numfmt_format_i64(&fs, 0, "int", &sb, err, sizeof err));
    assert_int_equal(sb.len, 1);
    assert_int_equal(sb.data[0], '\0');
    sb_free(&sb);
}

static void test_format_str(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(str_cases); i++) {
        const StrCase *c = &str_cases[i];
        char what[96];
        snprintf(what, sizeof what, "format('%.30s', '%s')", c->s, c->spec);
        run_format(what, AS_STR, NULL, 0, c->s, c->spec, c->out, c->kind,
                   c->err);
    }
}

/* Errors quote the type name they are given. */
static void test_format_type_names(void **state) {
    (void)state;
    FormatSpec fs;
    char err[NUMFMT_ERRLEN];
    StrBuf sb;
    sb_init(&sb);
    assert_true(numfmt_parse_spec("s", 1, &fs, err, sizeof err));
    assert_false(numfmt_format_i64(&fs, 1, "bool", &sb, err, sizeof err));
    assert_string_equal(err, "Unknown format code 's' for object of type 'bool'");
    assert_true(numfmt_parse_spec("xx", 2, &fs, err, sizeof err));
    assert_false(numfmt_format_str(&fs, "a", 1, "MyStr", &sb, err, sizeof err));
    assert_string_equal(err, "Invalid format specifier 'xx' for object of type 'MyStr'");
    assert_int_equal(sb.len, 0);
    sb_free(&sb);
}

/* A width too large to allocate is a MemoryError, not a crash or a hang. */
static void test_format_huge_width(void **state) {
    (void)state;
    run_format("float", AS_FLOAT, NULL, 1.5, NULL, "9223372036854775807", NULL, ME, NULL);
    run_format("str", AS_STR, NULL, 0, "a", "<9223372036854775807", NULL, ME, NULL);
    run_format("multi-byte fill", AS_I64, "1", 0, NULL,
               "\xe2\x82\xac>9223372036854775807", NULL, ME, NULL);
    run_format("zero padding", AS_I64, "1234", 0, NULL, "0=+9223372036854775807,",
               NULL, ME, NULL);
    run_format("zero padding by 4", AS_INT, "1234", 0, NULL, "09223372036854775807_x",
               NULL, ME, NULL);
    run_format("string", AS_STR, NULL, 0, "ab", "9223372036854775807", NULL, ME,
               NULL);
}

static void test_parse_spec_fields(void **state) {
    (void)state;
    FormatSpec fs;
    char err[NUMFMT_ERRLEN];
    const char *s = "*<+z#010,.3f";
    assert_true(numfmt_parse_spec(s, strlen(s), &fs, err, sizeof err));
    assert_true(fs.fill_given);
    assert_int_equal(fs.fill, '*');
    assert_int_equal(fs.align, '<');
    assert_int_equal(fs.sign, '+');
    assert_true(fs.no_neg_0);
    assert_true(fs.alternate);
    assert_false(fs.zero); /* with an explicit fill, '0' starts the width */
    assert_int_equal(fs.width, 10);
    assert_int_equal(fs.grouping, ',');
    assert_int_equal(fs.precision, 3);
    assert_int_equal(fs.type, 'f');
    assert_false(fs.invalid);

    s = "\xf0\x9f\x98\x80^_";
    assert_true(numfmt_parse_spec(s, strlen(s), &fs, err, sizeof err));
    assert_int_equal(fs.fill, 0x1F600);
    assert_int_equal(fs.align, '^');
    assert_int_equal(fs.grouping, '_');
    assert_int_equal(fs.type, 0);

    assert_true(numfmt_parse_spec("05", 2, &fs, err, sizeof err));
    assert_false(fs.fill_given);
    assert_true(fs.zero);
    assert_int_equal(fs.align, 0);
    assert_int_equal(fs.width, 5);

    assert_true(numfmt_parse_spec("", 0, &fs, err, sizeof err));
    assert_false(fs.fill_given || fs.zero || fs.alternate || fs.no_neg_0 || fs.invalid);
    assert_int_equal(fs.align, 0);
    assert_int_equal(fs.sign, 0);
    assert_int_equal(fs.grouping, 0);
    assert_int_equal(fs.width, -1);
    assert_int_equal(fs.precision, -1);
    assert_int_equal(fs.type, 0);

    /* A non-ASCII type is one code point; two trailing characters are an
     * error reported later, quoting the whole spec. */
    s = "\xc3\xa9";
    assert_true(numfmt_parse_spec(s, strlen(s), &fs, err, sizeof err));
    assert_int_equal(fs.type, 0xE9);
    assert_true(numfmt_parse_spec("10dd", 4, &fs, err, sizeof err));
    assert_true(fs.invalid);
    assert_int_equal(fs.text_len, 4);
}

static void test_parse_spec_errors(void **state) {
    (void)state;
    static const struct { const char *spec, *err; } cases[] = {
        {".", "Format specifier missing precision"},
        {"10.f", "Format specifier missing precision"},
        {".,", "Format specifier missing precision"},
        {",_", "Cannot specify both ',' and '_'."},
        {"_,", "Cannot specify both ',' and '_'."},
        {"99999999999999999999", "Too many decimal digits in format string"},
        {"9223372036854775808", "Too many decimal digits in format string"},
        {".9223372036854775808", "Too many decimal digits in format string"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        FormatSpec fs;
        char err[NUMFMT_ERRLEN];
        if (numfmt_parse_spec(cases[i].spec, strlen(cases[i].spec), &fs, err, sizeof err))
            fail_msg("spec '%s' parsed", cases[i].spec);
        assert_string_equal(err, cases[i].err);
    }
    FormatSpec fs;
    assert_true(numfmt_parse_spec("9223372036854775807", 19, &fs, NULL, 0));
    assert_int_equal(fs.width, INT64_MAX);
}

static void test_parse_int(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(parse_int_cases); i++) {
        const ParseIntCase *c = &parse_int_cases[i];
        mpz_t v;
        mpz_init(v);
        char err[NUMFMT_ERRLEN] = "";
        bool ok = numfmt_parse_int(c->s, c->len, c->base, v, err, sizeof err);
        char *got = ok ? mpz_get_str(NULL, 10, v) : NULL;
        char what[96];
        snprintf(what, sizeof what, "int('%.40s', %d)", c->s, c->base);
        check(what, ok, got ? got : "", got ? strlen(got) : 0, err, c->out,
              c->kind, c->err);
        free(got);
        mpz_clear(v);
    }
}

static void test_parse_int_literal(void **state) {
    (void)state;
    static const struct { const char *text; int base; const char *want; } cases[] = {
        {"0", 10, "0"}, {"1_000", 10, "1000"}, {"0_0", 10, "0"}, {"00", 10, "0"},
        {"0x_ff", 16, "255"}, {"0XFF", 16, "255"}, {"ff", 16, "255"}, {"0o1_7", 8, "15"},
        {"17", 8, "15"}, {"0b1_0", 2, "2"}, {"0B1", 2, "1"},
        {"123456789012345678901234567890123456789012345678901234567890123456789", 10,
         "123456789012345678901234567890123456789012345678901234567890123456789"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        mpz_t v;
        mpz_init(v);
        assert_true(numfmt_parse_int_literal(cases[i].text, strlen(cases[i].text),
                                             cases[i].base, v));
        char *got = mpz_get_str(NULL, 10, v);
        assert_string_equal(got, cases[i].want);
        free(got);
        mpz_clear(v);
    }
    mpz_t v;
    mpz_init(v);
    assert_false(numfmt_parse_int_literal("1__0", 4, 10, v));
    assert_false(numfmt_parse_int_literal("0x", 2, 16, v));
    mpz_clear(v);
}

static void test_parse_float(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(parse_float_cases); i++) {
        const ParseFloatCase *c = &parse_float_cases[i];
        double d = 0;
        char err[NUMFMT_ERRLEN] = "", got[NUMFMT_REPR_BUFSIZE + 1] = "";
        bool ok = numfmt_parse_float(c->s, c->len, &d, err, sizeof err);
        if (ok)
            signed_repr(d, got);
        char what[96];
        snprintf(what, sizeof what, "float('%.40s')", c->s);
        check(what, ok, got, strlen(got), err, c->out, c->kind, c->err);
    }
}

static void test_round(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(round_cases); i++) {
        const RoundCase *c = &round_cases[i];
        double d = 0;
        char got[NUMFMT_REPR_BUFSIZE] = "";
        bool ok = numfmt_round_double(c->x, c->ndigits, &d);
        if (ok)
            numfmt_float_repr(d, got);
        char what[96];
        snprintf(what, sizeof what, "round(%.17g, %d)", c->x, c->ndigits);
        check(what, ok, got, strlen(got), ok ? "" : "rounded value too large to represent",
              c->out, c->kind, c->err);
    }
    double d;
    assert_true(numfmt_round_double(-0.0, 0, &d));
    assert_true(d == 0 && signbit(d));
    assert_true(numfmt_round_double(-123.0, INT_MIN, &d));
    assert_true(d == 0 && signbit(d));
    assert_true(numfmt_round_double(0.1, INT_MAX, &d));
    assert_true(d == 0.1);
}

static void test_int_to_double(void **state) {
    (void)state;
    for (size_t i = 0; i < COUNT(int_to_double_cases); i++) {
        const IntToDoubleCase *c = &int_to_double_cases[i];
        mpz_t v;
        mpz_init_set_str(v, c->value, 10);
        double d = 0;
        char got[NUMFMT_REPR_BUFSIZE] = "";
        bool ok = numfmt_int_to_double(v, &d);
        if (ok)
            numfmt_float_repr(d, got);
        char what[96];
        snprintf(what, sizeof what, "float(%.50s)", c->value);
        check(what, ok, got, strlen(got), ok ? "" : "int too large to convert to float",
              c->out, c->kind, c->err);
        mpz_clear(v);
    }
}

static void run_repr(const ReprStrCase *cases, size_t n, bool bytes) {
    for (size_t i = 0; i < n; i++) {
        StrBuf sb;
        sb_init(&sb);
        assert_true(sb_append_cstr(&sb, MARK));
        bool ok = bytes ? numfmt_repr_bytes(cases[i].s, cases[i].len, &sb)
                        : numfmt_repr_str(cases[i].s, cases[i].len, &sb);
        char what[64];
        snprintf(what, sizeof what, "repr case %zu", i);
        check(what, ok, sb.data + MARK_LEN, sb.len - MARK_LEN, "", cases[i].out, 0,
              NULL);
        sb_free(&sb);
    }
}

static void test_repr_str(void **state) {
    (void)state;
    run_repr(repr_str_cases, COUNT(repr_str_cases), false);
    /* Not producible in Python: malformed UTF-8 bytes are escaped. */
    static const ReprStrCase malformed[] = {
        {"a\377b", 3, "'a\\xffb'"},
        {"\342\202", 2, "'\\xe2\\x82'"},
        {"\300\200", 2, "'\\xc0\\x80'"},
        {"\355\240\200", 3, "'\\ud800'"}, /* a lone surrogate, WTF-8 style */
    };
    run_repr(malformed, COUNT(malformed), false);
}

static void test_repr_bytes(void **state) {
    (void)state;
    run_repr(repr_bytes_cases, COUNT(repr_bytes_cases), true);
}

static void test_error_kind(void **state) {
    (void)state;
    assert_int_equal(numfmt_error_kind(NUMFMT_MSG_NOMEM), NUMFMT_MEMORY_ERROR);
    assert_int_equal(numfmt_error_kind("int too large to convert to float"),
                     NUMFMT_OVERFLOW_ERROR);
    assert_int_equal(numfmt_error_kind("%c arg not in range(0x110000)"),
                     NUMFMT_OVERFLOW_ERROR);
    assert_int_equal(numfmt_error_kind("Python int too large to convert to C long"),
                     NUMFMT_OVERFLOW_ERROR);
    assert_int_equal(numfmt_error_kind("rounded value too large to represent"),
                     NUMFMT_OVERFLOW_ERROR);
    assert_int_equal(numfmt_error_kind("Format specifier missing precision"),
                     NUMFMT_VALUE_ERROR);
}

/* A short err buffer truncates the message; no buffer at all is allowed. */
static void test_small_err_buffer(void **state) {
    (void)state;
    char err[8];
    mpz_t v;
    mpz_init(v);
    assert_false(numfmt_parse_int("x", 1, 10, v, err, sizeof err));
    assert_string_equal(err, "invalid");
    assert_false(numfmt_parse_int("x", 1, 10, v, NULL, 0));
    mpz_clear(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_repr),
        cmocka_unit_test(test_float_repr_length),
        cmocka_unit_test(test_format_float),
        cmocka_unit_test(test_format_int),
        cmocka_unit_test(test_format_i64_extremes),
        cmocka_unit_test(test_format_int_c_nul),
        cmocka_unit_test(test_format_str),
        cmocka_unit_test(test_format_type_names),
        cmocka_unit_test(test_format_huge_width),
        cmocka_unit_test(test_parse_spec_fields),
        cmocka_unit_test(test_parse_spec_errors),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_parse_int_literal),
        cmocka_unit_test(test_parse_float),
        cmocka_unit_test(test_round),
        cmocka_unit_test(test_int_to_double),
        cmocka_unit_test(test_repr_str),
        cmocka_unit_test(test_repr_bytes),
        cmocka_unit_test(test_error_kind),
        cmocka_unit_test(test_small_err_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
