; Proves: a kernel known only from nvvm.annotations, as older front ends
; emit it (LLVM 22 upgrades it to the ptx_kernel calling convention when it
; reads the module), is instrumented; its device function is not.
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s

target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

; CHECK-LABEL: define ptx_kernel void @old_style(ptr %x, ptr addrspace(1) noundef %paella.record)
; CHECK: paella.body:
; CHECK-LABEL: define void @helper(ptr %x)
; CHECK-NOT: paella.record

define void @old_style(ptr %x) {
  call void @helper(ptr %x)
  ret void
}

define void @helper(ptr %x) {
  store i32 7, ptr %x
  ret void
}

!nvvm.annotations = !{!0}
!0 = !{ptr @old_style, !"kernel", i32 1}
