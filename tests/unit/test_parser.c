/* Parser of mini: the AST of every construct, operator precedence, syntax
 * errors with CPython 3.11's messages and positions, incomplete input,
 * error rendering, node positions, robustness (fuzzing, deep nesting) and
 * concurrent parsing. */

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grammar/ast.h"
#include "grammar/parse.h"

#include "support.h"

typedef struct DumpCase {
    const char *src;
    const char *dump;
} DumpCase;

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check_dumps(const DumpCase *cases, size_t n, bool expression)
{
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        Arena arena;
        arena_init(&arena);
        size_t len = strlen(cases[i].src);
        ParseResult r = expression ? parse_expression(&arena, cases[i].src, len)
                                   : parse_module(&arena, "t.mini", cases[i].src, len);
        const char *got = r.status == PARSE_OK ? ast_dump_string(r.ast, &arena) : r.error.msg;
        if (r.status != PARSE_OK || strcmp(got, cases[i].dump) != 0) {
            print_error("source:   %s\nexpected: %s\ngot:      %s\n", cases[i].src, cases[i].dump, got);
            failures++;
        }
        arena_free(&arena);
    }
    assert_int_equal(failures, 0);
}

static void test_statements(void **state)
{
    static const DumpCase cases[] = {
        { "x = 1\n",
          "(Module (Assign (targets (Name x Store)) (Int 1)))" },
        { "a = b = c\n",
          "(Module (Assign (targets (Name a Store) (Name b Store)) (Name c)))" },
        { "x = 1,\n",
          "(Module (Assign (targets (Name x Store)) (Tuple (Int 1))))" },
        { "x = 1, 2\n",
          "(Module (Assign (targets (Name x Store)) (Tuple (Int 1) (Int 2))))" },
        { "a, b = b, a\n",
          "(Module (Assign (targets (Tuple (Name a Store) (Name b Store) Store)) (Tuple (Name b) (Name a))))" },
        { "[a, b] = c\n",
          "(Module (Assign (targets (List (Name a Store) (Name b Store) Store)) (Name c)))" },
        { "(a, b), c = d\n",
          "(Module (Assign (targets (Tuple (Tuple (Name a Store) (Name b Store) Store) (Name c Store) Store)) (Name d)))" },
        { "a, *b = c\n",
          "(Module (Assign (targets (Tuple (Name a Store) (Starred (Name b Store) Store) Store)) (Name c)))" },
        { "*a, b = c\n",
          "(Module (Assign (targets (Tuple (Starred (Name a Store) Store) (Name b Store) Store)) (Name c)))" },
        { "x.y = z[1] = w\n",
          "(Module (Assign (targets (Attribute (Name x) y Store) (Subscript (Name z) (Int 1) Store)) (Name w)))" },
        { "x = *a, b\n",
          "(Module (Assign (targets (Name x Store)) (Tuple (Starred (Name a)) (Name b))))" },
        { "x = yield\n",
          "(Module (Assign (targets (Name x Store)) (Yield)))" },
        { "x = yield y\n",
          "(Module (Assign (targets (Name x Store)) (Yield (Name y))))" },
        { "x = yield from y\n",
          "(Module (Assign (targets (Name x Store)) (YieldFrom (Name y))))" },
        { "x += 1\n",
          "(Module (AugAssign (Name x Store) += (Int 1)))" },
        { "x -= 1; x *= 2; x /= 3; x //= 4; x %= 5; x **= 6; x <<= 7; x >>= 8; x &= 9; x |= 10; x ^= 11; x @= m\n",
          "(Module (AugAssign (Name x Store) -= (Int 1)) (AugAssign (Name x Store) *= (Int 2)) (AugAssign (Name x Store) /= (Int 3)) (AugAssign (Name x Store) //= (Int 4)) (AugAssign (Name x Store) %= (Int 5)) (AugAssign (Name x Store) **= (Int 6)) (AugAssign (Name x Store) <<= (Int 7)) (AugAssign (Name x Store) >>= (Int 8)) (AugAssign (Name x Store) &= (Int 9)) (AugAssign (Name x Store) |= (Int 10)) (AugAssign (Name x Store) ^= (Int 11)) (AugAssign (Name x Store) @= (Name m)))" },
        { "a.b += 1\n",
          "(Module (AugAssign (Attribute (Name a) b Store) += (Int 1)))" },
        { "a[i] += 1\n",
          "(Module (AugAssign (Subscript (Name a) (Name i) Store) += (Int 1)))" },
        { "x: int\n",
          "(Module (AnnAssign (Name x Store)))" },
        { "x: int = 5\n",
          "(Module (AnnAssign (Name x Store) (Int 5)))" },
        { "a.b: str = 'x'\n",
          "(Module (AnnAssign (Attribute (Name a) b Store) (Str \"x\")))" },
        { "a[0]: int\n",
          "(Module (AnnAssign (Subscript (Name a) (Int 0) Store)))" },
        { "x: list[int] = []\n",
          "(Module (AnnAssign (Name x Store) (List)))" },
        { "x: tuple = 1, 2\n",
          "(Module (AnnAssign (Name x Store) (Tuple (Int 1) (Int 2))))" },
        { "f(x)\n",
          "(Module (Expr (Call (Name f) (Name x))))" },
        { "pass\n",
          "(Module (Pass))" },
        { "del x\n",
          "(Module (Delete (Name x Del)))" },
        { "del x, y[1], z.w\n",
          "(Module (Delete (Name x Del) (Subscript (Name y) (Int 1) Del) (Attribute (Name z) w Del)))" },
        { "del (x, y)\n",
          "(Module (Delete (Tuple (Name x Del) (Name y Del) Del)))" },
        { "del [x, y],\n",
          "(Module (Delete (List (Name x Del) (Name y Del) Del)))" },
        { "return\n",
          "(Module (Return))" },
        { "return x\n",
          "(Module (Return (Name x)))" },
        { "return x, y\n",
          "(Module (Return (Tuple (Name x) (Name y))))" },
        { "return *a, b\n",
          "(Module (Return (Tuple (Starred (Name a)) (Name b))))" },
        { "raise\n",
          "(Module (Raise))" },
        { "raise E\n",
          "(Module (Raise (Name E)))" },
        { "raise E('m') from cause\n",
          "(Module (Raise (Call (Name E) (Str \"m\")) (Name cause)))" },
        { "global a\n",
          "(Module (Global a))" },
        { "global a, b, c\n",
          "(Module (Global a b c))" },
        { "nonlocal a, b\n",
          "(Module (Nonlocal a b))" },
        { "assert x\n",
          "(Module (Assert (Name x)))" },
        { "assert x, 'message'\n",
          "(Module (Assert (Name x) (Str \"message\")))" },
        { "import a\n",
          "(Module (Import (alias a)))" },
        { "import a.b.c\n",
          "(Module (Import (alias a.b.c)))" },
        { "import a.b as c, d as e, f\n",
          "(Module (Import (alias a.b c) (alias d e) (alias f)))" },
        { "from m import x\n",
          "(Module (ImportFrom m (alias x)))" },
        { "from a.b import x as y, z\n",
          "(Module (ImportFrom a.b (alias x y) (alias z)))" },
        { "from . import x\n",
          "(Module (ImportFrom . (alias x)))" },
        { "from .. import x\n",
          "(Module (ImportFrom .. (alias x)))" },
        { "from ...pkg.mod import x\n",
          "(Module (ImportFrom ...pkg.mod (alias x)))" },
        { "from .... import x\n",
          "(Module (ImportFrom .... (alias x)))" },
        { "from . m import (a, b as c,)\n",
          "(Module (ImportFrom .m (alias a) (alias b c)))" },
        { "from m import *\n",
          "(Module (ImportFrom m (alias *)))" },
        { "break\n",
          "(Module (Break))" },
        { "continue\n",
          "(Module (Continue))" },
        { "a; b; c\n",
          "(Module (Expr (Name a)) (Expr (Name b)) (Expr (Name c)))" },
        { "if x: pass\n",
          "(Module (If (Name x) (body (Pass))))" },
        { "if x:\n    a\nelse:\n    b\n",
          "(Module (If (Name x) (body (Expr (Name a))) (orelse (Expr (Name b)))))" },
        { "if a:\n    x\nelif b:\n    y\nelif c:\n    z\nelse:\n    w\n",
          "(Module (If (Name a) (body (Expr (Name x))) (orelse (If (Name b) (body (Expr (Name y))) (orelse (If (Name c) (body (Expr (Name z))) (orelse (Expr (Name w)))))))))" },
        { "if a:\n    x\nelif b:\n    y\n",
          "(Module (If (Name a) (body (Expr (Name x))) (orelse (If (Name b) (body (Expr (Name y)))))))" },
        { "if x:\n    if y:\n        a\n    else:\n        b\nelse:\n    c\n",
          "(Module (If (Name x) (body (If (Name y) (body (Expr (Name a))) (orelse (Expr (Name b))))) (orelse (Expr (Name c)))))" },
        { "if (n := len(a)) > 10:\n    pass\n",
          "(Module (If (Compare (NamedExpr (Name n Store) (Call (Name len) (Name a))) > (Int 10)) (body (Pass))))" },
        { "while x:\n    x -= 1\n",
          "(Module (While (Name x) (body (AugAssign (Name x Store) -= (Int 1)))))" },
        { "while True:\n    break\nelse:\n    pass\n",
          "(Module (While (Constant True) (body (Break)) (orelse (Pass))))" },
        { "while (line := f()):\n    pass\n",
          "(Module (While (NamedExpr (Name line Store) (Call (Name f))) (body (Pass))))" },
        { "for i in range(10):\n    pass\n",
          "(Module (For (Name i Store) (Call (Name range) (Int 10)) (body (Pass))))" },
        { "for i, (a, b) in enumerate(pairs):\n    pass\n",
          "(Module (For (Tuple (Name i Store) (Tuple (Name a Store) (Name b Store) Store) Store) (Call (Name enumerate) (Name pairs)) (body (Pass))))" },
        { "for x, in y: pass\n",
          "(Module (For (Tuple (Name x Store) Store) (Name y) (body (Pass))))" },
        { "for *a, b in c: pass\n",
          "(Module (For (Tuple (Starred (Name a Store) Store) (Name b Store) Store) (Name c) (body (Pass))))" },
        { "for x in 1, 2, 3: pass\n",
          "(Module (For (Name x Store) (Tuple (Int 1) (Int 2) (Int 3)) (body (Pass))))" },
        { "for x in *a, b: pass\n",
          "(Module (For (Name x Store) (Tuple (Starred (Name a)) (Name b)) (body (Pass))))" },
        { "for a.b in c: pass\n",
          "(Module (For (Attribute (Name a) b Store) (Name c) (body (Pass))))" },
        { "for i in x:\n    continue\nelse:\n    break\n",
          "(Module (For (Name i Store) (Name x) (body (Continue)) (orelse (Break))))" },
        { "try:\n    a\nexcept:\n    b\n",
          "(Module (Try (body (Expr (Name a))) (ExceptHandler _ (body (Expr (Name b))))))" },
        { "try:\n    a\nexcept E:\n    b\nexcept (F, G) as e:\n    c\nelse:\n    d\nfinally:\n    f\n",
          "(Module (Try (body (Expr (Name a))) (ExceptHandler (Name E) (body (Expr (Name b)))) (ExceptHandler (Tuple (Name F) (Name G)) e (body (Expr (Name c)))) (orelse (Expr (Name d))) (finalbody (Expr (Name f)))))" },
        { "try:\n    a\nfinally:\n    b\n",
          "(Module (Try (body (Expr (Name a))) (finalbody (Expr (Name b)))))" },
        { "try:\n    a\nexcept E as e:\n    raise\n",
          "(Module (Try (body (Expr (Name a))) (ExceptHandler (Name E) e (body (Raise)))))" },
        { "try:\n    a\nexcept* E as e:\n    b\nexcept *(F, G):\n    c\n",
          "(Module (TryStar (body (Expr (Name a))) (ExceptHandler (Name E) e (body (Expr (Name b)))) (ExceptHandler (Tuple (Name F) (Name G)) (body (Expr (Name c))))))" },
        { "with a: pass\n",
          "(Module (With (withitem (Name a)) (body (Pass))))" },
        { "with a as b: pass\n",
          "(Module (With (withitem (Name a) (Name b Store)) (body (Pass))))" },
        { "with a as b, c as (d, e), f: pass\n",
          "(Module (With (withitem (Name a) (Name b Store)) (withitem (Name c) (Tuple (Name d Store) (Name e Store) Store)) (withitem (Name f)) (body (Pass))))" },
        { "with open(p) as f:\n    data = f.read()\n",
          "(Module (With (withitem (Call (Name open) (Name p)) (Name f Store)) (body (Assign (targets (Name data Store)) (Call (Attribute (Name f) read))))))" },
        { "def f(): pass\n",
          "(Module (FunctionDef f (arguments) (body (Pass))))" },
        { "def f(a, b): return a + b\n",
          "(Module (FunctionDef f (arguments a b) (body (Return (BinOp + (Name a) (Name b))))))" },
        { "def f(a, b=1, *args, c, d=2, **kwargs): pass\n",
          "(Module (FunctionDef f (arguments a b=(Int 1) *args c d=(Int 2) **kwargs) (body (Pass))))" },
        { "def f(a, /, b, *, c): pass\n",
          "(Module (FunctionDef f (arguments a / b * c) (body (Pass))))" },
        { "def f(a, b=2, /, c=3): pass\n",
          "(Module (FunctionDef f (arguments a b=(Int 2) / c=(Int 3)) (body (Pass))))" },
        { "def f(*, a=1, b): pass\n",
          "(Module (FunctionDef f (arguments * a=(Int 1) b) (body (Pass))))" },
        { "def f(**kw,): pass\n",
          "(Module (FunctionDef f (arguments **kw) (body (Pass))))" },
        { "def f(a,): pass\n",
          "(Module (FunctionDef f (arguments a) (body (Pass))))" },
        { "def f(a: int, b: str = 'x', *args: int, c: float = 1.0, **kw: dict) -> None: pass\n",
          "(Module (FunctionDef f (arguments a b=(Str \"x\") *args c=(Float 1) **kw) (body (Pass))))" },
        { "@dec\ndef f(): pass\n",
          "(Module (FunctionDef f (arguments) (decorators (Name dec)) (body (Pass))))" },
        { "@a.b(1)\n@c\ndef f():\n    pass\n",
          "(Module (FunctionDef f (arguments) (decorators (Call (Attribute (Name a) b) (Int 1)) (Name c)) (body (Pass))))" },
        { "@foo.bar(1)\nclass C: pass\n",
          "(Module (ClassDef C (decorators (Call (Attribute (Name foo) bar) (Int 1))) (body (Pass))))" },
        { "@(lambda f: f)\ndef g(): pass\n",
          "(Module (FunctionDef g (arguments) (decorators (Lambda (arguments f) (Name f))) (body (Pass))))" },
        { "class C: pass\n",
          "(Module (ClassDef C (body (Pass))))" },
        { "class C(): pass\n",
          "(Module (ClassDef C (body (Pass))))" },
        { "class C(B): pass\n",
          "(Module (ClassDef C (bases (Name B)) (body (Pass))))" },
        { "class C(A, B, metaclass=M, **kw):\n    x = 1\n    def m(self):\n        return self.x\n",
          "(Module (ClassDef C (bases (Name A) (Name B)) (keywords (keyword metaclass (Name M)) (keyword ** (Name kw))) (body (Assign (targets (Name x Store)) (Int 1)) (FunctionDef m (arguments self) (body (Return (Attribute (Name self) x)))))))" },
        { "class C(*bases): pass\n",
          "(Module (ClassDef C (bases (Starred (Name bases))) (body (Pass))))" },
        { "def gen():\n    yield\n    yield 1\n    yield 1, 2\n    yield from g()\n    x = yield\n",
          "(Module (FunctionDef gen (arguments) (body (Expr (Yield)) (Expr (Yield (Int 1))) (Expr (Yield (Tuple (Int 1) (Int 2)))) (Expr (YieldFrom (Call (Name g)))) (Assign (targets (Name x Store)) (Yield)))))" },
        { "if __name__ == '__main__':\n    main()\n",
          "(Module (If (Compare (Name __name__) == (Str \"__main__\")) (body (Expr (Call (Name main))))))" },
        { "x = 1\n\n\n# comment\ny = 2",
          "(Module (Assign (targets (Name x Store)) (Int 1)) (Assign (targets (Name y Store)) (Int 2)))" },
        { "if x: a; b\n", "(Module (If (Name x) (body (Expr (Name a)) (Expr (Name b)))))" },
        { "class C:\n    '''doc'''\n    def f(self): pass\n",
          "(Module (ClassDef C (body (Expr (Str \"doc\")) (FunctionDef f (arguments self) (body (Pass))))))" },
        { "def outer():\n    n = 0\n    def inner():\n        nonlocal n\n        n += 1\n    return inner\n",
          "(Module (FunctionDef outer (arguments) (body (Assign (targets (Name n Store)) (Int 0)) "
          "(FunctionDef inner (arguments) (body (Nonlocal n) (AugAssign (Name n Store) += (Int 1)))) "
          "(Return (Name inner)))))" },
    };
    (void)state;
    check_dumps(cases, N(cases), false);
}

/* Expressions, operator precedence and associativity. */
static void test_expressions(void **state)
{
    static const DumpCase cases[] = {
        { "-2**2",
          "(UnaryOp - (BinOp ** (Int 2) (Int 2)))" },
        { "2**-1",
          "(BinOp ** (Int 2) (UnaryOp - (Int 1)))" },
        { "-x ** -y",
          "(UnaryOp - (BinOp ** (Name x) (UnaryOp - (Name y))))" },
        { "2**3**2",
          "(BinOp ** (Int 2) (BinOp ** (Int 3) (Int 2)))" },
        { "not a == b",
          "(UnaryOp not (Compare (Name a) == (Name b)))" },
        { "not a in b",
          "(UnaryOp not (Compare (Name a) in (Name b)))" },
        { "not not a",
          "(UnaryOp not (UnaryOp not (Name a)))" },
        { "a or b and c",
          "(BoolOp or (Name a) (BoolOp and (Name b) (Name c)))" },
        { "a and b or c and d",
          "(BoolOp or (BoolOp and (Name a) (Name b)) (BoolOp and (Name c) (Name d)))" },
        { "a or b or c",
          "(BoolOp or (Name a) (Name b) (Name c))" },
        { "(a or b) or c",
          "(BoolOp or (BoolOp or (Name a) (Name b)) (Name c))" },
        { "a and not b",
          "(BoolOp and (Name a) (UnaryOp not (Name b)))" },
        { "a if b else c",
          "(IfExp (Name b) (Name a) (Name c))" },
        { "a if b else c if d else e",
          "(IfExp (Name b) (Name a) (IfExp (Name d) (Name c) (Name e)))" },
        { "(a if b else c) if d else e",
          "(IfExp (Name d) (IfExp (Name b) (Name a) (Name c)) (Name e))" },
        { "lambda: a if b else c",
          "(Lambda (arguments) (IfExp (Name b) (Name a) (Name c)))" },
        { "lambda x: lambda y: x + y",
          "(Lambda (arguments x) (Lambda (arguments y) (BinOp + (Name x) (Name y))))" },
        { "a < b < c",
          "(Compare (Name a) < (Name b) < (Name c))" },
        { "(a < b) < c",
          "(Compare (Compare (Name a) < (Name b)) < (Name c))" },
        { "a < b == c != d > e >= f <= g",
          "(Compare (Name a) < (Name b) == (Name c) != (Name d) > (Name e) >= (Name f) <= (Name g))" },
        { "a is b is not c in d not in e",
          "(Compare (Name a) is (Name b) is not (Name c) in (Name d) not in (Name e))" },
        { "a | b ^ c & d << e + f * g ** h",
          "(BinOp | (Name a) (BinOp ^ (Name b) (BinOp & (Name c) (BinOp << (Name d) (BinOp + (Name e) (BinOp * (Name f) (BinOp ** (Name g) (Name h))))))))" },
        { "a + b - c + d",
          "(BinOp + (BinOp - (BinOp + (Name a) (Name b)) (Name c)) (Name d))" },
        { "a * b / c // d % e @ f",
          "(BinOp @ (BinOp % (BinOp // (BinOp / (BinOp * (Name a) (Name b)) (Name c)) (Name d)) (Name e)) (Name f))" },
        { "a << b >> c",
          "(BinOp >> (BinOp << (Name a) (Name b)) (Name c))" },
        { "~a + +b - -c",
          "(BinOp - (BinOp + (UnaryOp ~ (Name a)) (UnaryOp + (Name b))) (UnaryOp - (Name c)))" },
        { "a - (b - c)",
          "(BinOp - (Name a) (BinOp - (Name b) (Name c)))" },
        { "a.b.c",
          "(Attribute (Attribute (Name a) b) c)" },
        { "a(b)(c)",
          "(Call (Call (Name a) (Name b)) (Name c))" },
        { "a[b][c]",
          "(Subscript (Subscript (Name a) (Name b)) (Name c))" },
        { "a.b(c)[d].e",
          "(Attribute (Subscript (Call (Attribute (Name a) b) (Name c)) (Name d)) e)" },
        { "f()",
          "(Call (Name f))" },
        { "f(a, b)",
          "(Call (Name f) (Name a) (Name b))" },
        { "f(a, b,)",
          "(Call (Name f) (Name a) (Name b))" },
        { "f(a, *b, c=1, **d)",
          "(Call (Name f) (Name a) (Starred (Name b)) (keyword c (Int 1)) (keyword ** (Name d)))" },
        { "f(a=1, *b)",
          "(Call (Name f) (Starred (Name b)) (keyword a (Int 1)))" },
        { "f(*a, *b, **c, **d)",
          "(Call (Name f) (Starred (Name a)) (Starred (Name b)) (keyword ** (Name c)) (keyword ** (Name d)))" },
        { "f(x for x in y)",
          "(Call (Name f) (GeneratorExp (Name x) (comprehension (Name x Store) (Name y))))" },
        { "f((x for x in y), 1)",
          "(Call (Name f) (GeneratorExp (Name x) (comprehension (Name x Store) (Name y))) (Int 1))" },
        { "f(a := 1)",
          "(Call (Name f) (NamedExpr (Name a Store) (Int 1)))" },
        { "print(*args, sep='')",
          "(Call (Name print) (Starred (Name args)) (keyword sep (Str \"\")))" },
        { "sum(i*i for i in range(n))",
          "(Call (Name sum) (GeneratorExp (BinOp * (Name i) (Name i)) (comprehension (Name i Store) (Call (Name range) (Name n)))))" },
        { "a[1]",
          "(Subscript (Name a) (Int 1))" },
        { "a[1:2]",
          "(Subscript (Name a) (Slice (Int 1) (Int 2) _))" },
        { "a[1:2:3]",
          "(Subscript (Name a) (Slice (Int 1) (Int 2) (Int 3)))" },
        { "a[:]",
          "(Subscript (Name a) (Slice _ _ _))" },
        { "a[::]",
          "(Subscript (Name a) (Slice _ _ _))" },
        { "a[::2]",
          "(Subscript (Name a) (Slice _ _ (Int 2)))" },
        { "a[1:]",
          "(Subscript (Name a) (Slice (Int 1) _ _))" },
        { "a[:2]",
          "(Subscript (Name a) (Slice _ (Int 2) _))" },
        { "a[1:2, ::3]",
          "(Subscript (Name a) (Tuple (Slice (Int 1) (Int 2) _) (Slice _ _ (Int 3))))" },
        { "a[1, 2]",
          "(Subscript (Name a) (Tuple (Int 1) (Int 2)))" },
        { "a[1,]",
          "(Subscript (Name a) (Tuple (Int 1)))" },
        { "a[*b]",
          "(Subscript (Name a) (Tuple (Starred (Name b))))" },
        { "a[*b, c]",
          "(Subscript (Name a) (Tuple (Starred (Name b)) (Name c)))" },
        { "a[x:=1]",
          "(Subscript (Name a) (NamedExpr (Name x Store) (Int 1)))" },
        { "a[b:c, d]",
          "(Subscript (Name a) (Tuple (Slice (Name b) (Name c) _) (Name d)))" },
        { "()",
          "(Tuple)" },
        { "(1)",
          "(Int 1)" },
        { "(1,)",
          "(Tuple (Int 1))" },
        { "(1, 2)",
          "(Tuple (Int 1) (Int 2))" },
        { "(*a, b)",
          "(Tuple (Starred (Name a)) (Name b))" },
        { "[]",
          "(List)" },
        { "[1]",
          "(List (Int 1))" },
        { "[1, 2,]",
          "(List (Int 1) (Int 2))" },
        { "[*a, *b]",
          "(List (Starred (Name a)) (Starred (Name b)))" },
        { "{}",
          "(Dict)" },
        { "{1}",
          "(Set (Int 1))" },
        { "{1, 2,}",
          "(Set (Int 1) (Int 2))" },
        { "{*a, b}",
          "(Set (Starred (Name a)) (Name b))" },
        { "{1: 2}",
          "(Dict (Int 1) (Int 2))" },
        { "{1: 2, 3: 4,}",
          "(Dict (Int 1) (Int 2) (Int 3) (Int 4))" },
        { "{**a, 'b': 1, **c}",
          "(Dict ** (Name a) (Str \"b\") (Int 1) ** (Name c))" },
        { "[x for x in y]",
          "(ListComp (Name x) (comprehension (Name x Store) (Name y)))" },
        { "[x for x in y if x if not x]",
          "(ListComp (Name x) (comprehension (Name x Store) (Name y) (Name x) (UnaryOp not (Name x))))" },
        { "[x for x in y for z in x]",
          "(ListComp (Name x) (comprehension (Name x Store) (Name y)) (comprehension (Name z Store) (Name x)))" },
        { "[(a, b) for a, b in c]",
          "(ListComp (Tuple (Name a) (Name b)) (comprehension (Tuple (Name a Store) (Name b Store) Store) (Name c)))" },
        { "[x for x, in y]",
          "(ListComp (Name x) (comprehension (Tuple (Name x Store) Store) (Name y)))" },
        { "{x for x in y}",
          "(SetComp (Name x) (comprehension (Name x Store) (Name y)))" },
        { "{k: v for k, v in d.items()}",
          "(DictComp (Name k) (Name v) (comprehension (Tuple (Name k Store) (Name v Store) Store) (Call (Attribute (Name d) items))))" },
        { "(x for x in y)",
          "(GeneratorExp (Name x) (comprehension (Name x Store) (Name y)))" },
        { "[y := f(x) for x in z]",
          "(ListComp (NamedExpr (Name y Store) (Call (Name f) (Name x))) (comprehension (Name x Store) (Name z)))" },
        { "[a if b else c for d in e if f]",
          "(ListComp (IfExp (Name b) (Name a) (Name c)) (comprehension (Name d Store) (Name e) (Name f)))" },
        { "[lambda: x for x in y]",
          "(ListComp (Lambda (arguments) (Name x)) (comprehension (Name x Store) (Name y)))" },
        { "(x := 1)",
          "(NamedExpr (Name x Store) (Int 1))" },
        { "*a",
          "(Starred (Name a))" },
        { "1, 2",
          "(Tuple (Int 1) (Int 2))" },
        { "...",
          "(Constant Ellipsis)" },
        { "None",
          "(Constant None)" },
        { "True",
          "(Constant True)" },
        { "False",
          "(Constant False)" },
        { "'a' 'b'",
          "(Str \"ab\")" },
        { "a @ b",
          "(BinOp @ (Name a) (Name b))" },
        { "f(a)(b)(c)",
          "(Call (Call (Call (Name f) (Name a)) (Name b)) (Name c))" },
        { "x[1][2]",
          "(Subscript (Subscript (Name x) (Int 1)) (Int 2))" },
        { "-1",
          "(UnaryOp - (Int 1))" },
        { "- 1",
          "(UnaryOp - (Int 1))" },
        { "+1",
          "(UnaryOp + (Int 1))" },
        { "~1",
          "(UnaryOp ~ (Int 1))" },
        { "not x",
          "(UnaryOp not (Name x))" },
        { "a ** b ** c",
          "(BinOp ** (Name a) (BinOp ** (Name b) (Name c)))" },
        { "a * -b",
          "(BinOp * (Name a) (UnaryOp - (Name b)))" },
        { "(yield)",
          "(Yield)" },
        { "lambda *args, **kw: 0",
          "(Lambda (arguments *args **kw) (Int 0))" },
        { "lambda a, /, b, *, c=1: 0",
          "(Lambda (arguments a / b * c=(Int 1)) (Int 0))" },
        { "lambda *, a: a",
          "(Lambda (arguments * a) (Name a))" },
        { "lambda a=1, b=2,: 0",
          "(Lambda (arguments a=(Int 1) b=(Int 2)) (Int 0))" },
        { "lambda x: (yield)",
          "(Lambda (arguments x) (Yield))" },
    };
    (void)state;
    check_dumps(cases, N(cases), true);
}

/* Messages and positions are CPython 3.11's where practical. */
static void test_syntax_errors(void **state)
{
    static const ErrCase cases[] = {
        { "x = 1\n    y = 2\n", PARSE_ERROR, "IndentationError",
          "unexpected indent", 2, 4 },
        { "  x = 1\n", PARSE_ERROR, "IndentationError",
          "unexpected indent", 1, 2 },
        { "if x:\ny = 1\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after 'if' statement on line 1", 2, 1 },
        { "if x:\n    pass\nelif y:\nz\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after 'elif' statement on line 3", 4, 1 },
        { "if x:\n    pass\nelse:\nz\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after 'else' statement on line 3", 4, 1 },
        { "while x:\nz\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after 'while' statement on line 1", 2, 1 },
        { "for x in y:\nz\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after 'for' statement on line 1", 2, 1 },
        { "try:\nz\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after 'try' statement on line 1", 2, 1 },
        { "try:\n    a\nexcept:\nz\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after 'except' statement on line 3", 4, 1 },
        { "try:\n    a\nfinally:\nz\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after 'finally' statement on line 3", 4, 1 },
        { "with a:\nz\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after 'with' statement on line 1", 2, 1 },
        { "def f():\nreturn\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after function definition on line 1", 2, 1 },
        { "class C:\nx = 1\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after class definition on line 1", 2, 1 },
        { "class C:\n    def f(self):\n    pass\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after function definition on line 2", 3, 5 },
        { "if x = 3:\n    pass\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax. Maybe you meant '==' or ':=' instead of '='?", 1, 4 },
        { "if x.y = 3:\n    pass\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 8 },
        { "while x = 1: pass\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax. Maybe you meant '==' or ':=' instead of '='?", 1, 7 },
        { "f(a, x = 1 = 2)\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 12 },
        { "1 = x\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to literal here. Maybe you meant '==' instead of '='?", 1, 1 },
        { "f() = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to function call here. Maybe you meant '==' instead of '='?", 1, 1 },
        { "x + 1 = 2\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to expression here. Maybe you meant '==' instead of '='?", 1, 1 },
        { "'a' = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to literal here. Maybe you meant '==' instead of '='?", 1, 1 },
        { "f'{x}' = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to f-string expression here. Maybe you meant '==' instead of '='?", 1, 1 },
        { "None = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to None", 1, 1 },
        { "True = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to True", 1, 1 },
        { "... = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to ellipsis here. Maybe you meant '==' instead of '='?", 1, 1 },
        { "[f()] = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to function call", 1, 2 },
        { "a, f() = 1, 2\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to function call here. Maybe you meant '==' instead of '='?", 1, 4 },
        { "x = f() = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to function call", 1, 5 },
        { "(a, b) = f() = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to function call", 1, 10 },
        { "a < b = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to comparison", 1, 1 },
        { "a and b = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to expression", 1, 1 },
        { "not a = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to expression", 1, 1 },
        { "a if b else c = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to conditional expression", 1, 1 },
        { "lambda: 1 = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to lambda", 1, 1 },
        { "[x for x in y] = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to list comprehension here. Maybe you meant '==' instead of '='?", 1, 1 },
        { "(x for x in y) = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to generator expression", 1, 1 },
        { "{a: b} = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to dict literal here. Maybe you meant '==' instead of '='?", 1, 1 },
        { "{a} = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to set display here. Maybe you meant '==' instead of '='?", 1, 1 },
        { "f() = not x\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to function call", 1, 1 },
        { "f() = yield x\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to function call", 1, 1 },
        { "(yield) = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to yield expression here. Maybe you meant '==' instead of '='?", 1, 2 },
        { "x = yield = 1\n", PARSE_ERROR, "SyntaxError",
          "assignment to yield expression not possible", 1, 5 },
        { "*a = 1\n", PARSE_ERROR, "SyntaxError",
          "starred assignment target must be in a list or tuple", 1, 1 },
        { "a, *b, *c = d\n", PARSE_ERROR, "SyntaxError",
          "multiple starred expressions in assignment", 1, 1 },
        { "[a, *b, *c] = d\n", PARSE_ERROR, "SyntaxError",
          "multiple starred expressions in assignment", 1, 1 },
        { "(*a) = 1\n", PARSE_ERROR, "SyntaxError",
          "cannot use starred expression here", 1, 2 },
        { "del f()\n", PARSE_ERROR, "SyntaxError",
          "cannot delete function call", 1, 5 },
        { "del x + 1\n", PARSE_ERROR, "SyntaxError",
          "cannot delete expression", 1, 5 },
        { "del *a, b\n", PARSE_ERROR, "SyntaxError",
          "cannot delete starred", 1, 5 },
        { "del (a, 1)\n", PARSE_ERROR, "SyntaxError",
          "cannot delete literal", 1, 9 },
        { "f() += 1\n", PARSE_ERROR, "SyntaxError",
          "'function call' is an illegal expression for augmented assignment", 1, 1 },
        { "x + 1 += 2\n", PARSE_ERROR, "SyntaxError",
          "'expression' is an illegal expression for augmented assignment", 1, 1 },
        { "[a, b] += 1\n", PARSE_ERROR, "SyntaxError",
          "'list' is an illegal expression for augmented assignment", 1, 1 },
        { "a, b += 1\n", PARSE_ERROR, "SyntaxError",
          "'tuple' is an illegal expression for augmented assignment", 1, 1 },
        { "(a, b): int\n", PARSE_ERROR, "SyntaxError",
          "only single target (not tuple) can be annotated", 1, 1 },
        { "[a, b]: int\n", PARSE_ERROR, "SyntaxError",
          "only single target (not list) can be annotated", 1, 1 },
        { "f(): int\n", PARSE_ERROR, "SyntaxError",
          "illegal target for annotation", 1, 1 },
        { "x: int, y: int\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 7 },
        { "for f() in x: pass\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to function call", 1, 5 },
        { "for 1 in x: pass\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to literal", 1, 5 },
        { "for a, f() in x: pass\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to function call", 1, 8 },
        { "for *a in x: pass\n", PARSE_ERROR, "SyntaxError",
          "starred assignment target must be in a list or tuple", 1, 5 },
        { "with a as f(): pass\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to function call", 1, 11 },
        { "with a as (b, 1): pass\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to literal", 1, 15 },
        { "[x for 1 in y]\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to literal", 1, 8 },
        { "[x for f() in y]\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to function call", 1, 8 },
        { "(a.b := 1)\n", PARSE_ERROR, "SyntaxError",
          "cannot use assignment expressions with attribute", 1, 2 },
        { "(a[0] := 1)\n", PARSE_ERROR, "SyntaxError",
          "cannot use assignment expressions with subscript", 1, 2 },
        { "((a, b) := 1)\n", PARSE_ERROR, "SyntaxError",
          "cannot use assignment expressions with tuple", 1, 2 },
        { "x := 1\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 3 },
        { "f(a.b=1)\n", PARSE_ERROR, "SyntaxError",
          "expression cannot contain assignment, perhaps you meant \"==\"?", 1, 3 },
        { "f(1=2)\n", PARSE_ERROR, "SyntaxError",
          "expression cannot contain assignment, perhaps you meant \"==\"?", 1, 3 },
        { "f(True=1)\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to True", 1, 3 },
        { "f(None=1)\n", PARSE_ERROR, "SyntaxError",
          "cannot assign to None", 1, 3 },
        { "f(a=1, a=2)\n", PARSE_ERROR, "SyntaxError",
          "keyword argument repeated: a", 1, 8 },
        { "f(a=1, b)\n", PARSE_ERROR, "SyntaxError",
          "positional argument follows keyword argument", 1, 8 },
        { "f(**k, b)\n", PARSE_ERROR, "SyntaxError",
          "positional argument follows keyword argument unpacking", 1, 8 },
        { "f(**k, *a)\n", PARSE_ERROR, "SyntaxError",
          "iterable argument unpacking follows keyword argument unpacking", 1, 8 },
        { "f(x for x in y, 1)\n", PARSE_ERROR, "SyntaxError",
          "Generator expression must be parenthesized", 1, 3 },
        { "f(1, x for x in y)\n", PARSE_ERROR, "SyntaxError",
          "Generator expression must be parenthesized", 1, 6 },
        { "f(x for x in y,)\n", PARSE_ERROR, "SyntaxError",
          "Generator expression must be parenthesized", 1, 3 },
        { "class C(x for x in y, z): pass\n", PARSE_ERROR, "SyntaxError",
          "Generator expression must be parenthesized", 1, 9 },
        { "[*a for a in b]\n", PARSE_ERROR, "SyntaxError",
          "iterable unpacking cannot be used in comprehension", 1, 2 },
        { "{*a for a in b}\n", PARSE_ERROR, "SyntaxError",
          "iterable unpacking cannot be used in comprehension", 1, 2 },
        { "{**a for a in b}\n", PARSE_ERROR, "SyntaxError",
          "dict unpacking cannot be used in dict comprehension", 1, 2 },
        { "(*a)\n", PARSE_ERROR, "SyntaxError",
          "cannot use starred expression here", 1, 2 },
        { "def f(a=1, b): pass\n", PARSE_ERROR, "SyntaxError",
          "non-default argument follows default argument", 1, 12 },
        { "def f(a, a): pass\n", PARSE_ERROR, "SyntaxError",
          "duplicate argument 'a' in function definition", 1, 10 },
        { "def f(a, *, a): pass\n", PARSE_ERROR, "SyntaxError",
          "duplicate argument 'a' in function definition", 1, 13 },
        { "def f(*, **k): pass\n", PARSE_ERROR, "SyntaxError",
          "named arguments must follow bare *", 1, 7 },
        { "def f(*): pass\n", PARSE_ERROR, "SyntaxError",
          "named arguments must follow bare *", 1, 7 },
        { "def f(*a, *b): pass\n", PARSE_ERROR, "SyntaxError",
          "* argument may appear only once", 1, 11 },
        { "def f(**k, a): pass\n", PARSE_ERROR, "SyntaxError",
          "arguments cannot follow var-keyword argument", 1, 12 },
        { "def f(**k, *a): pass\n", PARSE_ERROR, "SyntaxError",
          "arguments cannot follow var-keyword argument", 1, 12 },
        { "def f(/): pass\n", PARSE_ERROR, "SyntaxError",
          "at least one argument must precede /", 1, 7 },
        { "def f(a, /, /): pass\n", PARSE_ERROR, "SyntaxError",
          "/ may appear only once", 1, 13 },
        { "def f(*, a, /): pass\n", PARSE_ERROR, "SyntaxError",
          "/ must be ahead of *", 1, 13 },
        { "def f(*args=1): pass\n", PARSE_ERROR, "SyntaxError",
          "var-positional argument cannot have default value", 1, 12 },
        { "lambda *: 0\n", PARSE_ERROR, "SyntaxError",
          "named arguments must follow bare *", 1, 8 },
        { "lambda a=1, b: 0\n", PARSE_ERROR, "SyntaxError",
          "non-default argument follows default argument", 1, 13 },
        { "lambda a, a: 0\n", PARSE_ERROR, "SyntaxError",
          "duplicate argument 'a' in function definition", 1, 11 },
        { "try:\n    pass\nexcept:\n    pass\nexcept E:\n    pass\n", PARSE_ERROR, "SyntaxError",
          "default 'except:' must be last", 3, 1 },
        { "try:\n    pass\nexcept A, B:\n    pass\n", PARSE_ERROR, "SyntaxError",
          "multiple exception types must be parenthesized", 3, 8 },
        { "try:\n    pass\nx = 1\n", PARSE_ERROR, "SyntaxError",
          "expected 'except' or 'finally' block", 3, 1 },
        { "try:\n    pass\nelse:\n    pass\n", PARSE_ERROR, "SyntaxError",
          "expected 'except' or 'finally' block", 3, 1 },
        { "else:\n    pass\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 1 },
        { "from m import a,\n", PARSE_ERROR, "SyntaxError",
          "trailing comma not allowed without surrounding parentheses", 1, 16 },
        { "from m import\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 14 },
        { "import\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 7 },
        { "import a.\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 10 },
        { "from . import (a b)\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 18 },
        { "x = 1 +\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 8 },
        { "print 'hello'\n", PARSE_ERROR, "SyntaxError",
          "Missing parentheses in call to 'print'. Did you mean print(...)?", 1, 1 },
        { "a b\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 3 },
        { "f(a b)\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax. Perhaps you forgot a comma?", 1, 3 },
        { "x = (1, 2\ny = 3\n", PARSE_ERROR, "SyntaxError",
          "'(' was never closed", 1, 5 },
        { "x = [1, 2\nfoo(\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax. Perhaps you forgot a comma?", 1, 9 },
        { "x = (1 2)\ny = 'abc\n", PARSE_ERROR, "SyntaxError",
          "unterminated string literal (detected at line 2)", 2, 5 },
        { "def f(:\n    pass\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 7 },
        { "class\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 6 },
        { "return return\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 8 },
        { "x = 1 if y\n", PARSE_ERROR, "SyntaxError",
          "expected 'else' after 'if' expression", 1, 11 },
        { "x = 1 if y else\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 16 },
        { "@dec\nx = 1\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 2, 1 },
        { "if x:\n    pass\n  else:\n    pass\n", PARSE_ERROR, "IndentationError",
          "unindent does not match any outer indentation level", 3, 8 },
        { "async x = 1\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 7 },
        { "async def f(): return await\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 28 },
        { "x = *a, **b\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 9 },
        { "{1: 2, 3}\n", PARSE_ERROR, "SyntaxError",
          "':' expected after dictionary key", 1, 8 },
        { "{1, 2: 3}\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 6 },
        { "a[1:2:3:4]\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 8 },
        { "f(**)\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 5 },
        { "def f(a b): pass\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 9 },
        { "def f(*args=1): pass\n", PARSE_ERROR, "SyntaxError",
          "var-positional argument cannot have default value", 1, 12 },
        { "def f(**k=1): pass\n", PARSE_ERROR, "SyntaxError",
          "var-keyword argument cannot have default value", 1, 10 },
        { "def f(*a: int = 1): pass\n", PARSE_ERROR, "SyntaxError",
          "var-positional argument cannot have default value", 1, 15 },
        { "lambda *a=1: 0\n", PARSE_ERROR, "SyntaxError",
          "var-positional argument cannot have default value", 1, 10 },
        { "x = 1 if y\n", PARSE_ERROR, "SyntaxError",
          "expected 'else' after 'if' expression", 1, 11 },
        { "x = (1 if y)\n", PARSE_ERROR, "SyntaxError",
          "expected 'else' after 'if' expression", 1, 12 },
        { "print 'hello'\n", PARSE_ERROR, "SyntaxError",
          "Missing parentheses in call to 'print'. Did you mean print(...)?", 1, 1 },
        { "print x\n", PARSE_ERROR, "SyntaxError",
          "Missing parentheses in call to 'print'. Did you mean print(...)?", 1, 1 },
        { "exec 'code'\n", PARSE_ERROR, "SyntaxError",
          "Missing parentheses in call to 'exec'. Did you mean exec(...)?", 1, 1 },
        { "f(a b)\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax. Perhaps you forgot a comma?", 1, 3 },
        { "[1 2]\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax. Perhaps you forgot a comma?", 1, 2 },
        { "f(a 'b')\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 5 },
        { "(x = 1)\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax. Maybe you meant '==' or ':=' instead of '='?", 1, 2 },
        { "[x = 1]\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax. Maybe you meant '==' or ':=' instead of '='?", 1, 2 },
        { "if a and b = 1: pass\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 12 },
        { "a b\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 3 },
        { "f(x) (y) z\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 10 },
        { "{a b}\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax. Perhaps you forgot a comma?", 1, 2 },
        { "x = [1, 2\nfoo(\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax. Perhaps you forgot a comma?", 1, 9 },
    };
    (void)state;
    support_check_errors(cases, N(cases));
}

/* What a REPL needs: PARSE_INCOMPLETE while more lines could complete the
 * input; a blank last line ends a block. */
static void test_incomplete(void **state)
{
    static const ErrCase cases[] = {
        { "if x:\n", PARSE_INCOMPLETE, "IndentationError",
          "expected an indented block after 'if' statement on line 1", 1, 6 },
        { "if x:\n\n", PARSE_ERROR, "IndentationError",
          "expected an indented block after 'if' statement on line 1", 1, 6 },
        { "if x:\n    \n", PARSE_ERROR, "IndentationError",
          "expected an indented block after 'if' statement on line 1", 1, 6 },
        { "if x:\n    y = 1\nelse:\n", PARSE_INCOMPLETE, "IndentationError",
          "expected an indented block after 'else' statement on line 3", 3, 6 },
        { "for x in y:\n", PARSE_INCOMPLETE, "IndentationError",
          "expected an indented block after 'for' statement on line 1", 1, 12 },
        { "def f():\n", PARSE_INCOMPLETE, "IndentationError",
          "expected an indented block after function definition on line 1", 1, 9 },
        { "class C:\n    def f(self):\n", PARSE_INCOMPLETE, "IndentationError",
          "expected an indented block after function definition on line 2", 2, 17 },
        { "@dec\n", PARSE_INCOMPLETE, "SyntaxError",
          "unexpected EOF while parsing", 1, 5 },
        { "@dec\n\n", PARSE_ERROR, "SyntaxError",
          "unexpected EOF while parsing", 1, 5 },
        { "try:\n    x\n", PARSE_INCOMPLETE, "SyntaxError",
          "expected 'except' or 'finally' block", 2, 6 },
        { "try:\n    x\n\n", PARSE_ERROR, "SyntaxError",
          "expected 'except' or 'finally' block", 2, 6 },
        { "x = (1,\n", PARSE_INCOMPLETE, "SyntaxError",
          "'(' was never closed", 1, 5 },
        { "x = [1,\n\n\n", PARSE_INCOMPLETE, "SyntaxError",
          "'[' was never closed", 1, 5 },
        { "f(a,\n  b\n", PARSE_INCOMPLETE, "SyntaxError",
          "'(' was never closed", 1, 2 },
        { "x = '''abc\n", PARSE_INCOMPLETE, "SyntaxError",
          "unterminated triple-quoted string literal (detected at line 1)", 1, 5 },
        { "x = 1 + \\\n", PARSE_INCOMPLETE, "SyntaxError",
          "unexpected EOF while parsing", 1, 10 },
        { "x = 1 +\n", PARSE_ERROR, "SyntaxError",
          "invalid syntax", 1, 8 },
        { "x = 'abc\n", PARSE_ERROR, "SyntaxError",
          "unterminated string literal (detected at line 1)", 1, 5 },
        { "foo(1 bar\n", PARSE_ERROR, "SyntaxError",
          "'(' was never closed", 1, 4 },
        { "if x:\n    y = (\n", PARSE_INCOMPLETE, "SyntaxError",
          "'(' was never closed", 2, 9 },
        { "x = '''\n\n", PARSE_INCOMPLETE, "SyntaxError",
          "unterminated triple-quoted string literal (detected at line 2)", 1, 5 },
    };
    (void)state;
    support_check_errors(cases, N(cases));
}

static const char big_program[] =
    "import sys\n"
    "from collections import deque as dq\n"
    "\n"
    "class Stack(object):\n"
    "    \"\"\"A stack.\"\"\"\n"
    "    def __init__(self, items=None, *, limit=10):\n"
    "        self.items = list(items or [])\n"
    "        self.limit = limit\n"
    "\n"
    "    def push(self, x):\n"
    "        if len(self.items) >= self.limit:\n"
    "            raise OverflowError(f\"stack full: {len(self.items)!r} >= {self.limit:>4}\")\n"
    "        self.items.append(x)\n"
    "        return self\n"
    "\n"
    "    @property\n"
    "    def top(self):\n"
    "        return self.items[-1] if self.items else None\n"
    "\n"
    "def fib(n):\n"
    "    a, b = 0, 1\n"
    "    for _ in range(n):\n"
    "        a, b = b, a + b\n"
    "    return a\n"
    "\n"
    "def outer():\n"
    "    n = 0\n"
    "    def inner():\n"
    "        nonlocal n\n"
    "        n += 1\n"
    "        return n\n"
    "    return inner\n"
    "\n"
    "def gen(xs):\n"
    "    total = 0\n"
    "    for i, (k, v) in enumerate(sorted(xs.items(), key=lambda kv: -kv[1])):\n"
    "        if i % 2 == 0 and not k.startswith('_'):\n"
    "            total += v ** 2\n"
    "        elif v < 0:\n"
    "            continue\n"
    "        else:\n"
    "            yield k\n"
    "    while total > 100:\n"
    "        total //= 2\n"
    "    try:\n"
    "        x = {k: v for k, v in xs.items() if v}\n"
    "        y = [a * b for a in range(3) for b in range(a)]\n"
    "        z = {s for s in 'abc'}\n"
    "        w = (q for q in y if q)\n"
    "    except (KeyError, ValueError) as e:\n"
    "        print('error', e, sep=': ', file=sys.stderr)\n"
    "    except Exception:\n"
    "        raise\n"
    "    else:\n"
    "        del x['a']\n"
    "    finally:\n"
    "        pass\n"
    "    with open('f') as f, open('g') as g:\n"
    "        data = f.read()[1:-1:2]\n"
    "    assert total >= 0, \"negative\"\n"
    "    global counter\n"
    "    return (yield from other()) if total else None\n"
    "\n"
    "if __name__ == \"__main__\":\n"
    "    print(fib(30), 10**30, 0xff, 1_000.5e-3, b'\\x00', *[1, 2], **{'end': '\\n'})\n";

static void test_parse_expression(void **state)
{
    static const DumpCase ok[] = {
        { "  1 + 2\n\n", "(BinOp + (Int 1) (Int 2))" },
        { "(1 +\n 2)", "(BinOp + (Int 1) (Int 2))" },
        { "\tf(x)", "(Call (Name f) (Name x))" },
        { "x,", "(Tuple (Name x))" },
    };
    static const char *const bad[] = { "x = 1", "1\n2", "", "if x: pass", "x := 1" };
    Arena arena;
    (void)state;
    check_dumps(ok, N(ok), true);
    arena_init(&arena);
    for (size_t i = 0; i < N(bad); i++) {
        ParseResult r = parse_expression(&arena, bad[i], strlen(bad[i]));
        assert_int_not_equal(r.status, PARSE_OK);
        assert_null(r.ast);
        assert_true(r.error.msg[0] != '\0');
    }
    arena_free(&arena);
}

static void test_module_node(void **state)
{
    Arena arena;
    (void)state;
    arena_init(&arena);
    ParseResult r = parse_module(&arena, "dir/prog.mini", "1 + 2\n", 6);
    assert_int_equal(r.status, PARSE_OK);
    assert_int_equal(r.ast->kind, AST_MODULE);
    assert_string_equal(r.ast->u.module.filename.s, "dir/prog.mini");
    /* What a REPL looks at to echo a value. */
    assert_int_equal(r.ast->u.module.body.count, 1);
    assert_int_equal(r.ast->u.module.body.items[0]->kind, AST_EXPR);
    r = parse_module(&arena, NULL, NULL, 0);
    assert_int_equal(r.status, PARSE_OK);
    assert_int_equal(r.ast->u.module.body.count, 0);
    assert_null(r.ast->u.module.filename.s);
    arena_free(&arena);
}

static char *format(const SyntaxErrorInfo *err, const char *filename, const char *src)
{
    static char buf[1024];
    int n = parse_format_error(err, filename, src, src ? strlen(src) : 0, buf, sizeof buf);
    assert_int_equal(n, (int)strlen(buf));
    return buf;
}

static char *format_parse(const char *src)
{
    Arena arena;
    arena_init(&arena);
    ParseResult r = parse_module(&arena, "t.mini", src, strlen(src));
    assert_int_not_equal(r.status, PARSE_OK);
    char *text = format(&r.error, "t.mini", src);
    arena_free(&arena);
    return text;
}

static void test_format_error(void **state)
{
    (void)state;
    SyntaxErrorInfo err = { "SyntaxError", "invalid syntax", 3, 8 };
    assert_string_equal(format(&err, "path/x.mini", "a = 1\nb = 2\n    if x = 3:\n"),
                        "path/x.mini:3:8: SyntaxError: invalid syntax\n"
                        "    if x = 3:\n"
                        "       ^\n");
    assert_string_equal(format_parse("if x = 3:\n    pass\n"),
                        "t.mini:1:4: SyntaxError: invalid syntax. Maybe you meant '==' or ':=' "
                        "instead of '='?\n"
                        "    if x = 3:\n"
                        "       ^\n");
    /* The caret counts characters, not bytes; leading tabs are stripped. */
    assert_string_equal(format_parse("def f():\n\tx = \xc3\xa9 + \xe2\x82\xac\n"),
                        "t.mini:2:11: SyntaxError: invalid character '\xe2\x82\xac' (U+20AC)\n"
                        "    x = \xc3\xa9 + \xe2\x82\xac\n"
                        "            ^\n");
    assert_string_equal(format_parse("a = 1\r\nb = (\r\n"),
                        "t.mini:2:5: SyntaxError: '(' was never closed\n"
                        "    b = (\n"
                        "        ^\n");
    /* An error at the end of a line puts the caret after it. */
    assert_string_equal(format_parse("x = 1 +\n"),
                        "t.mini:1:8: SyntaxError: invalid syntax\n"
                        "    x = 1 +\n"
                        "           ^\n");
    assert_string_equal(format_parse("if x:\n        a\n    b\n"),
                        "t.mini:3:6: IndentationError: unindent does not match any outer "
                        "indentation level\n"
                        "    b\n"
                        "     ^\n");
    /* No source line to show. */
    SyntaxErrorInfo far = { "SyntaxError", "unexpected EOF while parsing", 10, 1 };
    assert_string_equal(format(&far, "f", "x\n"), "f:10:1: SyntaxError: unexpected EOF while parsing\n");
    SyntaxErrorInfo blank = { "IndentationError", "expected an indented block", 2, 1 };
    assert_string_equal(format(&blank, NULL, "if x:\n\n"),
                        "<string>:2:1: IndentationError: expected an indented block\n");
    assert_string_equal(format(&blank, "f", NULL), "f:2:1: IndentationError: expected an indented block\n");

    /* snprintf-like truncation. */
    char small[10];
    int need = parse_format_error(&err, "path/x.mini", "a\nb\nc\n", 6, small, sizeof small);
    assert_int_equal(need, (int)strlen("path/x.mini:3:8: SyntaxError: invalid syntax\n    c\n     ^\n"));
    assert_string_equal(small, "path/x.mi");
    assert_int_equal(parse_format_error(&err, "p", "c", 1, NULL, 0),
                     (int)strlen("p:3:8: SyntaxError: invalid syntax\n"));

    /* parse_print_error writes the same text. */
    FILE *f = tmpfile();
    assert_non_null(f);
    const char *src = "a = 1\nb = 2\n    if x = 3:\n";
    parse_print_error(&err, "path/x.mini", src, strlen(src), f);
    rewind(f);
    char line[256] = { 0 };
    size_t got = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[got] = '\0';
    assert_string_equal(line, "path/x.mini:3:8: SyntaxError: invalid syntax\n    if x = 3:\n       ^\n");
}

/* Positions: line and col of the first token, end just past the last. */
static void test_locations(void **state)
{
    static const char src[] = "x = foo(a, b) + [1, 2]\nif y:\n    z.w = 3\n@d\ndef f(): pass\n"
                              "s = ('a'\n     'b')\n";
    Arena arena;
    (void)state;
    arena_init(&arena);
    ParseResult r = parse_module(&arena, "t.mini", src, strlen(src));
    assert_int_equal(r.status, PARSE_OK);
    AstSeq body = r.ast->u.module.body;
    assert_int_equal(body.count, 4);

    AstNode *assign = body.items[0];
    assert_int_equal(assign->line, 1);
    assert_int_equal(assign->col, 1);
    assert_int_equal(assign->end_line, 1);
    assert_int_equal(assign->end_col, 23);
    AstNode *sum = assign->u.assign.value;
    assert_int_equal(sum->col, 5);
    assert_int_equal(sum->end_col, 23);
    AstNode *call = sum->u.bin_op.left;
    assert_int_equal(call->col, 5);
    assert_int_equal(call->end_col, 14);
    AstNode *b = call->u.call.args.items[1];
    assert_int_equal(b->col, 12);
    assert_int_equal(b->end_col, 13);
    AstNode *list = sum->u.bin_op.right;
    assert_int_equal(list->col, 17);
    assert_int_equal(list->end_col, 23);

    AstNode *ifs = body.items[1];
    assert_int_equal(ifs->line, 2);
    assert_int_equal(ifs->col, 1);
    AstNode *inner = ifs->u.cond_stmt.body.items[0];
    assert_int_equal(inner->line, 3);
    assert_int_equal(inner->col, 5);
    AstNode *attr = inner->u.assign.targets.items[0];
    assert_int_equal(attr->col, 5);
    assert_int_equal(attr->end_col, 8);

    /* A decorated definition starts at its first decorator. */
    AstNode *def = body.items[2];
    assert_int_equal(def->kind, AST_FUNCTION_DEF);
    assert_int_equal(def->line, 4);
    assert_int_equal(def->col, 1);

    AstNode *str = body.items[3]->u.assign.value;
    assert_int_equal(str->kind, AST_STR);
    assert_int_equal(str->line, 6);
    assert_int_equal(str->col, 6);
    assert_int_equal(str->end_line, 7);
    assert_int_equal(str->end_col, 9);
    arena_free(&arena);
}

static int count_nodes(const AstNode *n);

static void count_child(AstNode *child, void *data)
{
    *(int *)data += count_nodes(child);
}

static int count_nodes(const AstNode *n)
{
    int total = 1;
    ast_visit_children(n, count_child, &total);
    return total;
}

typedef struct Check {
    int bad;
    const AstNode *parent;
} Check;

/* Every node is inside the source and no expression is shallower than its
 * children. */
static void check_node(AstNode *n, void *data)
{
    Check *c = data;
    if (n->line < 1 || n->col < 1 || n->end_line < n->line ||
        (n->end_line == n->line && n->end_col < n->col) || (unsigned)n->kind >= AST_KIND_COUNT)
        c->bad++;
    if (c->parent && c->parent->depth > 0 && n->depth >= c->parent->depth)
        c->bad++;
    const AstNode *saved = c->parent;
    c->parent = n;
    ast_visit_children(n, check_node, c);
    c->parent = saved;
}

static void test_tree_invariants(void **state)
{
    Arena arena;
    (void)state;
    arena_init(&arena);
    ParseResult r = parse_module(&arena, "big.mini", big_program, sizeof big_program - 1);
    if (r.status != PARSE_OK)
        print_error("%d:%d: %s\n", r.error.line, r.error.col, r.error.msg);
    assert_int_equal(r.status, PARSE_OK);
    Check c = { 0, NULL };
    check_node(r.ast, &c);
    assert_int_equal(c.bad, 0);
    assert_true(count_nodes(r.ast) > 300);
    assert_int_equal(r.ast->u.module.body.count, 7);
    arena_free(&arena);
}

static AstNode *expr(Arena *arena, const char *src)
{
    ParseResult r = parse_expression(arena, src, strlen(src));
    assert_int_equal(r.status, PARSE_OK);
    return r.ast;
}

static void test_ast_helpers(void **state)
{
    Arena arena;
    (void)state;
    arena_init(&arena);
    assert_string_equal(ast_kind_name(AST_BIN_OP), "BinOp");
    assert_string_equal(ast_kind_name(AST_WITH_ITEM), "withitem");
    assert_string_equal(ast_operator_symbol(AST_OP_FLOORDIV), "//");
    assert_string_equal(ast_expr_name(expr(&arena, "f()")), "function call");
    assert_string_equal(ast_expr_name(expr(&arena, "1")), "literal");
    assert_string_equal(ast_expr_name(expr(&arena, "None")), "None");
    assert_string_equal(ast_expr_name(expr(&arena, "a < b")), "comparison");
    assert_string_equal(ast_expr_name(expr(&arena, "-a")), "expression");

    AstNode *ok = expr(&arena, "(a, b.c, d[0], [*e])");
    assert_null(ast_invalid_target(ok, AST_TARGET_STORE));
    AstNode *bad = expr(&arena, "(a, (b, f()))");
    const AstNode *found = ast_invalid_target(bad, AST_TARGET_STORE);
    assert_non_null(found);
    assert_int_equal(found->kind, AST_CALL);
    AstNode *star = expr(&arena, "(a, *b)");
    assert_null(ast_invalid_target(star, AST_TARGET_STORE));
    found = ast_invalid_target(star, AST_TARGET_DEL);
    assert_non_null(found);
    assert_int_equal(found->kind, AST_STARRED);

    ast_set_context(ok, AST_STORE);
    assert_int_equal(ok->u.seq.ctx, AST_STORE);
    assert_int_equal(ok->u.seq.elts.items[0]->u.name.ctx, AST_STORE);
    assert_int_equal(ok->u.seq.elts.items[1]->u.attribute.ctx, AST_STORE);
    assert_int_equal(ok->u.seq.elts.items[1]->u.attribute.value->u.name.ctx, AST_LOAD);
    AstNode *inner = ok->u.seq.elts.items[3]->u.seq.elts.items[0];
    assert_int_equal(inner->u.starred.ctx, AST_STORE);
    assert_int_equal(inner->u.starred.value->u.name.ctx, AST_STORE);

    /* Int literals keep their digits for arbitrary precision. */
    AstNode *big = expr(&arena, "1_000_000_000_000_000_000_000_000_000");
    assert_int_equal(big->kind, AST_INT);
    assert_int_equal(big->u.int_lit.base, 10);
    assert_string_equal(big->u.int_lit.digits.s, "1000000000000000000000000000");
    assert_int_equal(big->u.int_lit.digits.len, 28);
    AstNode *hex = expr(&arena, "0XdeadBEEF");
    assert_int_equal(hex->u.int_lit.base, 16);
    assert_string_equal(hex->u.int_lit.digits.s, "deadBEEF");
    AstNode *fl = expr(&arena, "2.5E-3");
    assert_true(fl->u.float_lit.value == 2.5e-3);

    /* Strings may hold NULs; the length says where they end. */
    AstNode *s = expr(&arena, "'a\\0b'");
    assert_int_equal(s->u.str.value.len, 3);
    assert_memory_equal(s->u.str.value.s, "a\0b", 4);

    assert_string_equal(ast_dump_string(NULL, &arena), "_");
    arena_free(&arena);
}

static char *repeat(const char *prefix, const char *unit, size_t times, const char *suffix)
{
    size_t pl = strlen(prefix), ul = strlen(unit), sl = strlen(suffix);
    char *s = malloc(pl + ul * times + sl + 1);
    assert_non_null(s);
    memcpy(s, prefix, pl);
    for (size_t i = 0; i < times; i++)
        memcpy(s + pl + i * ul, unit, ul);
    memcpy(s + pl + ul * times, suffix, sl + 1);
    return s;
}

static ParseResult parse_owned(Arena *arena, char *src)
{
    ParseResult r = parse_module(arena, "t.mini", src, strlen(src));
    free(src);
    return r;
}

static void expect_error(char *src, ParseStatus status, const char *msg)
{
    Arena arena;
    arena_init(&arena);
    ParseResult r = parse_owned(&arena, src);
    assert_int_equal(r.status, status);
    assert_string_equal(r.error.msg, msg);
    arena_free(&arena);
}

static void test_deep_and_large_inputs(void **state)
{
    Arena arena;
    ParseResult r;
    (void)state;

    expect_error(repeat("", "(", 100000, ""), PARSE_ERROR, "too many nested parentheses");
    expect_error(repeat("x = ", "[", 201, ""), PARSE_ERROR, "too many nested parentheses");
    expect_error(repeat("", "-", 100000, "x"), PARSE_ERROR, "too many nested expressions");
    expect_error(repeat("", "not ", 100000, "x"), PARSE_ERROR, "too many nested expressions");
    expect_error(repeat("a", ".b", 100000, ""), PARSE_ERROR, "too many nested expressions");
    expect_error(repeat("a", "+a", 100000, ""), PARSE_ERROR, "too many nested expressions");
    expect_error(repeat("f", "()", 100000, ""), PARSE_ERROR, "too many nested expressions");
    expect_error(repeat("", "lambda: ", 5000, "0"), PARSE_ERROR, "too many nested expressions");
    expect_error(repeat("x = ", "(1, ", 150, ""), PARSE_INCOMPLETE, "'(' was never closed");

    arena_init(&arena);
    /* Exactly at the bracket limit. */
    char *open = repeat("x = ", "[", 200, "");
    char *src = repeat(open, "]", 200, "\n");
    free(open);
    r = parse_owned(&arena, src);
    assert_int_equal(r.status, PARSE_OK);

    /* Wide but shallow trees are fine. */
    r = parse_owned(&arena, repeat("x = ", "1, ", 100000, "\n"));
    assert_int_equal(r.status, PARSE_OK);
    assert_int_equal(r.ast->u.module.body.items[0]->u.assign.value->u.seq.elts.count, 100000);
    r = parse_owned(&arena, repeat("", "a < ", 50000, "a\n"));
    assert_int_equal(r.status, PARSE_OK);
    assert_int_equal(r.ast->u.module.body.items[0]->u.value_stmt.value->u.compare.comparators.count,
                     50000);
    r = parse_owned(&arena, repeat("", "a or ", 50000, "a\n"));
    assert_int_equal(r.status, PARSE_OK);
    r = parse_owned(&arena, repeat("", "x = 1\n", 100000, ""));
    assert_int_equal(r.status, PARSE_OK);
    assert_int_equal(r.ast->u.module.body.count, 100000);
    r = parse_owned(&arena, repeat("if a:\n    pass\n", "elif b:\n    pass\n", 1000, "else:\n    pass\n"));
    assert_int_equal(r.status, PARSE_OK);
    r = parse_owned(&arena, repeat("if a:\n    pass\n", "elif b:\n    pass\n", 1001, ""));
    assert_int_equal(r.status, PARSE_ERROR);
    assert_string_equal(r.error.msg, "too many 'elif' branches");
    assert_int_equal(r.error.line, 2003);

    /* Long parameter and argument lists stay fast, duplicates found. */
    char *params = malloc(100000 * 8 + 64);
    char *args = malloc(100000 * 16 + 64);
    assert_non_null(params);
    assert_non_null(args);
    size_t pl = (size_t)sprintf(params, "def f(");
    size_t al = (size_t)sprintf(args, "f(");
    for (int i = 0; i < 100000; i++) {
        pl += (size_t)sprintf(params + pl, "a%d,", i);
        al += (size_t)sprintf(args + al, "k%d=%d,", i, i);
    }
    strcpy(params + pl, "): pass\n");
    strcpy(args + al, ")\n");
    r = parse_module(&arena, "t.mini", params, strlen(params));
    assert_int_equal(r.status, PARSE_OK);
    assert_int_equal(r.ast->u.module.body.items[0]->u.function_def.args->u.arguments.args.count, 100000);
    r = parse_module(&arena, "t.mini", args, strlen(args));
    assert_int_equal(r.status, PARSE_OK);
    strcpy(params + pl, "a7): pass\n");
    strcpy(args + al, "k99=1)\n");
    r = parse_module(&arena, "t.mini", params, strlen(params));
    assert_string_equal(r.error.msg, "duplicate argument 'a7' in function definition");
    assert_int_equal(r.error.col, (int)pl + 1);
    r = parse_module(&arena, "t.mini", args, strlen(args));
    assert_string_equal(r.error.msg, "keyword argument repeated: k99");
    assert_int_equal(r.error.col, (int)al + 1);
    free(params);
    free(args);

    /* Number-like runs are scanned in linear time. */
    r = parse_owned(&arena, repeat("x = [", ".1,", 200000, "]\n"));
    assert_int_equal(r.status, PARSE_OK);
    r = parse_owned(&arena, repeat("x = 1", ".1", 200000, "\n"));
    assert_int_equal(r.status, PARSE_ERROR);
    r = parse_owned(&arena, repeat("x = '", "abcdefghij", 100000, "'\n"));
    assert_int_equal(r.status, PARSE_OK);
    assert_int_equal(r.ast->u.module.body.items[0]->u.assign.value->u.str.value.len, 1000000);
    r = parse_owned(&arena, repeat("", "identifier", 100000, " = 1\n"));
    assert_int_equal(r.status, PARSE_OK);
    r = parse_owned(&arena, repeat("x = f'", "{a}b", 20000, "'\n"));
    assert_int_equal(r.status, PARSE_OK);
    r = parse_owned(&arena, repeat("", "\n", 100000, "x\n"));
    assert_int_equal(r.status, PARSE_OK);
    assert_int_equal(r.ast->u.module.body.items[0]->line, 100001);
    r = parse_owned(&arena, repeat("", "    ", 10000, ""));
    assert_int_equal(r.status, PARSE_OK);
    arena_free(&arena);
}

/* xorshift64*: deterministic pseudo-random numbers. */
static uint32_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)((*s * 0x2545F4914F6CDD1DULL) >> 32);
}

static const char *const fragments[] = {
    "(", ")", "[", "]", "{", "}", ":", ",", ";", "\n", "    ", "\t", " ", "'", "\"", "'''", "\"\"\"",
    "f'{", "f\"{x!r:>{w}}\"", "}", "{", "\\", "\\\n", "#", "=", "==", ":=", "->", "lambda", "if", "else",
    "elif", "for", "in", "not", "is", "yield", "from", "import", "def", "class", "return", "try:",
    "except", "finally:", "with", "as", "*", "**", "@", ".", "...", "0x", "1_", "1e", "0o7", "1.5",
    "10**30", "\r", "\r\n", "\f", "x", "_y", "\xcf\x80", "\xe2\x82\xac", "\xff", "\xc3", "\x01", "$",
    "b'", "rb'", "\\x4", "\\N{", "global", "del", "pass", "and", "or", "%", "//=", "~", "\0",
};

static size_t append_fragment(char *buf, size_t len, size_t cap, uint64_t *rng)
{
    const char *f = fragments[next_random(rng) % N(fragments)];
    size_t fl = f[0] ? strlen(f) : 1; /* "\0" is one NUL byte */
    if (len + fl > cap)
        return len;
    memcpy(buf + len, f, fl);
    return len + fl;
}

static void check_robust(Arena *arena, const char *src, size_t len)
{
    ParseResult r = parse_module(arena, "fuzz.mini", src, len);
    char text[512];
    if (r.status == PARSE_OK) {
        assert_non_null(r.ast);
        assert_non_null(ast_dump_string(r.ast, arena));
    } else {
        assert_true(r.status == PARSE_ERROR || r.status == PARSE_INCOMPLETE);
        assert_true(r.error.msg[0] != '\0');
        assert_true(r.error.line >= 1);
        assert_true(r.error.col >= 1);
        assert_non_null(r.error.kind);
        parse_format_error(&r.error, "fuzz.mini", src, len, text, sizeof text);
    }
    r = parse_expression(arena, src, len);
    assert_true(r.status == PARSE_OK || r.error.msg[0] != '\0');
    const char *dump;
    r = parse_tokens(arena, src, len, true, &dump);
    assert_non_null(dump);
}

static void test_fuzz(void **state)
{
    static const char *const corpus[] = {
        big_program,
        "x = [i * i for i in range(10) if i % 2]\nprint(f'{x!r:>{10}}', sep='')\n",
        "def f(a, /, b=1, *c, d, **e):\n    return lambda x, *y: (yield x)\n",
        "try:\n    pass\nexcept (A, B) as e:\n    raise C from e\nfinally:\n    del a[1:2, ::3]\n",
        "class A(B, metaclass=M):\n    @dec(1)\n    def m(self) -> int:\n        return -2**2\n",
        "while (n := n - 1) > 0:\n\tif n: continue\n\telse: break\n",
        "s = '''multi\nline''' + r'\\d' + b'\\x00' \\\n    + f\"{a['k']}{{}}\"\n",
    };
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    char buf[2048];
    Arena arena;
    (void)state;
    arena_init(&arena);
    /* Random byte strings made of tokens, fragments and raw bytes. */
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0, target = next_random(&rng) % 160;
        while (len < target) {
            if (next_random(&rng) % 4 == 0)
                buf[len++] = (char)(next_random(&rng) & 0xff);
            else
                len = append_fragment(buf, len, target, &rng);
            if (len + 16 > sizeof buf)
                break;
        }
        check_robust(&arena, buf, len);
        if (iter % 200 == 199) {
            arena_free(&arena);
            arena_init(&arena);
        }
    }
    /* Mutations of valid programs. */
    for (int iter = 0; iter < 3000; iter++) {
        const char *base = corpus[next_random(&rng) % N(corpus)];
        size_t len = strlen(base);
        memcpy(buf, base, len);
        int edits = 1 + (int)(next_random(&rng) % 4);
        for (int e = 0; e < edits; e++) {
            size_t pos = len ? next_random(&rng) % (len + 1) : 0;
            switch (next_random(&rng) % 5) {
            case 0: { /* insert a fragment */
                char frag[64];
                size_t fl = append_fragment(frag, 0, sizeof frag, &rng);
                if (len + fl < sizeof buf) {
                    memmove(buf + pos + fl, buf + pos, len - pos);
                    memcpy(buf + pos, frag, fl);
                    len += fl;
                }
                break;
            }
            case 1: { /* delete a range */
                size_t n = next_random(&rng) % 12;
                if (pos + n > len)
                    n = len - pos;
                memmove(buf + pos, buf + pos + n, len - pos - n);
                len -= n;
                break;
            }
            case 2: /* overwrite a byte */
                if (pos < len)
                    buf[pos] = (char)(next_random(&rng) & 0xff);
                break;
            case 3: { /* duplicate a range */
                size_t n = next_random(&rng) % 40;
                if (pos + n > len)
                    n = len - pos;
                if (len + n < sizeof buf) {
                    memmove(buf + pos + n, buf + pos, len - pos);
                    len += n;
                }
                break;
            }
            default: /* truncate */
                len = pos;
                break;
            }
        }
        check_robust(&arena, buf, len);
        if (iter % 200 == 199) {
            arena_free(&arena);
            arena_init(&arena);
        }
    }
    arena_free(&arena);
}

typedef struct ThreadJob {
    const char *expected;
    int failures;
} ThreadJob;

static void *parse_many(void *arg)
{
    ThreadJob *job = arg;
    for (int i = 0; i < 40; i++) {
        Arena arena;
        arena_init(&arena);
        ParseResult r = parse_module(&arena, "big.mini", big_program, sizeof big_program - 1);
        if (r.status != PARSE_OK || strcmp(ast_dump_string(r.ast, &arena), job->expected) != 0)
            job->failures++;
        ParseResult e = parse_module(&arena, "bad.mini", "x = (1,\n  2]\n", 12);
        if (e.status != PARSE_ERROR || e.error.line != 2)
            job->failures++;
        arena_free(&arena);
    }
    return NULL;
}

/* Parses run concurrently without sharing state. */
static void test_threads(void **state)
{
    enum { THREADS = 8 };
    Arena arena;
    pthread_t threads[THREADS];
    ThreadJob jobs[THREADS];
    (void)state;
    arena_init(&arena);
    ParseResult r = parse_module(&arena, "big.mini", big_program, sizeof big_program - 1);
    assert_int_equal(r.status, PARSE_OK);
    const char *expected = ast_dump_string(r.ast, &arena);
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (ThreadJob){ expected, 0 };
        assert_int_equal(pthread_create(&threads[i], NULL, parse_many, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    arena_free(&arena);
}

static void test_arena(void **state)
{
    Arena arena;
    (void)state;
    arena_init(&arena);
    char *small = arena_alloc(&arena, 3);
    assert_non_null(small);
    assert_true((uintptr_t)small % sizeof(void *) == 0);
    assert_memory_equal(small, "\0\0\0", 3);
    void *huge = arena_alloc(&arena, 1 << 20);
    memset(huge, 1, 1 << 20);
    long *after = arena_alloc(&arena, sizeof(long));
    assert_true((uintptr_t)after % sizeof(long) == 0);
    int *grown = arena_grow(&arena, NULL, 0, 4 * sizeof(int));
    grown[0] = 7;
    grown = arena_grow(&arena, grown, 4 * sizeof(int), 8 * sizeof(int));
    assert_int_equal(grown[0], 7);
    assert_int_equal(grown[7], 0);
    assert_string_equal(arena_strndup(&arena, "hello", 4), "hell");
    arena_free(&arena);
    assert_null(arena.chunks);
    assert_non_null(arena_alloc(&arena, 1));
    arena_free(&arena);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statements),
        cmocka_unit_test(test_expressions),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_parse_expression),
        cmocka_unit_test(test_module_node),
        cmocka_unit_test(test_format_error),
        cmocka_unit_test(test_locations),
        cmocka_unit_test(test_tree_invariants),
        cmocka_unit_test(test_ast_helpers),
        cmocka_unit_test(test_deep_and_large_inputs),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
