; Proves: in sample mode, where the host stores a local argument array into
; the kernelParams field of a local cudaKernelNodeParams (a graph kernel
; node built by hand), the field gets a copy with the inert record at the
; end; count mode leaves it alone.
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | FileCheck %s --check-prefix=COUNT

; CHECK-LABEL: define void @add_node(
; CHECK: %paella.node_args = alloca [4 x ptr]
; CHECK: store ptr @__paella_inert_record, ptr %[[LAST:[0-9]+]]
; CHECK: store ptr %paella.node_args, ptr %field
; CHECK: call i32 @cudaGraphAddKernelNode(
; COUNT-NOT: inert
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

%struct.dim3 = type { i32, i32, i32 }
%struct.cudaKernelNodeParams = type { ptr, %struct.dim3, %struct.dim3, i32, ptr, ptr }

define void @_Z17__device_stub__k3PfS_i(ptr %a, ptr %b, i32 %n) {
  ret void
}

define void @add_node(ptr %node, ptr %graph, ptr %a, ptr %b, i32 %n) {
  %p = alloca %struct.cudaKernelNodeParams, align 8
  %args = alloca [3 x ptr], align 16
  %sa = alloca ptr
  %sb = alloca ptr
  %sn = alloca i32
  store ptr %a, ptr %sa
  store ptr %b, ptr %sb
  store i32 %n, ptr %sn
  store ptr %sa, ptr %args
  %a1 = getelementptr inbounds ptr, ptr %args, i64 1
  store ptr %sb, ptr %a1
  %a2 = getelementptr inbounds ptr, ptr %args, i64 2
  store ptr %sn, ptr %a2
  store ptr @_Z17__device_stub__k3PfS_i, ptr %p
  %field = getelementptr inbounds %struct.cudaKernelNodeParams, ptr %p, i32 0, i32 4
  store ptr %args, ptr %field
  %r = call i32 @cudaGraphAddKernelNode(ptr %node, ptr %graph, ptr null, i64 0, ptr %p)
  ret void
}

declare i32 @cudaGraphAddKernelNode(ptr, ptr, ptr, i64, ptr)
