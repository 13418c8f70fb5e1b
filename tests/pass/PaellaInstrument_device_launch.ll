; Proves: a kernel that launches kernels from the device (dynamic
; parallelism), directly or through a device function, is left alone, and so
; is one that uses barrier 1 through the intrinsic; their neighbour is not.
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | FileCheck %s

target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

; CHECK: c"paella-manifest 3\0AK child 1 count\0AU parent 1 device-launch\0AU barrier_user 0 exit-barrier-in-use\0A\00"
; CHECK-LABEL: define ptx_kernel void @child(ptr %x, ptr addrspace(1) noundef %paella.record)
; CHECK-LABEL: define ptx_kernel void @parent(ptr %x)
; CHECK-NOT: paella
; CHECK-LABEL: define ptx_kernel void @barrier_user()

define ptx_kernel void @child(ptr %x) {
  store i32 1, ptr %x
  ret void
}

define internal void @spawn(ptr %x) {
  %buf = call ptr @cudaGetParameterBuffer(i64 8, i64 8)
  store ptr %x, ptr %buf
  %r = call i32 @cudaLaunchDevice(ptr @child, ptr %buf, i64 1, i64 1, i32 0, ptr null)
  ret void
}

define ptx_kernel void @parent(ptr %x) {
  call void @spawn(ptr %x)
  ret void
}

define ptx_kernel void @barrier_user() {
  call void @llvm.nvvm.barrier.cta.sync.aligned.count(i32 1, i32 64)
  ret void
}

declare ptr @cudaGetParameterBuffer(i64, i64)
declare i32 @cudaLaunchDevice(ptr, ptr, i64, i64, i32, ptr)
declare void @llvm.nvvm.barrier.cta.sync.aligned.count(i32, i32)
