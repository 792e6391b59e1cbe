#ifndef MINI_GRAMMAR_PARSE_H
#define MINI_GRAMMAR_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "grammar/arena.h"
#include "grammar/ast.h"

/* Parsing is reentrant: any number of threads may parse at once, each with
 * its own arena. Every node and string of a result lives in the arena given;
 * nothing else needs freeing. */

typedef enum ParseStatus {
    PARSE_OK,
    PARSE_ERROR,
    /* The input ends too early: inside brackets or a triple-quoted string,
     * after a backslash continuation, or where a block or statement must go
     * on (`if x:` as the last line). Blocks count as finished once the input
     * ends with a blank line. ERROR is filled in as for PARSE_ERROR; a REPL
     * reads another line instead of reporting it. */
    PARSE_INCOMPLETE
} ParseStatus;

typedef struct SyntaxErrorInfo {
    const char *kind; /* "SyntaxError", "IndentationError" or "TabError" */
    char msg[256];
    int line, col;    /* 1-based; col counts bytes */
} SyntaxErrorInfo;

typedef struct ParseResult {
    ParseStatus status;
    AstNode *ast;          /* NULL unless PARSE_OK */
    SyntaxErrorInfo error; /* meaningful unless PARSE_OK */
} ParseResult;

/* Parses a whole file into a Module node. FILENAME (may be NULL) is only
 * recorded in the Module. Target validity is checked here: Assign, AugAssign,
 * AnnAssign, Delete, For, With, comprehension and := targets, keyword
 * argument names and parameter lists are valid in a PARSE_OK tree, and target
 * nodes carry AST_STORE / AST_DEL. Left to the compiler: return/yield outside
 * a function, break/continue outside a loop, starred expressions where no
 * unpacking happens (`x = *a`), nonlocal/global conflicts.
 *
 * A REPL can parse each input with parse_module and echo the value when the
 * Module holds a single Expr statement. A compound statement parses fine
 * before its block is finished, so a REPL keeps reading until a blank line
 * when the input's first line opens a block. */
ParseResult parse_module(Arena *arena, const char *filename, const char *source, size_t length);

/* Parses one expression (or an unparenthesized tuple), ignoring leading
 * whitespace and trailing newlines; the result is the expression node. */
ParseResult parse_expression(Arena *arena, const char *source, size_t length);

/* Tokenizes SOURCE as parse_module would and stores in *DUMP a one-line
 * description of the tokens, e.g. "NAME(x) = INT(1) NEWLINE ENDMARKER",
 * each followed by "@line:col" when WITH_POSITIONS; on an error the tokens
 * before it. For tests and a --tokens debug flag. The result's ast is NULL. */
ParseResult parse_tokens(Arena *arena, const char *source, size_t length, bool with_positions,
                         const char **dump);

/* Renders ERR like a compiler diagnostic, in the manner of snprintf (returns
 * the length it needs, writes at most SIZE bytes including the NUL):
 *
 *   path/x.mini:3:8: SyntaxError: invalid syntax
 *       if x = 3:
 *              ^
 *
 * The offending line of SOURCE follows, indented by 4 spaces with its own
 * leading whitespace removed, then a caret under the column. The two last
 * lines are left out when the line is empty or does not exist. */
int parse_format_error(const SyntaxErrorInfo *err, const char *filename, const char *source,
                       size_t length, char *buf, size_t size);

/* parse_format_error to a stream. */
void parse_print_error(const SyntaxErrorInfo *err, const char *filename, const char *source,
                       size_t length, FILE *out);

/* The language's keywords, one per index from 0 (keyword.kwlist's order),
 * then NULL: for the prompt's Tab completion. */
const char *parse_keyword(size_t index);

#endif
