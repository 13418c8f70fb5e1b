; Proves: a launch that is an invoke (C++ with exceptions, the stub inlined
; into a function with cleanups) becomes an invoke of paella_launch_kernel
; with the same normal and unwind destinations, and the module stays valid.
; RUN: %opt -passes=paella-instrument,verify -S %s | FileCheck %s

target triple = "x86_64-pc-linux-gnu"

; CHECK-LABEL: define void @launch_in_try(
; CHECK: invoke i32 @paella_launch_kernel(ptr @_Z20__device_stub__saxpyfPKfPfi, i64 1, i32 1, i64 256, i32 1, ptr %args, i64 0, ptr null, i32 4)
; CHECK-NEXT: to label %ok unwind label %cleanup
; CHECK-NOT: @cudaLaunchKernel(

define void @_Z20__device_stub__saxpyfPKfPfi(float %a, ptr %x, ptr %y, i32 %n) {
  ret void
}

define void @launch_in_try() personality ptr @__gxx_personality_v0 {
entry:
  %args = alloca [4 x ptr], align 16
  %r = invoke i32 @cudaLaunchKernel(ptr @_Z20__device_stub__saxpyfPKfPfi, i64 1, i32 1, i64 256, i32 1, ptr %args, i64 0, ptr null)
          to label %ok unwind label %cleanup
ok:
  ret void
cleanup:
  %lp = landingpad { ptr, i32 } cleanup
  resume { ptr, i32 } %lp
}

declare i32 @cudaLaunchKernel(ptr, i64, i32, i64, i32, ptr, i64, ptr)
declare i32 @__gxx_personality_v0(...)
