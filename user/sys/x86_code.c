// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <capstone/capstone.h>
#include "x86_code.h"

/* the check is in the first few instructions: the prologue, the read, the compare, the branch */
#define MAX_INSNS 32
#define N_FAMILIES 16
#define STATE_BITS 0xffffffffULL	/* fut_state is a C int (or a 32-bit field of a word) */

/* The 64-bit register a register is part of (rax for eax, ax, al, ah), -1 if not a GPR. */
static int reg_family(x86_reg r)
{
	static const x86_reg families[N_FAMILIES][5] = {
		{ X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH },
		{ X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH },
		{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH },
		{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH },
		{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL },
		{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL },
		{ X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL },
		{ X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL },
		{ X86_REG_R8, X86_REG_R8D, X86_REG_R8W, X86_REG_R8B },
		{ X86_REG_R9, X86_REG_R9D, X86_REG_R9W, X86_REG_R9B },
		{ X86_REG_R10, X86_REG_R10D, X86_REG_R10W, X86_REG_R10B },
		{ X86_REG_R11, X86_REG_R11D, X86_REG_R11W, X86_REG_R11B },
		{ X86_REG_R12, X86_REG_R12D, X86_REG_R12W, X86_REG_R12B },
		{ X86_REG_R13, X86_REG_R13D, X86_REG_R13W, X86_REG_R13B },
		{ X86_REG_R14, X86_REG_R14D, X86_REG_R14W, X86_REG_R14B },
		{ X86_REG_R15, X86_REG_R15D, X86_REG_R15W, X86_REG_R15B },
	};
	int f, i;

	for (f = 0; f < N_FAMILIES; f++)
		for (i = 0; i < 5 && families[f][i] != X86_REG_INVALID; i++)
			if (families[f][i] == r)
				return f;
	return -1;
}

#define RDI_FAMILY 5
#define RSP_FAMILY 7

/* What the scan knows between instructions. */
struct scan {
	bool known[N_FAMILIES];		/* a register holding an immediate set by a mov */
	uint64_t imm[N_FAMILIES];
	bool state_read;
	int loaded;		/* the register holding fut_state (under mask), -1 if none */
	uint64_t mask;		/* which bits of the loaded value are the word's */
	bool zf_pending;	/* the zero flag now means "fut_state is pending" */
};

static bool writes_family(csh h, const cs_insn *insn, int family)
{
	cs_regs read, written;
	uint8_t n_read, n_written, i;

	if (cs_regs_access(h, insn, read, &n_read, written, &n_written))
		return true;	/* unknown: assume the worst */
	for (i = 0; i < n_written; i++)
		if (reg_family(written[i]) == family)
			return true;
	return false;
}

static void forget_written(csh h, const cs_insn *insn, struct scan *s)
{
	int f;

	for (f = 0; f < N_FAMILIES; f++)
		if (s->known[f] && writes_family(h, insn, f))
			s->known[f] = false;
}

/* mov $imm, %reg (movabs too): remembered, zero-extended as a 32-bit mov does. */
static void note_immediate(const cs_insn *insn, struct scan *s)
{
	const cs_x86 *x = &insn->detail->x86;
	int f;

	if (insn->id != X86_INS_MOV && insn->id != X86_INS_MOVABS)
		return;
	if (x->op_count != 2 || x->operands[0].type != X86_OP_REG || x->operands[1].type != X86_OP_IMM)
		return;
	f = reg_family(x->operands[0].reg);
	if (f < 0 || (x->operands[0].size != 8 && x->operands[0].size != 4))
		return;
	s->known[f] = true;
	s->imm[f] = x->operands[0].size == 4 ? (uint32_t)x->operands[1].imm
					     : (uint64_t)x->operands[1].imm;
}

static const cs_x86_op *state_operand(const cs_x86 *x, uint32_t state_offset)
{
	uint8_t i;

	for (i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RDI &&
		    x->operands[i].mem.index == X86_REG_INVALID &&
		    x->operands[i].mem.segment == X86_REG_INVALID &&
		    x->operands[i].mem.disp == (int64_t)state_offset)
			return &x->operands[i];
	return NULL;
}

/*
 * The instruction reading fut_state: a 32-bit mov into a register, an AND of
 * the word into a register holding a mask that keeps every state bit, or a
 * 32-bit compare of it with 0. False for any other use.
 */
static bool take_state_read(const cs_insn *insn, struct scan *s)
{
	const cs_x86 *x = &insn->detail->x86;
	const cs_x86_op *a = &x->operands[0], *b = &x->operands[1];
	int f = x->op_count == 2 && a->type == X86_OP_REG ? reg_family(a->reg) : -1;

	s->state_read = true;
	if (insn->id == X86_INS_MOV && f >= 0 && a->size == 4) {
		s->loaded = f;
		s->mask = STATE_BITS;
		return true;
	}
	if (insn->id == X86_INS_AND && f >= 0 && a->size == 8 && s->known[f] &&
	    (s->imm[f] & STATE_BITS) == STATE_BITS) {
		s->loaded = f;
		s->mask = s->imm[f];
		s->zf_pending = false;
		return true;
	}
	if (insn->id == X86_INS_CMP && x->op_count == 2 && a->type == X86_OP_MEM && a->size == 4 &&
	    b->type == X86_OP_IMM && b->imm == 0) {
		s->zf_pending = true;
		return true;
	}
	return false;
}

static bool is_loaded(const struct scan *s, const cs_x86_op *op)
{
	return s->loaded >= 0 && op->type == X86_OP_REG && reg_family(op->reg) == s->loaded;
}

/* Whether an instruction that sets the zero flag sets it exactly when fut_state is pending. */
static bool zf_means_pending(const cs_insn *insn, const struct scan *s)
{
	const cs_x86 *x = &insn->detail->x86;
	const cs_x86_op *a = &x->operands[0], *b = &x->operands[1], *other;
	int f;

	if (x->op_count != 2 || s->loaded < 0)
		return false;
	if (s->mask == STATE_BITS) {
		/* test %eax,%eax; cmp $0,%eax */
		if (insn->id == X86_INS_TEST)
			return is_loaded(s, a) && is_loaded(s, b) && a->size == 4;
		return insn->id == X86_INS_CMP && is_loaded(s, a) && a->size == 4 &&
		       b->type == X86_OP_IMM && b->imm == 0;
	}
	/* a masked word against a constant: equal only if its state bits are 0 */
	if (insn->id != X86_INS_CMP || a->size != 8)
		return false;
	other = is_loaded(s, a) ? b : is_loaded(s, b) ? a : NULL;
	f = other && other->type == X86_OP_REG ? reg_family(other->reg) : -1;
	return f >= 0 && s->known[f] && (s->imm[f] & STATE_BITS) == 0 &&
	       (s->imm[f] & ~s->mask) == 0;
}

/* Follows one instruction: 1 to go on, 0 when *site is found, -ENOENT to give up. */
static int step(csh h, const cs_insn *insn, uint32_t state_offset, struct scan *s, uint64_t *site)
{
	const cs_x86 *x = &insn->detail->x86;

	if (cs_insn_group(h, insn, X86_GRP_JUMP)) {
		if (!s->state_read || !s->zf_pending || x->op_count != 1 ||
		    x->operands[0].type != X86_OP_IMM)
			return -ENOENT;
		if (insn->id == X86_INS_JE)
			*site = (uint64_t)x->operands[0].imm;
		else if (insn->id == X86_INS_JNE)
			*site = insn->address + insn->size;
		else
			return -ENOENT;
		return 0;
	}
	if (cs_insn_group(h, insn, X86_GRP_CALL) || cs_insn_group(h, insn, X86_GRP_RET) ||
	    cs_insn_group(h, insn, X86_GRP_INT) || writes_family(h, insn, RDI_FAMILY))
		return -ENOENT;
	if (!s->state_read && state_operand(x, state_offset)) {
		if (!take_state_read(insn, s))
			return -ENOENT;
	} else if (s->state_read) {
		if (x->eflags & X86_EFLAGS_MODIFY_ZF)
			s->zf_pending = zf_means_pending(insn, s);
		if (s->loaded >= 0 && writes_family(h, insn, s->loaded))
			s->loaded = -1;
	}
	forget_written(h, insn, s);
	note_immediate(insn, s);
	return 1;
}

#define RSI_FAMILY 4
#define PROLOGUE_INSNS 8

/* Instructions arch/x86/kernel/uprobes.c emulates rather than single-steps. */
static bool emulated_by_uprobes(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	if (insn->id == X86_INS_PUSH)
		return x->op_count == 1 && x->operands[0].type == X86_OP_REG;
	if (insn->id == X86_INS_CALL || insn->id == X86_INS_JMP)
		return x->op_count == 1 && x->operands[0].type == X86_OP_IMM;
	return false;
}

/* Whether control goes on to the next instruction with the arguments where they were. */
static bool passes_arguments_on(csh h, const cs_insn *insn)
{
	return !cs_insn_group(h, insn, X86_GRP_JUMP) && !cs_insn_group(h, insn, X86_GRP_CALL) &&
	       !cs_insn_group(h, insn, X86_GRP_RET) && !cs_insn_group(h, insn, X86_GRP_INT) &&
	       !writes_family(h, insn, RDI_FAMILY) && !writes_family(h, insn, RSI_FAMILY);
}

/*
 * Decodes code (at addr) with details, handing each of the first max
 * instructions to visit until it returns 0 (done) or less (give up): the
 * last value visit returned, or -ENOENT if nothing was decoded.
 */
static int decode_each(const uint8_t *code, size_t len, uint64_t addr, int max,
		       int (*visit)(csh h, const cs_insn *insn, void *ctx), void *ctx)
{
	cs_insn *insn;
	csh h;
	int n, last = -ENOENT;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -ENOENT;
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(h);
	for (n = 0; insn && n < max && cs_disasm_iter(h, &code, &len, &addr, insn); n++) {
		last = visit(h, insn, ctx);
		if (last <= 0)
			break;
	}
	if (insn)
		cs_free(insn, 1);
	cs_close(&h);
	return last;
}

struct entry_walk {
	uint64_t site;
	bool first;
};

static int visit_prologue(csh h, const cs_insn *insn, void *ctx)
{
	struct entry_walk *w = ctx;
	bool first = w->first;

	w->first = false;
	if (emulated_by_uprobes(insn)) {
		w->site = insn->address;
		return 0;
	}
	if (insn->id == X86_INS_ENDBR64 && first)
		w->site = insn->address + insn->size;
	return passes_arguments_on(h, insn) ? 1 : 0;
}

int x86_entry_probe_site(const uint8_t *code, size_t len, uint64_t addr, uint64_t *site)
{
	struct entry_walk w = { .site = addr, .first = true };
	int err = decode_each(code, len, addr, PROLOGUE_INSNS, visit_prologue, &w);

	if (err < 0)
		return err;
	*site = w.site;
	return 0;
}

int x86_instruction_text(const uint8_t *code, size_t len, uint64_t addr, char *buf, size_t size)
{
	cs_insn *insn;
	csh h;
	int err = -ENOENT;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return -ENOENT;
	if (cs_disasm(h, code, len, addr, 1, &insn) == 1) {
		snprintf(buf, size, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "",
			 insn->op_str);
		cs_free(insn, 1);
		err = 0;
	}
	cs_close(&h);
	return err;
}

struct pending_walk {
	struct scan s;
	uint32_t state_offset;
	uint64_t *site;
};

static int visit_finalizer(csh h, const cs_insn *insn, void *ctx)
{
	struct pending_walk *w = ctx;

	return step(h, insn, w->state_offset, &w->s, w->site);
}

int task_finalize_pending_site(const uint8_t *code, size_t len, uint64_t addr,
			       uint32_t state_offset, uint64_t *site)
{
	struct pending_walk w = { .s = { .loaded = -1 }, .state_offset = state_offset, .site = site };

	/* running out of instructions before the site is found is giving up too */
	return decode_each(code, len, addr, MAX_INSNS, visit_finalizer, &w) == 0 ? 0 : -ENOENT;
}

#define STACK_CALL_INSNS 512
#define STACK_ARGS_MIN_POP 0x10
#define STACK_ARGS_MAX_POP 0x28

/* instructions that may come between such a call and the clean-up (moves of its result) */
#define STACK_CLEANUP_WITHIN 6

struct stack_call_walk {
	int pushes;		/* since the previous call */
	uint64_t candidate;	/* a call made after pushes, until the next instructions tell */
	int pops, between;
	uint64_t *target;
};

static bool frees_stack_arguments(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;

	return insn->id == X86_INS_ADD && x->op_count == 2 &&
	       x->operands[0].type == X86_OP_REG && x->operands[0].reg == X86_REG_RSP &&
	       x->operands[1].type == X86_OP_IMM && x->operands[1].imm >= STACK_ARGS_MIN_POP &&
	       x->operands[1].imm <= STACK_ARGS_MAX_POP;
}

/* After a candidate call: 0 accepted, 1 still undecided, -1 not it. */
static int judge_candidate(csh h, const cs_insn *insn, struct stack_call_walk *w)
{
	if (frees_stack_arguments(insn))
		return 0;
	if (insn->id == X86_INS_POP) {
		w->pops++;
		return 1;
	}
	if (w->pops >= 2 && !cs_insn_group(h, insn, X86_GRP_RET))
		return 0;
	if (w->pops || cs_insn_group(h, insn, X86_GRP_JUMP) || cs_insn_group(h, insn, X86_GRP_CALL) ||
	    cs_insn_group(h, insn, X86_GRP_RET) || insn->id == X86_INS_PUSH ||
	    writes_family(h, insn, RSP_FAMILY) || ++w->between > STACK_CLEANUP_WITHIN)
		return -1;
	return 1;
}

static int visit_stack_calls(csh h, const cs_insn *insn, void *ctx)
{
	struct stack_call_walk *w = ctx;
	const cs_x86 *x = &insn->detail->x86;
	int verdict;

	if (w->candidate) {
		verdict = judge_candidate(h, insn, w);
		if (verdict == 0) {
			*w->target = w->candidate;
			return 0;
		}
		if (verdict == 1)
			return 1;
		w->candidate = 0;
	}
	if (insn->id == X86_INS_PUSH)
		w->pushes++;
	if (insn->id == X86_INS_CALL) {
		if (w->pushes >= 2 && x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
			w->candidate = (uint64_t)x->operands[0].imm;
			w->pops = 0;
			w->between = 0;
		}
		w->pushes = 0;
	}
	return 1;
}

int x86_stack_argument_call(const uint8_t *code, size_t len, uint64_t addr, uint64_t *target)
{
	struct stack_call_walk w = { .target = target };

	return decode_each(code, len, addr, STACK_CALL_INSNS, visit_stack_calls, &w) == 0 ?
	       0 : -ENOENT;
}
