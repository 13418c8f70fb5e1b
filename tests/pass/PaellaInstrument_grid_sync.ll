; Proves: a kernel that synchronises the whole grid (cooperative_groups
; this_grid().sync(), which CUDA 13 builds from %envreg reads and a spin)
; is left alone with a remark, while a plain kernel beside it is instrumented.
; RUN: %opt -passes=paella-instrument -pass-remarks-missed=paella-instrument -S %s -o - 2>%t.remarks | FileCheck %s
; RUN: FileCheck %s --check-prefix=REMARK < %t.remarks

; REMARK: remark: {{.*}}kernel two_phase left uninstrumented: grid-sync
; CHECK: c"paella-manifest 3\0AU two_phase 1 grid-sync\0AK plain 1 sample plain__paella_plain\0A\00"
; CHECK-LABEL: define {{.*}}ptx_kernel void @two_phase(ptr noundef captures(none) %0)
; CHECK-NOT: paella.exit
; CHECK-LABEL: define {{.*}}ptx_kernel void @plain(ptr {{.*}}%0, ptr addrspace(1) noundef %paella.record)
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

define dso_local ptx_kernel void @two_phase(ptr noundef captures(none) %0) local_unnamed_addr #0 {
  %2 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %3 = zext nneg i32 %2 to i64
  %4 = getelementptr inbounds nuw float, ptr %0, i64 %3
  %5 = load float, ptr %4, align 4
  %6 = fadd contract float %5, 1.000000e+00
  store float %6, ptr %4, align 4
  %7 = tail call noundef i32 asm "mov.u32 $0, %envreg2;", "=r"() #5
  %8 = zext i32 %7 to i64
  %9 = tail call noundef i32 asm "mov.u32 $0, %envreg1;", "=r"() #5
  %10 = zext i32 %9 to i64
  %11 = shl nuw i64 %10, 32
  %12 = or disjoint i64 %11, %8
  %13 = icmp eq i64 %12, 0
  br i1 %13, label %14, label %15

14:                                               ; preds = %1
  tail call void @llvm.trap()
  unreachable

15:                                               ; preds = %1
  %16 = inttoptr i64 %12 to ptr
  %17 = getelementptr inbounds nuw i8, ptr %16, i64 4
  tail call void @llvm.nvvm.barrier.cta.sync.all(i32 0)
  %18 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %19 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.y()
  %20 = add nuw nsw i32 %18, %19
  %21 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.z()
  %22 = sub nsw i32 0, %21
  %23 = icmp eq i32 %20, %22
  br i1 %23, label %24, label %42

24:                                               ; preds = %15
  %25 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.nctaid.x()
  %26 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.nctaid.y()
  %27 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.nctaid.z()
  %28 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.ctaid.y()
  %29 = add nuw i32 %2, %28
  %30 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.ctaid.z()
  %31 = sub nsw i32 0, %30
  %32 = icmp eq i32 %29, %31
  %33 = mul i32 %25, %26
  %34 = mul i32 %33, %27
  %35 = sub i32 -2147483647, %34
  %36 = select i1 %32, i32 %35, i32 1
  %37 = tail call i32 asm sideeffect "atom.add.release.gpu.u32 $0,[$1],$2;", "=r,l,r,~{memory}"(ptr nonnull %17, i32 %36) #6
  br label %38

38:                                               ; preds = %24, %38
  %39 = tail call i32 asm sideeffect "ld.acquire.gpu.u32 $0,[$1];", "=r,l,~{memory}"(ptr nonnull %17) #6
  %40 = xor i32 %39, %37
  %41 = icmp slt i32 %40, 0
  br i1 %41, label %42, label %38

42:                                               ; preds = %38, %15
  tail call void @llvm.nvvm.barrier.cta.sync.all(i32 0)
  %43 = load float, ptr %4, align 4
  %44 = fmul contract float %43, 2.000000e+00
  store float %44, ptr %4, align 4
  ret void
}

define dso_local ptx_kernel void @plain(ptr noundef writeonly captures(none) %0) local_unnamed_addr #1 {
  %2 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %3 = zext nneg i32 %2 to i64
  %4 = getelementptr inbounds nuw float, ptr %0, i64 %3
  store float 0.000000e+00, ptr %4, align 4
  ret void
}

declare noundef range(i32 0, 2147483647) i32 @llvm.nvvm.read.ptx.sreg.ctaid.x() #2

declare void @llvm.trap() #3

declare void @llvm.nvvm.barrier.cta.sync.all(i32) #4

declare noundef range(i32 0, 1024) i32 @llvm.nvvm.read.ptx.sreg.tid.x() #2

declare noundef range(i32 0, 1024) i32 @llvm.nvvm.read.ptx.sreg.tid.y() #2

declare noundef range(i32 0, 64) i32 @llvm.nvvm.read.ptx.sreg.tid.z() #2

declare noundef range(i32 1, -2147483648) i32 @llvm.nvvm.read.ptx.sreg.nctaid.x() #2

declare noundef range(i32 1, 65536) i32 @llvm.nvvm.read.ptx.sreg.nctaid.y() #2

declare noundef range(i32 1, 65536) i32 @llvm.nvvm.read.ptx.sreg.nctaid.z() #2

declare noundef range(i32 0, 65535) i32 @llvm.nvvm.read.ptx.sreg.ctaid.y() #2

declare noundef range(i32 0, 65535) i32 @llvm.nvvm.read.ptx.sreg.ctaid.z() #2

attributes #0 = { convergent mustprogress noinline norecurse nounwind "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" "uniform-work-group-size"="true" }
attributes #1 = { mustprogress nofree noinline norecurse nosync nounwind willreturn memory(argmem: write) "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" "uniform-work-group-size"="true" }
attributes #2 = { mustprogress nocallback nofree nosync nounwind speculatable willreturn memory(none) }
attributes #3 = { cold noreturn nounwind memory(inaccessiblemem: write) }
attributes #4 = { convergent nocallback nounwind }
attributes #5 = { convergent nounwind memory(none) }
attributes #6 = { convergent nounwind }
