; Proves: a kernel that reads the grid's workspace (cooperative_groups
; this_grid(), for its rank) but never spins on it is instrumented in sample
; mode; one that also does atomics is taken for a grid synchroniser and left
; alone; in count mode, where every block dereferences its record (which a
; cooperative launch by hand cannot give), the reader is left alone too.
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s --check-prefix=SAMPLE
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | FileCheck %s --check-prefix=COUNT

; SAMPLE: c"paella-manifest 3\0AK rank_only 1 sample rank_only__paella_plain\0AU rank_atomic 1 grid-sync\0A\00"
; COUNT: c"paella-manifest 3\0AU rank_only 1 grid-group\0AU rank_atomic 1 grid-sync\0A\00"
; SAMPLE-LABEL: define ptx_kernel void @rank_only(ptr %o, ptr addrspace(1) noundef %paella.record)
; SAMPLE-LABEL: define ptx_kernel void @rank_atomic(ptr %o)
; SAMPLE-NOT: paella.record
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

; What -O0 leaves of this_grid().thread_rank(): the workspace read stays.
define internal i64 @workspace() {
  %lo = call i32 asm "mov.u32 $0, %envreg2;", "=r"()
  %hi = call i32 asm "mov.u32 $0, %envreg1;", "=r"()
  %l = zext i32 %lo to i64
  %h = zext i32 %hi to i64
  %s = shl i64 %h, 32
  %w = or i64 %s, %l
  ret i64 %w
}

define ptx_kernel void @rank_only(ptr %o) {
  %w = call i64 @workspace()
  %t = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %p = getelementptr i32, ptr %o, i32 %t
  store i32 1, ptr %p
  ret void
}

define ptx_kernel void @rank_atomic(ptr %o) {
  %w = call i64 @workspace()
  %t = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %old = atomicrmw add ptr %o, i32 %t monotonic
  ret void
}

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
