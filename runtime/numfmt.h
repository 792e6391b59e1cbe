/* Numbers to text and back, following CPython 3.11 exactly: float repr,
 * the format-spec mini-language for int/float/str, int()/float() parsing,
 * round(float, n) and repr() of str/bytes.
 *
 * Everything is reentrant (no static mutable state).  snprintf/strtod are
 * used for correctly rounded conversions, so LC_NUMERIC must be "C" (the
 * interpreter never calls setlocale for it); the 'n' presentation type
 * therefore behaves as in the C locale (no grouping, '.' point).
 *
 * Errors: functions taking (err, errlen) return false and write the
 * message CPython would raise into err (NUMFMT_ERRLEN bytes is enough).
 * Most are ValueErrors; numfmt_error_kind() tells which exception a message
 * stands for (a few are OverflowErrors, and NUMFMT_MSG_NOMEM means
 * MemoryError, which CPython raises without a message).  On failure
 * nothing is appended to the output StrBuf.
 * GMP itself aborts if it cannot allocate; that is outside our control. */
#ifndef MINI_RUNTIME_NUMFMT_H
#define MINI_RUNTIME_NUMFMT_H

#include <gmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/strbuf.h"

#define NUMFMT_ERRLEN 256
#define NUMFMT_MSG_NOMEM "out of memory"

typedef enum NumfmtErrorKind {
    NUMFMT_VALUE_ERROR,
    NUMFMT_OVERFLOW_ERROR,
    NUMFMT_MEMORY_ERROR,
} NumfmtErrorKind;

/* The Python exception class for a message written by this module. */
NumfmtErrorKind numfmt_error_kind(const char *err);

/* ---- float repr ---------------------------------------------------- */

#define NUMFMT_REPR_BUFSIZE 32
/* repr(x) == str(x): shortest round-tripping digits, Python's layout.
 * Writes a NUL-terminated string into buf (>= NUMFMT_REPR_BUFSIZE bytes)
 * and returns its length. */
size_t numfmt_float_repr(double x, char *buf);

/* ---- format specs --------------------------------------------------- */

/* [[fill]align][sign][z][#][0][width][,|_][.precision][type], parsed
 * without knowing the object's type; defaults that depend on it (type,
 * alignment, what a leading '0' means) are applied by the formatters. */
typedef struct FormatSpec {
    uint32_t fill;      /* fill code point, valid if fill_given */
    uint32_t type;      /* presentation type code point, 0 if absent */
    int64_t width;      /* -1 if absent */
    int64_t precision;  /* -1 if absent */
    char align;         /* '<' '>' '^' '=' or 0 if absent */
    char sign;          /* '+' '-' ' ' or 0 if absent */
    char grouping;      /* ',' '_' or 0 */
    bool fill_given;
    bool zero;          /* '0' before the width, without an explicit fill */
    bool alternate;     /* '#' */
    bool no_neg_0;      /* 'z' */
    /* More than one character followed the precision.  The formatters
     * then fail with "Invalid format specifier '<text>' for object of type
     * '<type>'", quoting text (a pointer into the parsed spec, so the spec
     * string must still be alive when formatting). */
    bool invalid;
    const char *text;
    size_t text_len;
} FormatSpec;

/* Parses a UTF-8 spec.  Fails (ValueError) for errors that do not depend
 * on the type: "Format specifier missing precision", "Cannot specify both
 * ',' and '_'.", "Too many decimal digits in format string".  The empty
 * spec yields the all-defaults FormatSpec. */
bool numfmt_parse_spec(const char *spec, size_t len, FormatSpec *out,
                       char *err, size_t errlen);

/* format(value, spec) for int/float/str.  type_name is the Python type
 * name used in messages ("int", "bool", "float", "str", ...).  Callers must
 * handle the empty spec of a non-exact type themselves: format(True, '')
 * is str(True), not '1'. */
bool numfmt_format_int(const FormatSpec *spec, const mpz_t value,
                       const char *type_name, StrBuf *out,
                       char *err, size_t errlen);
bool numfmt_format_i64(const FormatSpec *spec, int64_t value,
                       const char *type_name, StrBuf *out,
                       char *err, size_t errlen);
bool numfmt_format_float(const FormatSpec *spec, double value,
                         const char *type_name, StrBuf *out,
                         char *err, size_t errlen);
/* Width and precision count code points. */
bool numfmt_format_str(const FormatSpec *spec, const char *utf8, size_t len,
                       const char *type_name, StrBuf *out,
                       char *err, size_t errlen);

/* ---- parsing -------------------------------------------------------- */

/* int(s, base): base 0 or 2..36; surrounding whitespace, sign, prefixes,
 * single underscores between digits.  ASCII digits only.  CPython 3.11's
 * int_max_str_digits limit (4300 digits) is not applied.  The parsers
 * leave *out unchanged when they fail. */
bool numfmt_parse_int(const char *s, size_t len, int base, mpz_t out,
                      char *err, size_t errlen);
/* A source literal's text as validated by the lexer (underscores and, if
 * present, the 0x/0o/0b prefix matching base).  False only if malformed
 * or out of memory. */
bool numfmt_parse_int_literal(const char *text, size_t len, int base,
                              mpz_t out);
/* float(s): whitespace, sign, decimal digits with underscores, exponent,
 * inf/infinity/nan in any case.  Overflow gives +-inf as in Python. */
bool numfmt_parse_float(const char *s, size_t len, double *out,
                        char *err, size_t errlen);

/* ---- conversions ---------------------------------------------------- */

/* float(v), correctly rounded (half-even).  False if |v| is too large:
 * OverflowError "int too large to convert to float". */
bool numfmt_int_to_double(const mpz_t v, double *out);

/* round(x, ndigits), correctly rounded on the exact decimal value.
 * Callers clamp huge ndigits into int range (beyond +-400 the result no
 * longer changes).  False: OverflowError "rounded value too large to
 * represent". */
bool numfmt_round_double(double x, int ndigits, double *out);

/* ---- repr ------------------------------------------------------------ */

/* repr(str): Python's quote choice and escapes.  Non-printable code points
 * (per Unicode 14, except that unassigned ones count as printable) become
 * \xNN, \uNNNN or \UNNNNNNNN; malformed UTF-8 bytes become \xNN.
 * False (nothing appended) if out of memory. */
bool numfmt_repr_str(const char *utf8, size_t len, StrBuf *out);
/* repr(bytes): b'...' */
bool numfmt_repr_bytes(const char *bytes, size_t len, StrBuf *out);

#endif
