; Proves: device functions called by a kernel keep their signature and body;
; only the kernel changes.
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s

; CHECK-LABEL: define dso_local noundef float @_Z6squaref(float noundef %0)
; CHECK-NOT: paella
; CHECK: ret float
; CHECK-LABEL: define {{.*}}ptx_kernel void @squares(ptr {{.*}}%0, ptr addrspace(1) noundef %paella.record)
; CHECK: paella.body:
; CHECK: call {{.*}}float @_Z6squaref(
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

define dso_local noundef float @_Z6squaref(float noundef %0) local_unnamed_addr #0 {
  %2 = fmul contract float %0, %0
  ret float %2
}

define dso_local ptx_kernel void @squares(ptr noundef captures(none) %0) local_unnamed_addr #1 {
  %2 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %3 = zext nneg i32 %2 to i64
  %4 = getelementptr inbounds nuw float, ptr %0, i64 %3
  %5 = load float, ptr %4, align 4
  %6 = tail call contract noundef float @_Z6squaref(float noundef %5) #3
  store float %6, ptr %4, align 4
  ret void
}

declare noundef range(i32 0, 1024) i32 @llvm.nvvm.read.ptx.sreg.tid.x() #2

attributes #0 = { mustprogress nofree noinline norecurse nosync nounwind willreturn memory(none) "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" }
attributes #1 = { mustprogress nofree noinline norecurse nosync nounwind willreturn memory(argmem: readwrite) "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" "uniform-work-group-size"="true" }
attributes #2 = { mustprogress nocallback nofree nosync nounwind speculatable willreturn memory(none) }
attributes #3 = { nounwind }
