#ifndef MINI_VM_OPCODES_H
#define MINI_VM_OPCODES_H

/* The opcode enum, names and sizes, generated from vm/opcodes.def. */

#include <stdint.h>

typedef enum Opcode {
#define OP(name, words, effect, doc) OP_##name,
#include "vm/opcodes.def"
#undef OP
    OP_COUNT
} Opcode;

#define INSTR_OP(ins) ((Opcode)((ins) & 0xff))
#define INSTR_ARG(ins) ((uint32_t)(ins) >> 8)
#define INSTR_MAKE(op, arg) ((uint32_t)(op) | ((uint32_t)(arg) << 8))
#define INSTR_ARG_MAX 0xffffff

extern const char *const opcode_names[OP_COUNT];
extern const uint8_t opcode_words[OP_COUNT];

/* Net stack change of an instruction with argument `arg`; for FOR_ITER and
 * the conditional jumps, `jump` selects the branch taken. */
int opcode_stack_effect(Opcode op, uint32_t arg, int jump);

#endif
