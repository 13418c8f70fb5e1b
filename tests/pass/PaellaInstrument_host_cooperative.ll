; Proves: on the host module, a cooperative launch (or cudaLaunchKernelExC)
; of a kernel through its stub, called directly or through cuda_runtime.h's
; template wrapper as -O0 leaves it, gets a copy of its argument array with
; one more entry, the inert record (tag 31, no base) that sample mode never
; dereferences; a <<<>>>-style cudaLaunchKernel through the template wrapper
; goes to paella_launch_kernel; count mode leaves the cooperative launch
; alone.
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | FileCheck %s --check-prefix=COUNT

; CHECK: @__paella_inert_record = private unnamed_addr constant ptr inttoptr (i64 31 to ptr)
; CHECK-LABEL: define void @launch(
; CHECK: %paella.args = alloca [2 x ptr]
; CHECK: store ptr @__paella_inert_record, ptr %[[SLOT:[0-9a-z.]+]]
; CHECK: call i32 @_ZL27cudaLaunchCooperativeKernelIvE9cudaErrorPT_4dim3S3_PPvmP11CUstream_st(ptr @_Z20__device_stub__syncsPi, i64 1, i32 1, i64 32, i32 1, ptr %paella.args, i64 0, ptr null)
; CHECK: call i32 @cudaLaunchKernelExC(ptr null, ptr @_Z20__device_stub__syncsPi, ptr %paella.args1)
; CHECK: call i32 @paella_launch_kernel(ptr @_Z20__device_stub__syncsPi, i64 1, i32 1, i64 32, i32 1, ptr %args, i64 0, ptr null, i32 1)
; COUNT-NOT: inert
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

define void @_Z20__device_stub__syncsPi(ptr %o) {
  ret void
}

define void @launch(ptr %o) {
  %args = alloca [1 x ptr], align 8
  %slot = alloca ptr, align 8
  store ptr %o, ptr %slot
  store ptr %slot, ptr %args
  %r = call i32 @_ZL27cudaLaunchCooperativeKernelIvE9cudaErrorPT_4dim3S3_PPvmP11CUstream_st(ptr @_Z20__device_stub__syncsPi, i64 1, i32 1, i64 32, i32 1, ptr %args, i64 0, ptr null)
  %e = call i32 @cudaLaunchKernelExC(ptr null, ptr @_Z20__device_stub__syncsPi, ptr %args)
  %k = call i32 @_ZL16cudaLaunchKernelIvE9cudaErrorPKT_4dim3S4_PPvmP11CUstream_st(ptr @_Z20__device_stub__syncsPi, i64 1, i32 1, i64 32, i32 1, ptr %args, i64 0, ptr null)
  ret void
}

define internal i32 @_ZL27cudaLaunchCooperativeKernelIvE9cudaErrorPT_4dim3S3_PPvmP11CUstream_st(ptr %f, i64 %g, i32 %gz, i64 %b, i32 %bz, ptr %a, i64 %s, ptr %st) {
  %r = call i32 @cudaLaunchCooperativeKernel(ptr %f, i64 %g, i32 %gz, i64 %b, i32 %bz, ptr %a, i64 %s, ptr %st)
  ret i32 %r
}

define internal i32 @_ZL16cudaLaunchKernelIvE9cudaErrorPKT_4dim3S4_PPvmP11CUstream_st(ptr %f, i64 %g, i32 %gz, i64 %b, i32 %bz, ptr %a, i64 %s, ptr %st) {
  %r = call i32 @cudaLaunchKernel(ptr %f, i64 %g, i32 %gz, i64 %b, i32 %bz, ptr %a, i64 %s, ptr %st)
  ret i32 %r
}

declare i32 @cudaLaunchCooperativeKernel(ptr, i64, i32, i64, i32, ptr, i64, ptr)
declare i32 @cudaLaunchKernel(ptr, i64, i32, i64, i32, ptr, i64, ptr)
declare i32 @cudaLaunchKernelExC(ptr, ptr, ptr)
