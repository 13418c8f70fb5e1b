; Proves: with -fgpu-rdc clang lists a kernel that this file launches but
; another defines in __clang_gpu_used_external, as a declaration, which the
; PTX then declares `.extern .func` and nvlink refuses.  The pass drops such
; declarations from the list (and the list when it empties), keeps the
; definitions, and with -paella-fixups-only (paella-cc
; --paella-no-instrument) does nothing else: no kernel instrumented, no
; manifest.
; RUN: %opt -passes=paella-instrument -paella-fixups-only -S %s | FileCheck %s
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s --check-prefix=INST
; RUN: sed 's/\[2 x ptr\] \[ptr @elsewhere, ptr @local_helper\]/[1 x ptr] [ptr @elsewhere]/' %s > %t.only.ll
; RUN: %opt -passes=paella-instrument -paella-fixups-only -S %t.only.ll | FileCheck %s --check-prefix=EMPTY

; CHECK-NOT: @elsewhere
; CHECK: @__clang_gpu_used_external = internal global [1 x ptr] [ptr @local_helper]
; CHECK-NOT: @elsewhere
; CHECK-NOT: __paella
; CHECK: define ptx_kernel void @read_table(ptr %out) {
; CHECK-NOT: @elsewhere
; INST: @__clang_gpu_used_external = internal global [1 x ptr] [ptr @local_helper]
; INST: define ptx_kernel void @read_table(ptr %out, ptr addrspace(1) noundef %paella.record)
; EMPTY-NOT: __clang_gpu_used_external

target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@__clang_gpu_used_external = internal global [2 x ptr] [ptr @elsewhere, ptr @local_helper]
@llvm.compiler.used = appending global [1 x ptr] [ptr @__clang_gpu_used_external], section "llvm.metadata"

declare void @elsewhere(i32)

define void @local_helper() {
  ret void
}

define ptx_kernel void @read_table(ptr %out) {
  store i32 1, ptr %out
  ret void
}
