; Proves: with relocatable device code, a device-side launch of a kernel
; defined in another file (which may have instrumented it, not knowing it
; is launched from the device) gets one pointer more in its parameter
; buffer, after the parameters as written: a record tagged 31 with no
; address, which an instrumented child reads as "sample no block", and a
; plain child never reads.  The child's declaration becomes a kernel
; (.extern .entry, which nvlink needs).  Where the pass cannot see the
; buffer's size, or the buffer feeds two launches, or in count mode (where
; every block touches its record), the launch is left alone and a warning
; names the kernel and how to keep its layout.  The parent itself is left
; uninstrumented, as any device-launching kernel.
; RUN: %opt -passes=paella-instrument -S %s -o %t.ll 2>&1 | FileCheck %s --check-prefix=WARN
; RUN: FileCheck %s < %t.ll
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=COUNT
; RUN: %opt -passes=paella-instrument -S %t.ll -o %t2.ll 2>&1 | FileCheck %s --check-prefix=WARN
; RUN: FileCheck %s < %t2.ll

; WARN: warning: paella-instrument: kernel other(int*) is launched from the device here but defined in another file, which instruments it unless told: build that file with --paella-skip='^_Z5otherPi$'
; WARN-NOT: warning
; COUNT-DAG: warning: paella-instrument: kernel child(int*, int) is launched from the device here
; COUNT-DAG: warning: paella-instrument: kernel other(int*) is launched from the device here

; CHECK: c"paella-manifest 3\0AU _Z6parentPi 1 device-launch\0A\00"
; CHECK-LABEL: define ptx_kernel void @_Z6parentPi(
; CHECK: %buf = call ptr @__cudaCDP2GetParameterBuffer(i64 64, i64 24)
; CHECK: %paella.norecord.slot = getelementptr inbounds i8, ptr %buf, i64 16
; CHECK-NEXT: store i64 31, ptr %paella.norecord.slot, align 8
; CHECK-NEXT: call i32 @__cudaCDP2LaunchDevice(ptr @_Z5childPii, ptr %buf,
; CHECK-NOT: paella.norecord
; CHECK: %buf2 = call ptr @__cudaCDP2GetParameterBuffer(i64 64, i64 8)
; CHECK: declare ptx_kernel void @_Z5childPii(ptr, i32)
; CHECK: declare ptx_kernel void @_Z5otherPi(ptr)
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

%struct.dim3 = type { i32, i32, i32 }

define ptx_kernel void @_Z6parentPi(ptr %o) {
  %g = alloca %struct.dim3, align 4
  %b = alloca %struct.dim3, align 4
  %buf = call ptr @__cudaCDP2GetParameterBuffer(i64 64, i64 12)
  store ptr %o, ptr %buf
  %r = call i32 @__cudaCDP2LaunchDevice(ptr @_Z5childPii, ptr %buf, ptr byval(%struct.dim3) align 4 %g, ptr byval(%struct.dim3) align 4 %b, i32 0, ptr null)
  %buf2 = call ptr @__cudaCDP2GetParameterBuffer(i64 64, i64 8)
  store ptr %o, ptr %buf2
  %r2 = call i32 @__cudaCDP2LaunchDevice(ptr @_Z5otherPi, ptr %buf2, ptr byval(%struct.dim3) align 4 %g, ptr byval(%struct.dim3) align 4 %b, i32 0, ptr null)
  %r3 = call i32 @__cudaCDP2LaunchDevice(ptr @_Z5otherPi, ptr %buf2, ptr byval(%struct.dim3) align 4 %g, ptr byval(%struct.dim3) align 4 %b, i32 0, ptr null)
  ret void
}

declare void @_Z5childPii(ptr, i32)
declare void @_Z5otherPi(ptr)
declare ptr @__cudaCDP2GetParameterBuffer(i64, i64)
declare i32 @__cudaCDP2LaunchDevice(ptr, ptr, ptr byval(%struct.dim3) align 4, ptr byval(%struct.dim3) align 4, i32, ptr)
