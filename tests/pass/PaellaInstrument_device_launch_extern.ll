; Proves: with relocatable device code, a parent that launches a kernel
; defined in another file gets a warning naming that kernel and how to keep
; its layout (its own file cannot know it is launched from the device); the
; parent itself is left alone as any device-launching kernel.
; RUN: %opt -passes=paella-instrument -S %s -o %t.ll 2>&1 | FileCheck %s --check-prefix=WARN
; RUN: FileCheck %s < %t.ll

; WARN: warning: paella-instrument: kernel child(int*, int) is launched from the device here but defined in another file, which instruments it unless told: build that file with --paella-skip='^_Z5childPii$'
; WARN-NOT: warning
; CHECK: c"paella-manifest 3\0AU _Z6parentPi 1 device-launch\0A\00"
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

%struct.dim3 = type { i32, i32, i32 }

define ptx_kernel void @_Z6parentPi(ptr %o) {
  %g = alloca %struct.dim3, align 4
  %b = alloca %struct.dim3, align 4
  %buf = call ptr @__cudaCDP2GetParameterBuffer(i64 64, i64 12)
  store ptr %o, ptr %buf
  %r = call i32 @__cudaCDP2LaunchDevice(ptr @_Z5childPii, ptr %buf, ptr byval(%struct.dim3) align 4 %g, ptr byval(%struct.dim3) align 4 %b, i32 0, ptr null)
  %r2 = call i32 @__cudaCDP2LaunchDevice(ptr @_Z5childPii, ptr %buf, ptr byval(%struct.dim3) align 4 %g, ptr byval(%struct.dim3) align 4 %b, i32 0, ptr null)
  ret void
}

declare void @_Z5childPii(ptr, i32)
declare ptr @__cudaCDP2GetParameterBuffer(i64, i64)
declare i32 @__cudaCDP2LaunchDevice(ptr, ptr, ptr byval(%struct.dim3) align 4, ptr byval(%struct.dim3) align 4, i32, ptr)
