; Proves: a kernel with no parameters gets the record as its only one.
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s

; CHECK: c"paella-manifest 3\0AK tick 0 sample tick__paella_plain\0A\00"
; CHECK-LABEL: define {{.*}}ptx_kernel void @tick(ptr addrspace(1) noundef %paella.record)
; CHECK: atomicrmw add ptr addrspacecast (ptr addrspace(1) @counter to ptr)
; CHECK: paella.check:
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@counter = dso_local addrspace(1) externally_initialized global i32 0, align 4
@llvm.compiler.used = appending global [1 x ptr] [ptr addrspacecast (ptr addrspace(1) @counter to ptr)], section "llvm.metadata"

define dso_local ptx_kernel void @tick() local_unnamed_addr #0 {
  %1 = atomicrmw add ptr addrspacecast (ptr addrspace(1) @counter to ptr), i32 1 seq_cst, align 4
  ret void
}

attributes #0 = { mustprogress nofree noinline norecurse nounwind willreturn memory(readwrite, argmem: none, inaccessiblemem: none, target_mem0: none, target_mem1: none) "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" "uniform-work-group-size"="true" }
