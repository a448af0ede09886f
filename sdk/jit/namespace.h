/*
 * tessera JIT: the library's internal symbols under the SDK's reserved
 * tes_jit__ prefix. CPU plugins link libtessera-jit.a statically, so its
 * global names share the plugin's namespace: a plugin function called
 * finish() or x_ld() must not clash with ours. Included first by every
 * file of sdk/jit.
 */
#ifndef TESSERA_JIT_NAMESPACE_H
#define TESSERA_JIT_NAMESPACE_H

#define emit_call tes_jit__emit_call
#define emit_slow tes_jit__emit_slow
#define finish tes_jit__finish
#define gen_qld tes_jit__gen_qld
#define gen_qst tes_jit__gen_qst
#define head_addr tes_jit__head_addr
#define jit_alloc tes_jit__jit_alloc
#define jit_buf_free tes_jit__jit_buf_free
#define jit_buf_init tes_jit__jit_buf_init
#define jit_bug tes_jit__jit_bug
#define jit_cond_eval tes_jit__jit_cond_eval
#define jit_const_get tes_jit__jit_const_get
#define jit_const_val tes_jit__jit_const_val
#define jit_flush_locked tes_jit__jit_flush_locked
#define jit_fold tes_jit__jit_fold
#define jit_free_blocks_locked tes_jit__jit_free_blocks_locked
#define jit_gen tes_jit__jit_gen
#define jit_gen_head tes_jit__jit_gen_head
#define jit_global_name tes_jit__jit_global_name
#define jit_grow tes_jit__jit_grow
#define jit_ir_dump tes_jit__jit_ir_dump
#define jit_ir_free tes_jit__jit_ir_free
#define jit_ir_release tes_jit__jit_ir_release
#define jit_ir_new tes_jit__jit_ir_new
#define jit_liveness tes_jit__jit_liveness
#define jit_optimize tes_jit__jit_optimize
#define jit_tb_insert tes_jit__jit_tb_insert
#define ra_alloc tes_jit__ra_alloc
#define ra_bind tes_jit__ra_bind
#define ra_clear_caller_saved tes_jit__ra_clear_caller_saved
#define ra_const tes_jit__ra_const
#define ra_dest_from tes_jit__ra_dest_from
#define ra_dest_reg tes_jit__ra_dest_reg
#define ra_end_op tes_jit__ra_end_op
#define ra_evict tes_jit__ra_evict
#define ra_forget_all tes_jit__ra_forget_all
#define ra_forget_globals tes_jit__ra_forget_globals
#define ra_global_off tes_jit__ra_global_off
#define ra_is_const tes_jit__ra_is_const
#define ra_load tes_jit__ra_load
#define ra_move_to tes_jit__ra_move_to
#define ra_spill tes_jit__ra_spill
#define ra_state tes_jit__ra_state
#define ra_sync tes_jit__ra_sync
#define ra_sync_overlap tes_jit__ra_sync_overlap
#define sb_free tes_jit__sb_free
#define sb_printf tes_jit__sb_printf
#define x_alu_mi tes_jit__x_alu_mi
#define x_alu_ri tes_jit__x_alu_ri
#define x_alu_rr tes_jit__x_alu_rr
#define x_bswap tes_jit__x_bswap
#define x_grp3 tes_jit__x_grp3
#define x_jcc tes_jit__x_jcc
#define x_jmp tes_jit__x_jmp
#define x_jmp_abs tes_jit__x_jmp_abs
#define x_ld tes_jit__x_ld
#define x_ld64 tes_jit__x_ld64
#define x_mov_ri tes_jit__x_mov_ri
#define x_mov_rr tes_jit__x_mov_rr
#define x_movzx8 tes_jit__x_movzx8
#define x_nops tes_jit__x_nops
#define x_op_mem tes_jit__x_op_mem
#define x_op_rr tes_jit__x_op_rr
#define x_patch_rel32 tes_jit__x_patch_rel32
#define x_setcc tes_jit__x_setcc
#define x_shift_rcl tes_jit__x_shift_rcl
#define x_shift_ri tes_jit__x_shift_ri
#define x_st tes_jit__x_st
#define x_st64 tes_jit__x_st64
#define x_st_imm tes_jit__x_st_imm

#endif
