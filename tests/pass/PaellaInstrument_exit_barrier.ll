; Proves: a kernel that already uses named barrier 1 (the epilogue's) is left
; alone rather than have its barrier arrivals mixed with ours.
; Barriers named in inline PTX by another id, or by __syncthreads, do not
; count; one named through an operand ($0), which we cannot read, does.
; In sample mode there is no exit barrier, so all three are instrumented.
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | FileCheck %s
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s --check-prefix=SAMPLE
; SAMPLE: c"paella-manifest 3\0AK uses_bar1 1 sample uses_bar1__paella_plain\0AK uses_bar2 1 sample uses_bar2__paella_plain\0AK uses_bar_reg 1 sample uses_bar_reg__paella_plain\0A\00"

; CHECK: c"paella-manifest 3\0AU uses_bar1 1 exit-barrier-in-use\0AK uses_bar2 1 count\0AU uses_bar_reg 1 exit-barrier-in-use\0A\00"
; CHECK-LABEL: define {{.*}}ptx_kernel void @uses_bar1(ptr noundef captures(none) %0)
; CHECK-NOT: paella.exit
; CHECK-LABEL: define ptx_kernel void @uses_bar2(ptr %x, ptr addrspace(1) noundef %paella.record)
; CHECK: paella.exit:
; CHECK-LABEL: define ptx_kernel void @uses_bar_reg(ptr %x)
; CHECK-NOT: paella.exit
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

define dso_local ptx_kernel void @uses_bar1(ptr noundef captures(none) %0) local_unnamed_addr #0 {
  %2 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %3 = zext nneg i32 %2 to i64
  %4 = getelementptr inbounds nuw float, ptr %0, i64 %3
  store float 1.000000e+00, ptr %4, align 4
  tail call void asm sideeffect "bar.sync 1, 64;", ""() #2
  %5 = load float, ptr %4, align 4
  %6 = fadd contract float %5, 1.000000e+00
  store float %6, ptr %4, align 4
  ret void
}

declare noundef range(i32 0, 1024) i32 @llvm.nvvm.read.ptx.sreg.tid.x() #1

define ptx_kernel void @uses_bar2(ptr %x) {
  call void asm sideeffect "bar.sync 2, 64;", ""()
  call void asm sideeffect "barrier.cta.arrive.aligned 3, 64;", ""()
  ret void
}

define ptx_kernel void @uses_bar_reg(ptr %x) {
  call void asm sideeffect "bar.sync $0, 64;", "r"(i32 4)
  ret void
}

attributes #0 = { convergent mustprogress noinline norecurse nounwind "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" "uniform-work-group-size"="true" }
attributes #1 = { mustprogress nocallback nofree nosync nounwind speculatable willreturn memory(none) }
attributes #2 = { convergent nounwind }
