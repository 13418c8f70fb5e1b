; Proves: the epilogue finds a thread's warp from its linear id over a 3D
; block (x fastest, as the hardware forms warps) and the block's linear id
; over a 3D grid, so 2D and 3D blocks and grids are counted right.
; RUN: %opt -passes=paella-instrument -paella-notify=count -paella-exit-barrier=handshake -S %s | FileCheck %s
; RUN: %opt -passes=paella-instrument -paella-notify=count -S %s | FileCheck %s --check-prefix=FULL

; FULL-LABEL: define {{.*}}ptx_kernel void @fill3d(
; FULL: paella.exit:
; FULL-DAG: [[TX:%.*]] = call i32 asm sideeffect "mov.u32 $0, %tid.x;"
; FULL-DAG: [[TY:%.*]] = call i32 asm sideeffect "mov.u32 $0, %tid.y;"
; FULL-DAG: [[TZ:%.*]] = call i32 asm sideeffect "mov.u32 $0, %tid.z;"
; FULL: [[YZ:%.*]] = or i32 [[TY]], [[TZ]]
; FULL-NEXT: [[ALL:%.*]] = or i32 [[TX]], [[YZ]]
; FULL-NEXT: %paella.thread0 = icmp eq i32 [[ALL]], 0
; FULL: paella.prepare:
; FULL-DAG: [[CX:%.*]] = call i32 asm sideeffect "mov.u32 $0, %ctaid.x;"
; FULL-DAG: [[CY:%.*]] = call i32 asm sideeffect "mov.u32 $0, %ctaid.y;"
; FULL-DAG: [[CZ:%.*]] = call i32 asm sideeffect "mov.u32 $0, %ctaid.z;"
; FULL-DAG: [[GX:%.*]] = call i32 asm sideeffect "mov.u32 $0, %nctaid.x;"
; FULL-DAG: [[GY:%.*]] = call i32 asm sideeffect "mov.u32 $0, %nctaid.y;"
; FULL: [[A2:%.*]] = mul i32 [[GY]], [[CZ]]
; FULL-NEXT: [[B2:%.*]] = add i32 [[CY]], [[A2]]
; FULL-NEXT: [[C2:%.*]] = mul i32 [[GX]], [[B2]]
; FULL-NEXT: %paella.block = add i32 [[CX]], [[C2]]

; CHECK-LABEL: define {{.*}}ptx_kernel void @fill3d(
; CHECK: paella.exit:
; The epilogue reads special registers through volatile asm, never reusing
; the kernel's own reads (which would keep them live through the body).
; CHECK-DAG: [[TX:%.*]] = call i32 asm sideeffect "mov.u32 $0, %tid.x;"
; CHECK-DAG: [[TY:%.*]] = call i32 asm sideeffect "mov.u32 $0, %tid.y;"
; CHECK-DAG: [[TZ:%.*]] = call i32 asm sideeffect "mov.u32 $0, %tid.z;"
; CHECK-DAG: [[NX:%.*]] = call i32 asm sideeffect "mov.u32 $0, %ntid.x;"
; CHECK-DAG: [[NY:%.*]] = call i32 asm sideeffect "mov.u32 $0, %ntid.y;"
; CHECK-DAG: [[NZ:%.*]] = call i32 asm sideeffect "mov.u32 $0, %ntid.z;"
; CHECK: [[A:%.*]] = mul i32 [[NY]], [[TZ]]
; CHECK-NEXT: [[B:%.*]] = add i32 [[TY]], [[A]]
; CHECK-NEXT: [[C:%.*]] = mul i32 [[NX]], [[B]]
; CHECK-NEXT: %paella.tid = add i32 [[TX]], [[C]]
; CHECK: [[NXY:%.*]] = mul i32 [[NX]], [[NY]]
; CHECK-NEXT: %paella.nthreads = mul i32 [[NXY]], [[NZ]]
; Warp 0 finds the block's linear id (32-bit) before it waits at the barrier.
; CHECK: paella.prepare:
; CHECK: %paella.block = add i32
; CHECK: %paella.nblocks = mul i32
; CHECK: call void @llvm.nvvm.barrier.cta.sync.aligned.count(i32 1, i32 %paella.count)
; CHECK: paella.report:
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

define dso_local ptx_kernel void @fill3d(ptr noundef writeonly captures(none) %0, i32 noundef %1, i32 noundef %2) local_unnamed_addr #0 {
  %4 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.ctaid.x()
  %5 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.ntid.x()
  %6 = mul i32 %4, %5
  %7 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.x()
  %8 = add i32 %6, %7
  %9 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.ctaid.y()
  %10 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.ntid.y()
  %11 = mul nuw nsw i32 %9, %10
  %12 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.y()
  %13 = add nuw nsw i32 %11, %12
  %14 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.ctaid.z()
  %15 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.ntid.z()
  %16 = mul nuw nsw i32 %14, %15
  %17 = tail call noundef i32 @llvm.nvvm.read.ptx.sreg.tid.z()
  %18 = add nuw nsw i32 %16, %17
  %19 = add nsw i32 %8, %13
  %20 = add nsw i32 %19, %18
  %21 = sitofp i32 %20 to float
  %22 = mul nsw i32 %2, %18
  %23 = add nsw i32 %22, %13
  %24 = mul nsw i32 %23, %1
  %25 = add nsw i32 %24, %8
  %26 = sext i32 %25 to i64
  %27 = getelementptr inbounds float, ptr %0, i64 %26
  store float %21, ptr %27, align 4
  ret void
}

declare noundef range(i32 0, 2147483647) i32 @llvm.nvvm.read.ptx.sreg.ctaid.x() #1

declare noundef range(i32 1, 1025) i32 @llvm.nvvm.read.ptx.sreg.ntid.x() #1

declare noundef range(i32 0, 1024) i32 @llvm.nvvm.read.ptx.sreg.tid.x() #1

declare noundef range(i32 0, 65535) i32 @llvm.nvvm.read.ptx.sreg.ctaid.y() #1

declare noundef range(i32 1, 1025) i32 @llvm.nvvm.read.ptx.sreg.ntid.y() #1

declare noundef range(i32 0, 1024) i32 @llvm.nvvm.read.ptx.sreg.tid.y() #1

declare noundef range(i32 0, 65535) i32 @llvm.nvvm.read.ptx.sreg.ctaid.z() #1

declare noundef range(i32 1, 65) i32 @llvm.nvvm.read.ptx.sreg.ntid.z() #1

declare noundef range(i32 0, 64) i32 @llvm.nvvm.read.ptx.sreg.tid.z() #1

attributes #0 = { mustprogress nofree noinline norecurse nosync nounwind willreturn memory(argmem: write) "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" "uniform-work-group-size"="true" }
attributes #1 = { mustprogress nocallback nofree nosync nounwind speculatable willreturn memory(none) }
