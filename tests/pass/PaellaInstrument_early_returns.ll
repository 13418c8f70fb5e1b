; Proves: a kernel whose threads leave by several early returns (as at -O0 or
; when the optimiser keeps them apart) has every return turned into a branch
; to one exit block, so every thread of the block reaches the epilogue.
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | FileCheck %s

target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

; CHECK-LABEL: define ptx_kernel void @clamp_copy(ptr %in, ptr %out, i32 %n, ptr addrspace(1) noundef %paella.record)
; CHECK: out.of.range:
; CHECK-NEXT: br label %paella.exit
; CHECK: negative:
; CHECK-NEXT: store float 0.000000e+00
; CHECK-NEXT: br label %paella.exit
; CHECK: positive:
; CHECK-NEXT: store float %v
; CHECK-NEXT: br label %paella.exit
; CHECK: paella.exit:
; CHECK-SAME: preds = %positive, %negative, %out.of.range
; CHECK: paella.done:
; CHECK-NEXT: ret void
; CHECK-NOT: ret void
; CHECK-LABEL: declare
define ptx_kernel void @clamp_copy(ptr %in, ptr %out, i32 %n) {
entry:
  %ctaid = call i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %ntid = call i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
  %tid = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %base = mul i32 %ctaid, %ntid
  %i = add i32 %base, %tid
  %in.range = icmp slt i32 %i, %n
  br i1 %in.range, label %load, label %out.of.range

out.of.range:
  ret void

load:
  %idx = sext i32 %i to i64
  %p = getelementptr inbounds float, ptr %in, i64 %idx
  %v = load float, ptr %p, align 4
  %q = getelementptr inbounds float, ptr %out, i64 %idx
  %neg = fcmp olt float %v, 0.0
  br i1 %neg, label %negative, label %positive

negative:
  store float 0.0, ptr %q, align 4
  ret void

positive:
  store float %v, ptr %q, align 4
  ret void
}

declare i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
