; Proves: a large struct passed by value keeps its byval parameter, alignment
; and position; the record comes after it and after the other parameters.
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s

; CHECK-LABEL: define {{.*}}ptx_kernel void @dot_big(ptr noundef readonly byval(%struct.Big) align 4 captures(none) %0, ptr {{.*}}%1, ptr {{.*}}%2, ptr addrspace(1) noundef %paella.record)
; CHECK: paella.body:
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

%struct.Big = type { [64 x float], i32 }

define dso_local ptx_kernel void @dot_big(ptr noundef readonly byval(%struct.Big) align 4 captures(none) %0, ptr noundef readonly captures(none) %1, ptr noundef writeonly captures(none) %2) local_unnamed_addr #0 {
  %4 = getelementptr inbounds nuw i8, ptr %0, i64 256
  %5 = load i32, ptr %4, align 4
  %6 = icmp sgt i32 %5, 0
  br i1 %6, label %12, label %7

7:                                                ; preds = %12, %3
  %8 = phi float [ 0.000000e+00, %3 ], [ %21, %12 ]
  %9 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %10 = zext nneg i32 %9 to i64
  %11 = getelementptr inbounds nuw float, ptr %2, i64 %10
  store float %8, ptr %11, align 4
  ret void

12:                                               ; preds = %3, %12
  %13 = phi i32 [ %22, %12 ], [ 0, %3 ]
  %14 = phi float [ %21, %12 ], [ 0.000000e+00, %3 ]
  %15 = zext nneg i32 %13 to i64
  %16 = getelementptr inbounds nuw float, ptr %0, i64 %15
  %17 = load float, ptr %16, align 4
  %18 = getelementptr inbounds nuw float, ptr %1, i64 %15
  %19 = load float, ptr %18, align 4
  %20 = fmul contract float %17, %19
  %21 = fadd contract float %14, %20
  %22 = add nuw nsw i32 %13, 1
  %23 = icmp eq i32 %22, %5
  br i1 %23, label %7, label %12
}

declare noundef range(i32 0, 1024) i32 @llvm.nvvm.read.ptx.sreg.tid.x() #1

attributes #0 = { mustprogress nofree noinline norecurse nosync nounwind memory(argmem: readwrite) "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" "uniform-work-group-size"="true" }
attributes #1 = { mustprogress nocallback nofree nosync nounwind speculatable willreturn memory(none) }
