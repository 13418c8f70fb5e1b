; Proves: each instantiation of a template kernel is instrumented and listed
; in the manifest under its mangled name, and keeps its comdat.
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s

; CHECK: @__paella_manifest = {{.*}}c"paella-manifest 3\0AK _Z4axpyIfEvT_PKS0_PS0_ 3 sample _Z4axpyIfEvT_PKS0_PS0___paella_plain\0AK _Z4axpyIdEvT_PKS0_PS0_ 3 sample _Z4axpyIdEvT_PKS0_PS0___paella_plain\0A\00"
; CHECK-LABEL: define {{.*}}ptx_kernel void @_Z4axpyIfEvT_PKS0_PS0_(float {{.*}}, ptr addrspace(1) noundef %paella.record) {{.*}}comdat
; CHECK: paella.check:
; CHECK-LABEL: define {{.*}}ptx_kernel void @_Z4axpyIdEvT_PKS0_PS0_(double {{.*}}, ptr addrspace(1) noundef %paella.record) {{.*}}comdat
; CHECK: paella.check:
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

$_Z4axpyIfEvT_PKS0_PS0_ = comdat any

$_Z4axpyIdEvT_PKS0_PS0_ = comdat any

define dso_local ptx_kernel void @_Z4axpyIfEvT_PKS0_PS0_(float noundef %0, ptr noundef readonly captures(none) %1, ptr noundef captures(none) %2) local_unnamed_addr #0 comdat {
  %4 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %5 = zext nneg i32 %4 to i64
  %6 = getelementptr inbounds nuw float, ptr %1, i64 %5
  %7 = load float, ptr %6, align 4
  %8 = fmul contract float %0, %7
  %9 = getelementptr inbounds nuw float, ptr %2, i64 %5
  %10 = load float, ptr %9, align 4
  %11 = fadd contract float %10, %8
  store float %11, ptr %9, align 4
  ret void
}

define dso_local ptx_kernel void @_Z4axpyIdEvT_PKS0_PS0_(double noundef %0, ptr noundef readonly captures(none) %1, ptr noundef captures(none) %2) local_unnamed_addr #0 comdat {
  %4 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %5 = zext nneg i32 %4 to i64
  %6 = getelementptr inbounds nuw double, ptr %1, i64 %5
  %7 = load double, ptr %6, align 8
  %8 = fmul contract double %0, %7
  %9 = getelementptr inbounds nuw double, ptr %2, i64 %5
  %10 = load double, ptr %9, align 8
  %11 = fadd contract double %10, %8
  store double %11, ptr %9, align 8
  ret void
}

declare noundef range(i32 0, 1024) i32 @llvm.nvvm.read.ptx.sreg.tid.x() #1

attributes #0 = { mustprogress nofree noinline norecurse nosync nounwind willreturn memory(argmem: readwrite) "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" "uniform-work-group-size"="true" }
attributes #1 = { mustprogress nocallback nofree nosync nounwind speculatable willreturn memory(none) }
