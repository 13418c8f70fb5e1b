; Proves: in sample mode, where the host stores a local argument array into
; the kernelParams field of a local cudaKernelNodeParams or of the generic
; cudaGraphNodeParams (a graph kernel node built by hand), the field gets a
; copy with the inert record at the end, filled just before the call that
; takes the structure (the array's elements may be stored after the field
; is, as clang -O2 orders them); a null field (a kernel without parameters)
; gets a one-entry array holding the inert record; a call that takes one
; of two such structures through a select fills both copies first (as
; jacobiCudaGraphs alternates two parameter sets); count mode leaves all
; alone.
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | FileCheck %s --check-prefix=COUNT

; CHECK-LABEL: define void @add_node(
; CHECK: %paella.node_args = alloca [4 x ptr]
; CHECK: store ptr %paella.node_args, ptr %field
; CHECK: store ptr @__paella_inert_record, ptr %[[LAST:[0-9]+]]
; CHECK-NEXT: call i32 @cudaGraphAddKernelNode(
; CHECK-LABEL: define void @add_generic_node(
; CHECK-DAG: %paella.node_args = alloca [3 x ptr]
; CHECK-DAG: %paella.node_args1 = alloca [1 x ptr]
; CHECK: store ptr %paella.node_args, ptr %field
; CHECK: store ptr %sn, ptr %a1
; CHECK: %[[G1:[0-9]+]] = getelementptr inbounds ptr, ptr %args, i32 0
; CHECK-NEXT: %[[E1:[0-9]+]] = load ptr, ptr %[[G1]]
; CHECK-NEXT: %[[D1:[0-9]+]] = getelementptr inbounds ptr, ptr %paella.node_args, i32 0
; CHECK-NEXT: store ptr %[[E1]], ptr %[[D1]]
; CHECK: store ptr @__paella_inert_record, ptr %[[L2:[0-9]+]]
; CHECK: call i32 @cudaGraphAddNode(
; CHECK: store ptr %paella.node_args1, ptr %field
; CHECK: %[[G2:[0-9]+]] = getelementptr inbounds ptr, ptr %paella.node_args1, i32 0
; CHECK-NEXT: store ptr @__paella_inert_record, ptr %[[G2]]
; CHECK-NEXT: call i32 @cudaGraphAddNode(
; CHECK-LABEL: define void @exec_set_either(
; CHECK-DAG: %paella.node_args = alloca [3 x ptr]
; CHECK-DAG: %paella.node_args1 = alloca [3 x ptr]
; CHECK: store ptr %paella.node_args, ptr %f0
; CHECK: store ptr %paella.node_args1, ptr %f1
; CHECK: %pick = select i1 %odd, ptr %p1, ptr %p0
; CHECK: store ptr @__paella_inert_record, ptr
; CHECK: store ptr @__paella_inert_record, ptr
; CHECK-NEXT: call i32 @cudaGraphExecKernelNodeSetParams(ptr %exec, ptr %node, ptr %pick)
; COUNT-NOT: inert
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

%struct.dim3 = type { i32, i32, i32 }
%struct.cudaKernelNodeParams = type { ptr, %struct.dim3, %struct.dim3, i32, ptr, ptr }
%struct.cudaGraphNodeParams = type { i32, [3 x i32], %union.anon, i64 }
%union.anon = type { [29 x i64] }

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

; cudaGraphNodeParams: the type, 3 ints, then the kernel member (its
; kernelParams at byte 56), as clang lays it out.
define void @add_generic_node(ptr %node, ptr %graph, ptr %a, i32 %n) {
  %p = alloca %struct.cudaGraphNodeParams, align 8
  %args = alloca [2 x ptr], align 16
  %sa = alloca ptr
  %sn = alloca i32
  store ptr %a, ptr %sa
  store i32 %n, ptr %sn
  call void @llvm.memset.p0.i64(ptr %p, i8 0, i64 256, i1 false)
  store ptr @_Z17__device_stub__k3PfS_i, ptr %p
  %field = getelementptr inbounds i8, ptr %p, i64 56
  store ptr %args, ptr %field
  store ptr %sa, ptr %args
  %a1 = getelementptr inbounds ptr, ptr %args, i64 1
  store ptr %sn, ptr %a1
  %r = call i32 @cudaGraphAddNode(ptr %node, ptr %graph, ptr null, ptr null, i64 0, ptr %p)
  store ptr null, ptr %field
  %r2 = call i32 @cudaGraphAddNode(ptr %node, ptr %graph, ptr null, ptr null, i64 0, ptr %p)
  ret void
}

; Two parameter sets, the one to use picked by a select.
define void @exec_set_either(ptr %exec, ptr %node, ptr %a, ptr %b, i1 %odd) {
  %p0 = alloca %struct.cudaKernelNodeParams, align 8
  %p1 = alloca %struct.cudaKernelNodeParams, align 8
  %args0 = alloca [2 x ptr], align 16
  %args1 = alloca [2 x ptr], align 16
  %sa = alloca ptr
  %sb = alloca ptr
  store ptr %a, ptr %sa
  store ptr %b, ptr %sb
  store ptr %sa, ptr %args0
  %a01 = getelementptr inbounds ptr, ptr %args0, i64 1
  store ptr %sb, ptr %a01
  store ptr %sb, ptr %args1
  %a11 = getelementptr inbounds ptr, ptr %args1, i64 1
  store ptr %sa, ptr %a11
  %f0 = getelementptr inbounds %struct.cudaKernelNodeParams, ptr %p0, i32 0, i32 4
  store ptr %args0, ptr %f0
  %f1 = getelementptr inbounds %struct.cudaKernelNodeParams, ptr %p1, i32 0, i32 4
  store ptr %args1, ptr %f1
  %pick = select i1 %odd, ptr %p1, ptr %p0
  %r = call i32 @cudaGraphExecKernelNodeSetParams(ptr %exec, ptr %node, ptr %pick)
  ret void
}

declare i32 @cudaGraphExecKernelNodeSetParams(ptr, ptr, ptr)
declare i32 @cudaGraphAddKernelNode(ptr, ptr, ptr, i64, ptr)
declare i32 @cudaGraphAddNode(ptr, ptr, ptr, ptr, i64, ptr)
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)
