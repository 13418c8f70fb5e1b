; Proves: a switch with many returning arms (and a return nested inside an
; arm) ends in exactly one return, after the epilogue.
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | FileCheck %s
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | grep -c "ret void" | FileCheck %s --check-prefix=COUNT

target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

; COUNT: 1
; CHECK-LABEL: define ptx_kernel void @classify(ptr %in, ptr %out, ptr addrspace(1) noundef %paella.record)
; CHECK: case0:
; CHECK: br label %paella.exit
; CHECK: case1:
; CHECK: br label %paella.exit
; CHECK: case2:
; CHECK: br label %paella.exit
; CHECK: case3:
; CHECK: br i1 %big, label %big.ret, label %case3.store
; CHECK: big.ret:
; CHECK-NEXT: br label %paella.exit
; CHECK: paella.exit:
; CHECK: call void @llvm.nvvm.barrier.cta.sync.all(i32 1)
define ptx_kernel void @classify(ptr %in, ptr %out) {
entry:
  %tid = call i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %idx = zext i32 %tid to i64
  %p = getelementptr inbounds i32, ptr %in, i64 %idx
  %q = getelementptr inbounds i32, ptr %out, i64 %idx
  %v = load i32, ptr %p, align 4
  %k = and i32 %v, 7
  switch i32 %k, label %default [
    i32 0, label %case0
    i32 1, label %case1
    i32 2, label %case2
    i32 3, label %case3
  ]
case0:
  store i32 10, ptr %q, align 4
  ret void
case1:
  store i32 11, ptr %q, align 4
  ret void
case2:
  store i32 12, ptr %q, align 4
  ret void
case3:
  %big = icmp sgt i32 %v, 100
  br i1 %big, label %big.ret, label %case3.store
big.ret:
  ret void
case3.store:
  store i32 13, ptr %q, align 4
  ret void
default:
  store i32 -1, ptr %q, align 4
  ret void
}

declare i32 @llvm.nvvm.read.ptx.sreg.tid.x()
