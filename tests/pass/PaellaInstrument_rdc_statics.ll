; Proves: with -fgpu-rdc, clang 22 renames a static __constant__ (or
; __device__) variable that host code names to <name>__static__<id> but
; leaves the kernels' uses on an external declaration of the old name, which
; nothing defines (nvlink: "Undefined reference").  The pass points the uses
; at the renamed definition and drops the declaration, with or without
; instrumenting; a declaration with no renamed twin (a real extern) stays.
; RUN: %opt -passes=paella-instrument -paella-fixups-only -S %s | FileCheck %s
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s

; CHECK-NOT: @_ZL3tab =
; CHECK: @_ZL3tab__static__1234abcd = addrspace(4) externally_initialized constant [4 x float] zeroinitializer
; CHECK: @shared_elsewhere = external addrspace(1) global [4 x float]
; CHECK-NOT: @_ZL3tab =
; CHECK: getelementptr inbounds float, ptr addrspacecast (ptr addrspace(4) @_ZL3tab__static__1234abcd to ptr)
; CHECK: getelementptr inbounds float, ptr addrspacecast (ptr addrspace(1) @shared_elsewhere to ptr)

target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@_ZL3tab = external addrspace(4) global [4 x float], align 4
@_ZL3tab__static__1234abcd = addrspace(4) externally_initialized constant [4 x float] zeroinitializer, align 4
@shared_elsewhere = external addrspace(1) global [4 x float], align 4
@llvm.compiler.used = appending global [1 x ptr] [ptr addrspacecast (ptr addrspace(4) @_ZL3tab__static__1234abcd to ptr)], section "llvm.metadata"

define ptx_kernel void @k(ptr %o, i64 %i) {
  %p = getelementptr inbounds float, ptr addrspacecast (ptr addrspace(4) @_ZL3tab to ptr), i64 %i
  %v = load float, ptr %p, align 4
  %q = getelementptr inbounds float, ptr addrspacecast (ptr addrspace(1) @shared_elsewhere to ptr), i64 %i
  %w = load float, ptr %q, align 4
  %s = fadd float %v, %w
  store float %s, ptr %o, align 4
  ret void
}
