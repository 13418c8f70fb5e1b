; Proves: the module records the ABI version and a manifest naming every
; kernel with its original parameter count (instrumented: K, left alone: U
; with the reason), both kept alive for the runtime to read with
; cuModuleGetGlobal; a module with no kernels gets neither.  In sample mode
; each instrumented kernel also keeps a plain copy, named in its K line.
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s
; RUN: echo 'target triple = "nvptx64-nvidia-cuda"' > %t.empty.ll
; RUN: echo 'define void @f() { ret void }' >> %t.empty.ll
; RUN: %opt -passes=paella-instrument -S %t.empty.ll | FileCheck %s --check-prefix=EMPTY
; Relocatable device code: the device link merges modules, so the manifest
; stays in its own (internal) and the version is weak in every mode.
; RUN: %opt -passes=paella-instrument -paella-rdc -S %s | FileCheck %s --check-prefix=RDC
; RDC: @__paella_abi_version = weak addrspace(1) constant i32 2, align 4
; RDC: @__paella_manifest = internal addrspace(1) constant

; CHECK: @__paella_abi_version = weak addrspace(1) constant i32 2, align 4
; CHECK: @__paella_manifest = addrspace(1) constant [{{[0-9]+}} x i8] c"paella-manifest 3\0AK two 2 sample two__paella_plain\0AK none 0 sample none__paella_plain\0AU skipped 1 skip-attribute\0A\00", align 4
; CHECK: @llvm.compiler.used = appending global [4 x ptr] [ptr @two__paella_plain, ptr @none__paella_plain, ptr addrspacecast (ptr addrspace(1) @__paella_abi_version to ptr), ptr addrspacecast (ptr addrspace(1) @__paella_manifest to ptr)]
; Sample mode keeps each instrumented kernel's plain copy, as written: the
; original parameters, no report (and no copy of a kernel left alone).
; CHECK: define ptx_kernel void @two(ptr %a, i32 %b, ptr addrspace(1) noundef %paella.record)
; CHECK: define ptx_kernel void @two__paella_plain(ptr %a, i32 %b) #[[PLAIN:[0-9]+]] {
; CHECK-NEXT: ret void
; CHECK: define ptx_kernel void @none__paella_plain() #[[PLAIN2:[0-9]+]] {
; CHECK-NEXT: ret void
; CHECK-NOT: skipped__paella_plain
; CHECK: attributes #[[PLAIN]] = { "paella-plain-of"="two" }
; CHECK: attributes #[[PLAIN2]] = { "paella-plain-of"="none" }
; EMPTY-NOT: __paella

target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

define ptx_kernel void @two(ptr %a, i32 %b) {
  ret void
}

define ptx_kernel void @none() {
  ret void
}

define ptx_kernel void @skipped(ptr %a) "paella-skip" {
  ret void
}
