; Proves: a kernel that launches kernels from the device (dynamic
; parallelism), directly or through a device function, is left alone, under
; CUDA 13's names (__cudaCDP2*) and the older ones alike; the kernels it
; launches keep the layout the parent's parameter buffer gives them (they are
; left alone: device-launched); one that uses barrier 1 through the intrinsic
; is left alone in count mode; a kernel nobody launches from the device is
; instrumented, in both modes.
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | FileCheck %s --check-prefixes=CHECK,COUNT
; RUN: %opt -passes=paella-instrument -pass-remarks-missed=paella-instrument -S %s -o - 2>%t.remarks | FileCheck %s --check-prefixes=CHECK,SAMPLE
; RUN: FileCheck %s --check-prefix=REMARK < %t.remarks

; REMARK-DAG: remark: {{.*}}kernel child left uninstrumented: device-launched
; REMARK-DAG: remark: {{.*}}kernel parent left uninstrumented: device-launch
; REMARK-DAG: remark: {{.*}}kernel old_child left uninstrumented: device-launched
; REMARK-DAG: remark: {{.*}}kernel old_parent left uninstrumented: device-launch

; COUNT: c"paella-manifest 3\0AU child 2 device-launched\0AU parent 1 device-launch\0AU old_child 1 device-launched\0AU old_parent 1 device-launch\0AK alone 1 count\0AU barrier_user 0 exit-barrier-in-use\0A\00"
; SAMPLE: c"paella-manifest 3\0AU child 2 device-launched\0AU parent 1 device-launch\0AU old_child 1 device-launched\0AU old_parent 1 device-launch\0AK alone 1 sample alone__paella_plain\0AK barrier_user 0 sample barrier_user__paella_plain\0A\00"
; CHECK-LABEL: define ptx_kernel void @child(ptr %x, i32 %v)
; CHECK-NOT: paella
; CHECK-LABEL: define ptx_kernel void @parent(ptr %x)
; CHECK-NOT: paella
; CHECK-LABEL: define ptx_kernel void @old_child(ptr %x)
; CHECK-NOT: paella
; CHECK-LABEL: define ptx_kernel void @old_parent(ptr %x)
; CHECK-NOT: paella
; CHECK-LABEL: define ptx_kernel void @alone(ptr %x, ptr addrspace(1) noundef %paella.record)

target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

%struct.dim3 = type { i32, i32, i32 }

define ptx_kernel void @child(ptr %x, i32 %v) {
  store i32 %v, ptr %x
  ret void
}

; What clang 22 emits for child<<<1, 32>>>(x, 7) with CUDA 13's headers.
define internal void @spawn(ptr %x) {
  %g = alloca %struct.dim3, align 4
  %b = alloca %struct.dim3, align 4
  %buf = call ptr @__cudaCDP2GetParameterBuffer(i64 64, i64 12)
  store ptr %x, ptr %buf
  %p1 = getelementptr i8, ptr %buf, i64 8
  store i32 7, ptr %p1
  %r = call i32 @__cudaCDP2LaunchDevice(ptr @child, ptr %buf, ptr byval(%struct.dim3) align 4 %g, ptr byval(%struct.dim3) align 4 %b, i32 0, ptr null)
  ret void
}

define ptx_kernel void @parent(ptr %x) {
  call void @spawn(ptr %x)
  ret void
}

define ptx_kernel void @old_child(ptr %x) {
  store i32 1, ptr %x
  ret void
}

define ptx_kernel void @old_parent(ptr %x) {
  %buf = call ptr @cudaGetParameterBuffer(i64 8, i64 8)
  store ptr %x, ptr %buf
  %r = call i32 @cudaLaunchDevice(ptr @old_child, ptr %buf, i64 1, i64 1, i32 0, ptr null)
  ret void
}

define ptx_kernel void @alone(ptr %x) {
  store i32 2, ptr %x
  ret void
}

define ptx_kernel void @barrier_user() {
  call void @llvm.nvvm.barrier.cta.sync.aligned.count(i32 1, i32 64)
  ret void
}

declare ptr @__cudaCDP2GetParameterBuffer(i64, i64)
declare i32 @__cudaCDP2LaunchDevice(ptr, ptr, ptr byval(%struct.dim3) align 4, ptr byval(%struct.dim3) align 4, i32, ptr)
declare ptr @cudaGetParameterBuffer(i64, i64)
declare i32 @cudaLaunchDevice(ptr, ptr, i64, i64, i32, ptr)
declare void @llvm.nvvm.barrier.cta.sync.aligned.count(i32, i32)
