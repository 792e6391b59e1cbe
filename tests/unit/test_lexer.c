/* Tokenizer of mini: line structure, literals, positions, lexical errors,
 * string decoding and f-string splitting. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "grammar/ast.h"
#include "grammar/parse.h"

#include "support.h"

typedef struct TokCase {
    const char *src;
    const char *tokens;
} TokCase;

typedef struct DumpCase {
    const char *src;
    const char *dump;
} DumpCase;

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check_tokens(const TokCase *cases, size_t n, bool positions)
{
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        Arena arena;
        arena_init(&arena);
        const char *dump = NULL;
        ParseResult r = parse_tokens(&arena, cases[i].src, strlen(cases[i].src), positions, &dump);
        if (r.status != PARSE_OK || strcmp(dump, cases[i].tokens) != 0) {
            print_error("source:   %s\nexpected: %s\ngot:      %s\nerror:    %s\n", cases[i].src,
                        cases[i].tokens, dump, r.status == PARSE_OK ? "-" : r.error.msg);
            failures++;
        }
        arena_free(&arena);
    }
    assert_int_equal(failures, 0);
}

/* Parses each source as an expression and compares the dump. */
static void check_exprs(const DumpCase *cases, size_t n)
{
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        Arena arena;
        arena_init(&arena);
        ParseResult r = parse_expression(&arena, cases[i].src, strlen(cases[i].src));
        const char *got = r.status == PARSE_OK ? ast_dump_string(r.ast, &arena) : r.error.msg;
        if (r.status != PARSE_OK || strcmp(got, cases[i].dump) != 0) {
            print_error("source:   %s\nexpected: %s\ngot:      %s\n", cases[i].src, cases[i].dump, got);
            failures++;
        }
        arena_free(&arena);
    }
    assert_int_equal(failures, 0);
}

static void test_line_structure(void **state)
{
    static const TokCase cases[] = {
        { "x = 1\n", "NAME(x) = INT(1) NEWLINE ENDMARKER" },
        /* No trailing newline: NEWLINE is still produced. */
        { "x = 1", "NAME(x) = INT(1) NEWLINE ENDMARKER" },
        { "", "ENDMARKER" },
        { "\n", "ENDMARKER" },
        { "   ", "ENDMARKER" },
        { "    \n\t\n", "ENDMARKER" },
        { "\n\n# only a comment\n   # indented comment\n", "ENDMARKER" },
        { "x  # trailing comment", "NAME(x) NEWLINE ENDMARKER" },
        { "a; b;\n", "NAME(a) ; NAME(b) ; NEWLINE ENDMARKER" },
        { "if x:\n    y = 1\n    if z:\n        w\nv\n",
          "if NAME(x) : NEWLINE INDENT NAME(y) = INT(1) NEWLINE if NAME(z) : NEWLINE INDENT NAME(w) "
          "NEWLINE DEDENT DEDENT NAME(v) NEWLINE ENDMARKER" },
        /* Blank and comment-only lines do not count, whatever their indentation. */
        { "if x:\n    y\n\n    # comment at other indent\n        # deeper comment\n  \n    z\n",
          "if NAME(x) : NEWLINE INDENT NAME(y) NEWLINE NAME(z) NEWLINE DEDENT ENDMARKER" },
        /* Open blocks are closed at the end of input. */
        { "def f():\n    if a:\n        return 1",
          "def NAME(f) ( ) : NEWLINE INDENT if NAME(a) : NEWLINE INDENT return INT(1) NEWLINE DEDENT "
          "DEDENT ENDMARKER" },
        /* Implicit line joining: no NEWLINE or INDENT inside brackets. */
        { "x = (1,\n  2,\n     3)\ny = [\n]\nz = {\n'a':\n1}\n",
          "NAME(x) = ( INT(1) , INT(2) , INT(3) ) NEWLINE NAME(y) = [ ] NEWLINE NAME(z) = { "
          "STRING('a') : INT(1) } NEWLINE ENDMARKER" },
        { "f(a,  # comment inside brackets\n  b)\n", "NAME(f) ( NAME(a) , NAME(b) ) NEWLINE ENDMARKER" },
        /* Backslash continuation. */
        { "x = 1 + \\\n    2\n", "NAME(x) = INT(1) + INT(2) NEWLINE ENDMARKER" },
        { "if a and \\\n   b:\n    pass\n",
          "if NAME(a) and NAME(b) : NEWLINE INDENT pass NEWLINE DEDENT ENDMARKER" },
        /* CRLF and CR line ends. */
        { "x = 1\r\ny = 2\r\n", "NAME(x) = INT(1) NEWLINE NAME(y) = INT(2) NEWLINE ENDMARKER" },
        { "x = 1\ry = 2\r", "NAME(x) = INT(1) NEWLINE NAME(y) = INT(2) NEWLINE ENDMARKER" },
        { "if x:\r\n\ty = 1\r\n", "if NAME(x) : NEWLINE INDENT NAME(y) = INT(1) NEWLINE DEDENT ENDMARKER" },
        /* Tabs: consistent tab indentation. */
        { "if x:\n\tif y:\n\t\tz\n",
          "if NAME(x) : NEWLINE INDENT if NAME(y) : NEWLINE INDENT NAME(z) NEWLINE DEDENT DEDENT ENDMARKER" },
        /* A form feed resets the indentation count. */
        { "if x:\n    a\n\fb\n", "if NAME(x) : NEWLINE INDENT NAME(a) NEWLINE DEDENT NAME(b) NEWLINE ENDMARKER" },
        /* A UTF-8 byte order mark is skipped. */
        { "\xef\xbb\xbfx\n", "NAME(x) NEWLINE ENDMARKER" },
    };
    (void)state;
    check_tokens(cases, N(cases), false);
}

static void test_positions(void **state)
{
    static const TokCase cases[] = {
        { "x = 1\n", "NAME(x)@1:1 =@1:3 INT(1)@1:5 NEWLINE@1:6 ENDMARKER@2:1" },
        { "if x:\n    y = 1\n    if z:\n        w\nv\n",
          "if@1:1 NAME(x)@1:4 :@1:5 NEWLINE@1:6 INDENT@2:5 NAME(y)@2:5 =@2:7 INT(1)@2:9 NEWLINE@2:10 "
          "if@3:5 NAME(z)@3:8 :@3:9 NEWLINE@3:10 INDENT@4:9 NAME(w)@4:9 NEWLINE@4:10 DEDENT@5:1 "
          "DEDENT@5:1 NAME(v)@5:1 NEWLINE@5:2 ENDMARKER@6:1" },
        { "x = (1,\n  2)\n", "NAME(x)@1:1 =@1:3 (@1:5 INT(1)@1:6 ,@1:7 INT(2)@2:3 )@2:4 NEWLINE@2:5 ENDMARKER@3:1" },
        { "x = 1 + \\\n    2\n", "NAME(x)@1:1 =@1:3 INT(1)@1:5 +@1:7 INT(2)@2:5 NEWLINE@2:6 ENDMARKER@3:1" },
        { "x = 1\r\ny = 2\r\n",
          "NAME(x)@1:1 =@1:3 INT(1)@1:5 NEWLINE@1:6 NAME(y)@2:1 =@2:3 INT(2)@2:5 NEWLINE@2:6 ENDMARKER@3:1" },
        /* Columns count bytes. */
        { "\xcf\x80 = na\xc3\xafve + \xe5\x8f\x98\xe9\x87\x8f\n",
          "NAME(\xcf\x80)@1:1 =@1:4 NAME(na\xc3\xafve)@1:6 +@1:13 NAME(\xe5\x8f\x98\xe9\x87\x8f)@1:15 "
          "NEWLINE@1:21 ENDMARKER@2:1" },
        /* Tokens after a multi-line string. */
        { "'''a\nb''' x\n", "STRING('''a\\nb''')@1:1 NAME(x)@2:6 NEWLINE@2:7 ENDMARKER@3:1" },
        { "'a\\\nb' x\n", "STRING('a\\\\nb')@1:1 NAME(x)@2:4 NEWLINE@2:5 ENDMARKER@3:1" },
        { "\tx = 1\n", "INDENT@1:2 NAME(x)@1:2 =@1:4 INT(1)@1:6 NEWLINE@1:7 DEDENT@2:1 ENDMARKER@2:1" },
    };
    (void)state;
    check_tokens(cases, N(cases), true);
}

static void test_names_and_operators(void **state)
{
    static const TokCase cases[] = {
        { "print match case type _ True False None\n",
          "NAME(print) NAME(match) NAME(case) NAME(type) NAME(_) True False None NEWLINE ENDMARKER" },
        { "False None True and as assert async await break class continue def del elif else except "
          "finally for from global if import in is lambda nonlocal not or pass raise return try while "
          "with yield\n",
          "False None True and as assert async await break class continue def del elif else except "
          "finally for from global if import in is lambda nonlocal not or pass raise return try while "
          "with yield NEWLINE ENDMARKER" },
        { "_x x_1 __init__ ifx If\n", "NAME(_x) NAME(x_1) NAME(__init__) NAME(ifx) NAME(If) NEWLINE ENDMARKER" },
        { "\xcf\x80 = na\xc3\xafve + \xe5\x8f\x98\xe9\x87\x8f\n",
          "NAME(\xcf\x80) = NAME(na\xc3\xafve) + NAME(\xe5\x8f\x98\xe9\x87\x8f) NEWLINE ENDMARKER" },
        { "**= //= >>= <<= ... -> := ** // << >> <= >= == != += -= *= /= %= &= |= ^= @= @ ~ ^ | & % < "
          "> = . , : ; ( ) [ ] { } + - * /\n",
          "**= //= >>= <<= ... -> := ** // << >> <= >= == != += -= *= /= %= &= |= ^= @= @ ~ ^ | & % < "
          "> = . , : ; ( ) [ ] { } + - * / NEWLINE ENDMARKER" },
        /* Longest match. */
        { "a**=b//c...d->e\n", "NAME(a) **= NAME(b) // NAME(c) ... NAME(d) -> NAME(e) NEWLINE ENDMARKER" },
        { "x.y\n", "NAME(x) . NAME(y) NEWLINE ENDMARKER" },
        { "from .. import x\n", "from . . import NAME(x) NEWLINE ENDMARKER" },
    };
    (void)state;
    check_tokens(cases, N(cases), false);
}

static void test_numbers(void **state)
{
    static const TokCase cases[] = {
        { "0 00 0_0 7 123 1_000_000 0x1F 0XaB_cd 0o17 0O7_7 0b101 0B1_0 0x_f\n",
          "INT(0) INT(00) INT(00) INT(7) INT(123) INT(1000000) INT(0x1F) INT(0xaBcd) INT(0o17) INT(0o77) "
          "INT(0b101) INT(0b10) INT(0xf) NEWLINE ENDMARKER" },
        { "1.5 .5 1. 1e10 1E+5 2.5E-3 1_000.5 1_0e1_0 0.0 0e0 00.5 1.e5 1e-5\n",
          "FLOAT(1.5) FLOAT(0.5) FLOAT(1) FLOAT(1e+10) FLOAT(1e+05) FLOAT(0.0025) FLOAT(1000.5) "
          "FLOAT(1e+11) FLOAT(0) FLOAT(0) FLOAT(0.5) FLOAT(1e+05) FLOAT(1e-05) NEWLINE ENDMARKER" },
        /* Digits survive whatever their size. */
        { "123456789012345678901234567890 0xffffffffffffffffffffffffffff\n",
          "INT(123456789012345678901234567890) INT(0xffffffffffffffffffffffffffff) NEWLINE ENDMARKER" },
        { "1e400\n", "FLOAT(inf) NEWLINE ENDMARKER" },
        /* Keywords may follow a number directly, as in Python 3.11. */
        { "1if x else 2\n", "INT(1) if NAME(x) else INT(2) NEWLINE ENDMARKER" },
        { "[0x1for x in y]\n", "[ INT(0x1f) or NAME(x) in NAME(y) ] NEWLINE ENDMARKER" },
        { "1 .real\n", "INT(1) . NAME(real) NEWLINE ENDMARKER" },
        { "1..real\n", "FLOAT(1) . NAME(real) NEWLINE ENDMARKER" },
        { "1j 1.5J 1_0j 01j 1e3j .5j\n",
          "FLOAT(1j) FLOAT(1.5j) FLOAT(1e+01j) FLOAT(1j) FLOAT(1e+03j) FLOAT(0.5j) NEWLINE ENDMARKER" },
        { "x[1:2]\n", "NAME(x) [ INT(1) : INT(2) ] NEWLINE ENDMARKER" },
        { "1+-2\n", "INT(1) + - INT(2) NEWLINE ENDMARKER" },
        { "0xe+1\n", "INT(0xe) + INT(1) NEWLINE ENDMARKER" },
    };
    (void)state;
    check_tokens(cases, N(cases), false);
}

static void test_string_tokens(void **state)
{
    static const TokCase cases[] = {
        { "'a' \"b\" '''c''' \"\"\"d\"\"\" r'e' b'f' rb'g' Br'h' f'i' Rf'j' fR'k' u'l' F'm'\n",
          "STRING('a') STRING(\"b\") STRING('''c''') STRING(\"\"\"d\"\"\") STRING(r'e') STRING(b'f') "
          "STRING(rb'g') STRING(Br'h') STRING(f'i') STRING(Rf'j') STRING(fR'k') STRING(u'l') "
          "STRING(F'm') NEWLINE ENDMARKER" },
        { "x = ''\ny = \"\"\nz = ''''''\n",
          "NAME(x) = STRING('') NEWLINE NAME(y) = STRING(\"\") NEWLINE NAME(z) = STRING('''''') NEWLINE "
          "ENDMARKER" },
        /* A fourth quote ends the string and starts another. */
        { "'''a''''' \n", "STRING('''a''') STRING('') NEWLINE ENDMARKER" },
        { "'it\\'s' \"say \\\"hi\\\"\"\n", "STRING('it\\'s') STRING(\"say \\\"hi\\\"\") NEWLINE ENDMARKER" },
        { "'''don't \"x\"'''\n", "STRING('''don't \"x\"''') NEWLINE ENDMARKER" },
        { "r'\\''\n", "STRING(r'\\'') NEWLINE ENDMARKER" },
        /* Not prefixes: an identifier followed by a string. */
        { "bf'x' ur'y'\n", "NAME(bf) STRING('x') NAME(ur) STRING('y') NEWLINE ENDMARKER" },
        /* Newlines inside a triple-quoted string are not NEWLINE tokens. */
        { "x = '''\n  a\n'''\ny\n", "NAME(x) = STRING('''\\n  a\\n''') NEWLINE NAME(y) NEWLINE ENDMARKER" },
    };
    (void)state;
    check_tokens(cases, N(cases), false);
}

static void test_lexical_errors(void **state)
{
    static char deep_indent[20000];
    static char deep_parens[400];
    size_t k = 0;
    for (int i = 0; i <= 100; i++) {
        for (int s = 0; s < i; s++)
            deep_indent[k++] = ' ';
        memcpy(deep_indent + k, "if x:\n", 6);
        k += 6;
    }
    memset(deep_indent + k, ' ', 101);
    memcpy(deep_indent + k + 101, "pass\n", 6);
    memcpy(deep_parens, "x = ", 4);
    memset(deep_parens + 4, '(', 250);

    /* Columns are CPython 3.11's: the end of the line for a bad dedent,
     * column 1 for TabError, the last valid character for bad numbers. */
    const ErrCase cases[] = {
        { "if x:\n        a\n    b\n", PARSE_ERROR, "IndentationError",
          "unindent does not match any outer indentation level", 3, 6 },
        { "if x:\n\ty\n        z\n", PARSE_ERROR, "TabError",
          "inconsistent use of tabs and spaces in indentation", 3, 1 },
        { "if x:\n        y\n\tz\n", PARSE_ERROR, "TabError",
          "inconsistent use of tabs and spaces in indentation", 3, 1 },
        { deep_indent, PARSE_ERROR, "IndentationError", "too many levels of indentation", 101, 1 },
        { "x = 1 \\ 2\n", PARSE_ERROR, "SyntaxError",
          "unexpected character after line continuation character", 1, 8 },
        { "x = \xe2\x82\xac\n", PARSE_ERROR, "SyntaxError", "invalid character '\xe2\x82\xac' (U+20AC)", 1, 5 },
        { "x\xe2\x82\xacy = 1\n", PARSE_ERROR, "SyntaxError", "invalid character '\xe2\x82\xac' (U+20AC)", 1, 2 },
        { "x = \xc2\xa0y\n", PARSE_ERROR, "SyntaxError", "invalid non-printable character U+00A0", 1, 5 },
        { "x = \x01\n", PARSE_ERROR, "SyntaxError", "invalid non-printable character U+0001", 1, 5 },
        { "x = \x7f\n", PARSE_ERROR, "SyntaxError", "invalid non-printable character U+007F", 1, 5 },
        { "x = \xef\xbb\xbf\n", PARSE_ERROR, "SyntaxError", "invalid non-printable character U+FEFF", 1, 5 },
        { "a $ b\n", PARSE_ERROR, "SyntaxError", "invalid syntax", 1, 3 },
        { "a ? b\n", PARSE_ERROR, "SyntaxError", "invalid syntax", 1, 3 },
        { "a ! b\n", PARSE_ERROR, "SyntaxError", "invalid syntax", 1, 3 },
        { "`a`\n", PARSE_ERROR, "SyntaxError", "invalid syntax", 1, 1 },
        { "x = 'abc\n", PARSE_ERROR, "SyntaxError", "unterminated string literal (detected at line 1)", 1, 5 },
        { "x = \"abc\ny = 2\n", PARSE_ERROR, "SyntaxError",
          "unterminated string literal (detected at line 1)", 1, 5 },
        { "x = 'a\\\nb\\\nc\n", PARSE_ERROR, "SyntaxError",
          "unterminated string literal (detected at line 3)", 1, 5 },
        { "x = '''abc\n\n\n", PARSE_INCOMPLETE, "SyntaxError",
          "unterminated triple-quoted string literal (detected at line 3)", 1, 5 },
        { "x = \"\"\"abc", PARSE_INCOMPLETE, "SyntaxError",
          "unterminated triple-quoted string literal (detected at line 1)", 1, 5 },
        { "x = 1abc\n", PARSE_ERROR, "SyntaxError", "invalid decimal literal", 1, 5 },
        { "x = 1_\n", PARSE_ERROR, "SyntaxError", "invalid decimal literal", 1, 6 },
        { "x = 1__0\n", PARSE_ERROR, "SyntaxError", "invalid decimal literal", 1, 6 },
        { "x = 1e\n", PARSE_ERROR, "SyntaxError", "invalid decimal literal", 1, 5 },
        { "x = 1e+\n", PARSE_ERROR, "SyntaxError", "invalid decimal literal", 1, 7 },
        { "x = 1.5_\n", PARSE_ERROR, "SyntaxError", "invalid decimal literal", 1, 8 },
        { "x = 1.real\n", PARSE_ERROR, "SyntaxError", "invalid decimal literal", 1, 6 },
        { "x = 5\xc3\xa9\n", PARSE_ERROR, "SyntaxError", "invalid decimal literal", 1, 5 },
        { "x = 0x\n", PARSE_ERROR, "SyntaxError", "invalid hexadecimal literal", 1, 6 },
        { "x = 0xg\n", PARSE_ERROR, "SyntaxError", "invalid hexadecimal literal", 1, 6 },
        { "x = 0x1g\n", PARSE_ERROR, "SyntaxError", "invalid hexadecimal literal", 1, 7 },
        { "x = 0o8\n", PARSE_ERROR, "SyntaxError", "invalid digit '8' in octal literal", 1, 7 },
        { "x = 0o18\n", PARSE_ERROR, "SyntaxError", "invalid digit '8' in octal literal", 1, 8 },
        { "x = 0b2\n", PARSE_ERROR, "SyntaxError", "invalid digit '2' in binary literal", 1, 7 },
        { "x = 0b12\n", PARSE_ERROR, "SyntaxError", "invalid digit '2' in binary literal", 1, 8 },
        { "x = 012\n", PARSE_ERROR, "SyntaxError",
          "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal "
          "integers", 1, 5 },
        { "x = 1jj\n", PARSE_ERROR, "SyntaxError", "invalid imaginary literal", 1, 6 },
        { "x = 1.5jx\n", PARSE_ERROR, "SyntaxError", "invalid imaginary literal", 1, 8 },
        { "foo(1, 2))\n", PARSE_ERROR, "SyntaxError", "unmatched ')'", 1, 10 },
        { "x = ]\n", PARSE_ERROR, "SyntaxError", "unmatched ']'", 1, 5 },
        { "foo[1, 2)\n", PARSE_ERROR, "SyntaxError",
          "closing parenthesis ')' does not match opening parenthesis '['", 1, 9 },
        { "foo(1,\n  2]\n", PARSE_ERROR, "SyntaxError",
          "closing parenthesis ']' does not match opening parenthesis '(' on line 1", 2, 4 },
        { "{(]\n", PARSE_ERROR, "SyntaxError",
          "closing parenthesis ']' does not match opening parenthesis '('", 1, 3 },
        { deep_parens, PARSE_ERROR, "SyntaxError", "too many nested parentheses", 1, 205 },
        { "foo(1,\n", PARSE_INCOMPLETE, "SyntaxError", "'(' was never closed", 1, 4 },
        { "x = [1,\n  2,\n", PARSE_INCOMPLETE, "SyntaxError", "'[' was never closed", 1, 5 },
        { "x = {\n", PARSE_INCOMPLETE, "SyntaxError", "'{' was never closed", 1, 5 },
        { "x = 1 +\\\n", PARSE_INCOMPLETE, "SyntaxError", "unexpected EOF while parsing", 1, 9 },
        { "x = 1 +\\", PARSE_INCOMPLETE, "SyntaxError", "unexpected EOF while parsing", 1, 9 },
        /* Invalid UTF-8 and NUL bytes are rejected before tokenizing. */
        { "x = 1\ny = \xff\n", PARSE_ERROR, "SyntaxError",
          "(unicode error) 'utf-8' codec can't decode byte 0xff in position 4: invalid start byte", 2, 5 },
        { "x = '\xc3('\n", PARSE_ERROR, "SyntaxError",
          "(unicode error) 'utf-8' codec can't decode byte 0xc3 in position 5: invalid continuation byte",
          1, 6 },
        { "x = '\xe2\x82", PARSE_ERROR, "SyntaxError",
          "(unicode error) 'utf-8' codec can't decode byte 0xe2 in position 5: unexpected end of data", 1, 6 },
        { "\xed\xa0\x80\n", PARSE_ERROR, "SyntaxError",
          "(unicode error) 'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte",
          1, 1 },
        { "\xc0\x80\n", PARSE_ERROR, "SyntaxError",
          "(unicode error) 'utf-8' codec can't decode byte 0xc0 in position 0: invalid start byte", 1, 1 },
    };
    (void)state;
    support_check_errors(cases, N(cases));
}

static void test_nul_bytes(void **state)
{
    static const char src[] = "x = 1\ny = 'a\0b'\n";
    Arena arena;
    (void)state;
    arena_init(&arena);
    ParseResult r = parse_module(&arena, "t.mini", src, sizeof src - 1);
    assert_int_equal(r.status, PARSE_ERROR);
    assert_string_equal(r.error.msg, "source code cannot contain null bytes");
    assert_int_equal(r.error.line, 2);
    assert_int_equal(r.error.col, 7);
    r = parse_expression(&arena, "\0", 1);
    assert_int_equal(r.status, PARSE_ERROR);
    arena_free(&arena);
}

/* Escapes and literal forms, seen through the parser. */
static void test_string_values(void **state)
{
    static const DumpCase cases[] = {
        { "'abc'", "(Str \"abc\")" },
        { "\"\\n\\t\\\\\\'\\\"\\r\\0\\a\\b\\f\\v\"", "(Str \"\\n\\t\\\\'\\\"\\r\\x00\\x07\\x08\\x0c\\x0b\")" },
        { "'\\x41\\101\\7\\777'", "(Str \"AA\\x07\\xc7\\xbf\")" },
        { "'\\u20ac\\U0001F600\\u00e9'", "(Str \"\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x80\\xc3\\xa9\")" },
        { "'\\d\\q\\%'", "(Str \"\\\\d\\\\q\\\\%\")" },
        { "'a\\\nb'", "(Str \"ab\")" },
        { "'''a\nb'''", "(Str \"a\\nb\")" },
        { "'''a\\\nb'''", "(Str \"ab\")" },
        { "'\xc3\xa9\xe2\x82\xac'", "(Str \"\\xc3\\xa9\\xe2\\x82\\xac\")" },
        { "r'\\n\\x41\\\\'", "(Str \"\\\\n\\\\x41\\\\\\\\\")" },
        { "r'\\''", "(Str \"\\\\'\")" },
        { "R\"\\d+\"", "(Str \"\\\\d+\")" },
        { "u'x'", "(Str \"x\")" },
        { "b'ab\\x00\\xff\\n'", "(Bytes \"ab\\x00\\xff\\n\")" },
        { "b'\\777\\u20ac\\N{X}'", "(Bytes \"\\xff\\\\u20ac\\\\N{X}\")" },
        { "rb'\\x41' Br'\\n'", "(Bytes \"\\\\x41\\\\n\")" },
        /* Adjacent literals are joined. */
        { "'a' \"b\" '''c'''", "(Str \"abc\")" },
        { "('a'\n 'b')", "(Str \"ab\")" },
        { "b'a' b'b'", "(Bytes \"ab\")" },
        { "''", "(Str \"\")" },
        { "b''", "(Bytes \"\")" },
    };
    (void)state;
    check_exprs(cases, N(cases));
}

static void test_string_errors(void **state)
{
    static const ErrCase cases[] = {
        { "x = '\\x4'\n", PARSE_ERROR, "SyntaxError",
          "(unicode error) 'unicodeescape' codec can't decode bytes in position 0-2: truncated \\xXX escape",
          1, 5 },
        { "x = 'ab\\x'\n", PARSE_ERROR, "SyntaxError",
          "(unicode error) 'unicodeescape' codec can't decode bytes in position 2-3: truncated \\xXX escape",
          1, 5 },
        { "x = '\\u12'\n", PARSE_ERROR, "SyntaxError",
          "(unicode error) 'unicodeescape' codec can't decode bytes in position 0-3: truncated \\uXXXX escape",
          1, 5 },
        { "x = '\\U1234'\n", PARSE_ERROR, "SyntaxError",
          "(unicode error) 'unicodeescape' codec can't decode bytes in position 0-5: truncated \\UXXXXXXXX "
          "escape", 1, 5 },
        { "x = '\\U00110000'\n", PARSE_ERROR, "SyntaxError",
          "(unicode error) 'unicodeescape' codec can't decode bytes in position 0-9: illegal Unicode "
          "character", 1, 5 },
        { "x = '\\ud800'\n", PARSE_ERROR, "SyntaxError",
          "(unicode error) 'unicodeescape' codec can't decode bytes in position 0-5: surrogate characters "
          "are not supported", 1, 5 },
        { "x = '\\N{EURO SIGN}'\n", PARSE_ERROR, "SyntaxError",
          "(unicode error) 'unicodeescape' codec can't decode bytes in position 0-1: \\N{...} escapes are "
          "not supported", 1, 5 },
        { "x = b'\\x4'\n", PARSE_ERROR, "SyntaxError", "(value error) invalid \\x escape at position 0", 1, 5 },
        { "x = b'caf\xc3\xa9'\n", PARSE_ERROR, "SyntaxError", "bytes can only contain ASCII literal characters",
          1, 5 },
        { "x = 'a' b'b'\n", PARSE_ERROR, "SyntaxError", "cannot mix bytes and nonbytes literals", 1, 5 },
        { "x = b'a' f'b'\n", PARSE_ERROR, "SyntaxError", "cannot mix bytes and nonbytes literals", 1, 5 },
    };
    (void)state;
    support_check_errors(cases, N(cases));
}

static void test_fstring_splitting(void **state)
{
    static const DumpCase cases[] = {
        { "f'abc'", "(JoinedStr (Str \"abc\"))" },
        { "f''", "(JoinedStr)" },
        { "f'{x}'", "(JoinedStr (FormattedValue (Name x)))" },
        { "f'a{x}b{y}c'",
          "(JoinedStr (Str \"a\") (FormattedValue (Name x)) (Str \"b\") (FormattedValue (Name y)) (Str \"c\"))" },
        { "f'{{}} {{x}}'", "(JoinedStr (Str \"{} {x}\"))" },
        { "f'{x!r} {x!s} {x!a}'",
          "(JoinedStr (FormattedValue (Name x) !r) (Str \" \") (FormattedValue (Name x) !s) (Str \" \") "
          "(FormattedValue (Name x) !a))" },
        { "f'{x:>10}'", "(JoinedStr (FormattedValue (Name x) (JoinedStr (Str \">10\"))))" },
        { "f'{x:{width}.{prec}f}'",
          "(JoinedStr (FormattedValue (Name x) (JoinedStr (FormattedValue (Name width)) (Str \".\") "
          "(FormattedValue (Name prec)) (Str \"f\"))))" },
        { "f'{x!r:^{n}}'",
          "(JoinedStr (FormattedValue (Name x) !r (JoinedStr (Str \"^\") (FormattedValue (Name n)))))" },
        { "f'{3.14:.2f}'", "(JoinedStr (FormattedValue (Float 3.14) (JoinedStr (Str \".2f\"))))" },
        /* Quotes of the other kind inside the expression. */
        { "f\"{d['key']}\"", "(JoinedStr (FormattedValue (Subscript (Name d) (Str \"key\"))))" },
        { "f'''{\"a\" if x else 'b'}'''",
          "(JoinedStr (FormattedValue (IfExp (Name x) (Str \"a\") (Str \"b\"))))" },
        { "f\"{'}'}\"", "(JoinedStr (FormattedValue (Str \"}\")))" },
        /* Comparison operators are not conversions or format specs. */
        { "f'{a == b} {a != b} {a<b} {a >= b}'",
          "(JoinedStr (FormattedValue (Compare (Name a) == (Name b))) (Str \" \") (FormattedValue "
          "(Compare (Name a) != (Name b))) (Str \" \") (FormattedValue (Compare (Name a) < (Name b))) "
          "(Str \" \") (FormattedValue (Compare (Name a) >= (Name b))))" },
        { "f'{x:=^10}'", "(JoinedStr (FormattedValue (Name x) (JoinedStr (Str \"=^10\"))))" },
        { "f'{(x := 5)}'", "(JoinedStr (FormattedValue (NamedExpr (Name x Store) (Int 5))))" },
        { "f'{ x }'", "(JoinedStr (FormattedValue (Name x)))" },
        { "f'{x, y}'", "(JoinedStr (FormattedValue (Tuple (Name x) (Name y))))" },
        { "f'{[a for a in b]}'",
          "(JoinedStr (FormattedValue (ListComp (Name a) (comprehension (Name a Store) (Name b)))))" },
        { "f'{ {1: 2}[1] }'", "(JoinedStr (FormattedValue (Subscript (Dict (Int 1) (Int 2)) (Int 1))))" },
        { "f'{(lambda: 1)}'", "(JoinedStr (FormattedValue (Lambda (arguments) (Int 1))))" },
        /* Self-documenting expressions. */
        { "f'{x=}'", "(JoinedStr (Str \"x=\") (FormattedValue (Name x) !r))" },
        { "f'{x = }'", "(JoinedStr (Str \"x = \") (FormattedValue (Name x) !r))" },
        { "f'{x=!s}'", "(JoinedStr (Str \"x=\") (FormattedValue (Name x) !s))" },
        { "f'{x=:>5}'", "(JoinedStr (Str \"x=\") (FormattedValue (Name x) (JoinedStr (Str \">5\"))))" },
        { "f'a {x=} b'", "(JoinedStr (Str \"a x=\") (FormattedValue (Name x) !r) (Str \" b\"))" },
        /* Escapes in the literal parts; raw f-strings keep backslashes. */
        { "f'\\n{x}\\t'", "(JoinedStr (Str \"\\n\") (FormattedValue (Name x)) (Str \"\\t\"))" },
        { "rf'\\n{x}'", "(JoinedStr (Str \"\\\\n\") (FormattedValue (Name x)))" },
        { "f'\\{x}'", "(JoinedStr (Str \"\\\\\") (FormattedValue (Name x)))" },
        /* Concatenation mixes f-strings and plain strings. */
        { "'a' f'{b}' 'c'", "(JoinedStr (Str \"a\") (FormattedValue (Name b)) (Str \"c\"))" },
        { "f'{a}' '{b}'", "(JoinedStr (FormattedValue (Name a)) (Str \"{b}\"))" },
        { "'x' f'y' 'z'", "(JoinedStr (Str \"xyz\"))" },
        /* Nested f-strings use the other quotes. */
        { "f\"{f'{x}'}\"", "(JoinedStr (FormattedValue (JoinedStr (FormattedValue (Name x)))))" },
        { "f'''{\nx\n+ 1}'''", "(JoinedStr (FormattedValue (BinOp + (Name x) (Int 1))))" },
        { "f'{yield}'", "(JoinedStr (FormattedValue (Yield)))" },
    };
    (void)state;
    check_exprs(cases, N(cases));
}

static void test_fstring_positions(void **state)
{
    Arena arena;
    (void)state;
    arena_init(&arena);
    /* Expressions keep their place in the file, including on later lines. */
    const char *src = "x = 1\ny = f'ab{x + 1}' f'''\n  {zz}'''\n";
    ParseResult r = parse_module(&arena, "t.mini", src, strlen(src));
    assert_int_equal(r.status, PARSE_OK);
    AstNode *js = r.ast->u.module.body.items[1]->u.assign.value;
    assert_int_equal(js->kind, AST_JOINED_STR);
    assert_int_equal(js->line, 2);
    assert_int_equal(js->col, 5);
    AstNode *fv = js->u.joined_str.values.items[1];
    assert_int_equal(fv->kind, AST_FORMATTED_VALUE);
    assert_int_equal(fv->line, 2);
    assert_int_equal(fv->col, 9);
    AstNode *sum = fv->u.formatted_value.value;
    assert_int_equal(sum->kind, AST_BIN_OP);
    assert_int_equal(sum->line, 2);
    assert_int_equal(sum->col, 10);
    assert_int_equal(sum->end_col, 15);
    AstNode *zz = js->u.joined_str.values.items[3]->u.formatted_value.value;
    assert_string_equal(zz->u.name.id.s, "zz");
    assert_int_equal(zz->line, 3);
    assert_int_equal(zz->col, 4);
    arena_free(&arena);
}

static void test_fstring_errors(void **state)
{
    static const ErrCase cases[] = {
        { "f'{}'\n", PARSE_ERROR, "SyntaxError", "f-string: empty expression not allowed", 1, 4 },
        { "f'{ }'\n", PARSE_ERROR, "SyntaxError", "f-string: empty expression not allowed", 1, 4 },
        { "f'{x!z}'\n", PARSE_ERROR, "SyntaxError",
          "f-string: invalid conversion character: expected 's', 'r', or 'a'", 1, 6 },
        { "f'{x!}'\n", PARSE_ERROR, "SyntaxError",
          "f-string: invalid conversion character: expected 's', 'r', or 'a'", 1, 6 },
        { "f'}'\n", PARSE_ERROR, "SyntaxError", "f-string: single '}' is not allowed", 1, 3 },
        { "f'a}b'\n", PARSE_ERROR, "SyntaxError", "f-string: single '}' is not allowed", 1, 4 },
        { "f'{'\n", PARSE_ERROR, "SyntaxError", "f-string: expecting '}'", 1, 4 },
        { "f'{x'\n", PARSE_ERROR, "SyntaxError", "f-string: expecting '}'", 1, 5 },
        { "f'{x:'\n", PARSE_ERROR, "SyntaxError", "f-string: expecting '}'", 1, 6 },
        { "f'{x!r'\n", PARSE_ERROR, "SyntaxError", "f-string: expecting '}'", 1, 7 },
        { "f'{a b}'\n", PARSE_ERROR, "SyntaxError", "f-string: invalid syntax", 1, 6 },
        { "f'{x:{y:{z}}}'\n", PARSE_ERROR, "SyntaxError", "f-string: expressions nested too deeply", 1, 9 },
        { "f'{\\n}'\n", PARSE_ERROR, "SyntaxError", "f-string expression part cannot include a backslash", 1, 4 },
        { "f'{x # c}'\n", PARSE_ERROR, "SyntaxError", "f-string expression part cannot include '#'", 1, 6 },
        { "f'{x)}'\n", PARSE_ERROR, "SyntaxError", "f-string: unmatched ')'", 1, 5 },
        { "f'{(x}'\n", PARSE_ERROR, "SyntaxError",
          "f-string: closing parenthesis '}' does not match opening parenthesis '('", 1, 6 },
        { "f'{(x'\n", PARSE_ERROR, "SyntaxError", "f-string: unmatched '('", 1, 4 },
        { "f'{\"x}'\n", PARSE_ERROR, "SyntaxError", "f-string: unterminated string", 1, 4 },
        { "f'{x $ y}'\n", PARSE_ERROR, "SyntaxError", "f-string: invalid syntax", 1, 6 },
        { "f'{1_}'\n", PARSE_ERROR, "SyntaxError", "f-string: invalid decimal literal", 1, 5 },
        { "f'{lambda: 1}'\n", PARSE_ERROR, "SyntaxError", "f-string: invalid syntax", 1, 10 },
        { "f'{x = 1}'\n", PARSE_ERROR, "SyntaxError", "f-string: expecting '}'", 1, 8 },
        { "f'{f\"{1 +}\"}'\n", PARSE_ERROR, "SyntaxError", "f-string: invalid syntax", 1, 10 },
    };
    (void)state;
    support_check_errors(cases, N(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_structure),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_names_and_operators),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_string_tokens),
        cmocka_unit_test(test_lexical_errors),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_string_values),
        cmocka_unit_test(test_string_errors),
        cmocka_unit_test(test_fstring_splitting),
        cmocka_unit_test(test_fstring_positions),
        cmocka_unit_test(test_fstring_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
