; Proves: on the host module, every launch of a kernel through its CUDA stub
; (in the stub itself, and where the stub was inlined into the caller) calls
; paella_launch_kernel with the same arguments plus the kernel's parameter
; count: 3 for k3 although the host ABI splits its struct into two LLVM
; arguments, 0 for k0.  A cudaLaunchKernel the program makes by hand, with a
; function pointer it got elsewhere, is not touched.
; RUN: %opt -passes=paella-instrument -S %s | FileCheck %s

; CHECK-LABEL: define dso_local void @_Z17__device_stub__k3Pfi4Pair(
; CHECK: call i32 @paella_launch_kernel(ptr @_Z17__device_stub__k3Pfi4Pair, i64 %{{.*}}, i32 %{{.*}}, i64 %{{.*}}, i32 %{{.*}}, ptr %{{.*}}, i64 %{{.*}}, ptr %{{.*}}, i32 3)
; CHECK-LABEL: define dso_local void @_Z17__device_stub__k0v(
; CHECK: call i32 @paella_launch_kernel(ptr @_Z17__device_stub__k0v, {{.*}}, i32 0)
; CHECK-LABEL: define dso_local void @by_hand(
; CHECK: call noundef i32 @cudaLaunchKernel(ptr noundef %0,
; CHECK-LABEL: define dso_local void @_Z6launchPfP11CUstream_st(
; CHECK-NOT: @cudaLaunchKernel(
; CHECK: call i32 @paella_launch_kernel(ptr @_Z17__device_stub__k3Pfi4Pair, {{.*}}, i32 3)
; CHECK-NOT: @cudaLaunchKernel(
; CHECK: call i32 @paella_launch_kernel(ptr @_Z17__device_stub__k0v, {{.*}}, i32 0)
; CHECK: declare i32 @paella_launch_kernel(ptr, i64, i32, i64, i32, ptr, i64, ptr, i32)
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

%struct.Pair = type { float, float, float }
%struct.dim3 = type { i32, i32, i32 }

define dso_local void @_Z17__device_stub__k3Pfi4Pair(ptr noundef %0, i32 noundef %1, <2 x float> %2, float %3) #0 {
  %5 = alloca %struct.Pair, align 8
  %6 = alloca ptr, align 8
  %7 = alloca i32, align 4
  %8 = alloca %struct.dim3, align 8
  %9 = alloca %struct.dim3, align 8
  %10 = alloca i64, align 8
  %11 = alloca ptr, align 8
  store <2 x float> %2, ptr %5, align 8
  %12 = getelementptr inbounds nuw i8, ptr %5, i64 8
  store float %3, ptr %12, align 8
  store ptr %0, ptr %6, align 8
  store i32 %1, ptr %7, align 4
  %13 = alloca [3 x ptr], align 16
  store ptr %6, ptr %13, align 16
  %14 = getelementptr inbounds nuw i8, ptr %13, i64 8
  store ptr %7, ptr %14, align 8
  %15 = getelementptr inbounds nuw i8, ptr %13, i64 16
  store ptr %5, ptr %15, align 16
  %16 = call i32 @__cudaPopCallConfiguration(ptr nonnull %8, ptr nonnull %9, ptr nonnull %10, ptr nonnull %11)
  %17 = load i64, ptr %10, align 8
  %18 = load ptr, ptr %11, align 8
  %19 = load i64, ptr %8, align 8
  %20 = getelementptr inbounds nuw i8, ptr %8, i64 8
  %21 = load i32, ptr %20, align 8
  %22 = load i64, ptr %9, align 8
  %23 = getelementptr inbounds nuw i8, ptr %9, i64 8
  %24 = load i32, ptr %23, align 8
  %25 = call noundef i32 @cudaLaunchKernel(ptr noundef nonnull @_Z17__device_stub__k3Pfi4Pair, i64 %19, i32 %21, i64 %22, i32 %24, ptr noundef nonnull %13, i64 noundef %17, ptr noundef %18)
  ret void
}

declare i32 @__cudaPopCallConfiguration(ptr, ptr, ptr, ptr) local_unnamed_addr

declare i32 @cudaLaunchKernel(ptr, i64, i32, i64, i32, ptr, i64, ptr) local_unnamed_addr

define dso_local void @_Z17__device_stub__k0v() #1 {
  %1 = alloca %struct.dim3, align 8
  %2 = alloca %struct.dim3, align 8
  %3 = alloca i64, align 8
  %4 = alloca ptr, align 8
  %5 = alloca ptr, align 16
  %6 = call i32 @__cudaPopCallConfiguration(ptr nonnull %1, ptr nonnull %2, ptr nonnull %3, ptr nonnull %4)
  %7 = load i64, ptr %3, align 8
  %8 = load ptr, ptr %4, align 8
  %9 = load i64, ptr %1, align 8
  %10 = getelementptr inbounds nuw i8, ptr %1, i64 8
  %11 = load i32, ptr %10, align 8
  %12 = load i64, ptr %2, align 8
  %13 = getelementptr inbounds nuw i8, ptr %2, i64 8
  %14 = load i32, ptr %13, align 8
  %15 = call noundef i32 @cudaLaunchKernel(ptr noundef nonnull @_Z17__device_stub__k0v, i64 %9, i32 %11, i64 %12, i32 %14, ptr noundef nonnull %5, i64 noundef %7, ptr noundef %8)
  ret void
}

define dso_local void @by_hand(ptr noundef %0, ptr noundef %1) local_unnamed_addr #2 {
  %3 = alloca [1 x ptr], align 8
  call void @llvm.lifetime.start.p0(ptr nonnull %3) #6
  store i64 0, ptr %3, align 8
  %4 = call noundef i32 @cudaLaunchKernel(ptr noundef %0, i64 4294967297, i32 1, i64 4294967297, i32 1, ptr noundef nonnull %3, i64 noundef 0, ptr noundef %1)
  call void @llvm.lifetime.end.p0(ptr nonnull %3) #6
  ret void
}

declare void @llvm.lifetime.start.p0(ptr captures(none)) #3

declare void @llvm.lifetime.end.p0(ptr captures(none)) #3

define dso_local void @_Z6launchPfP11CUstream_st(ptr noundef %0, ptr noundef %1) local_unnamed_addr #4 {
  %3 = alloca %struct.dim3, align 8
  %4 = alloca %struct.dim3, align 8
  %5 = alloca i64, align 8
  %6 = alloca ptr, align 8
  %7 = alloca ptr, align 16
  %8 = alloca %struct.Pair, align 8
  %9 = alloca ptr, align 8
  %10 = alloca i32, align 4
  %11 = alloca %struct.dim3, align 8
  %12 = alloca %struct.dim3, align 8
  %13 = alloca i64, align 8
  %14 = alloca ptr, align 8
  %15 = alloca [3 x ptr], align 16
  %16 = tail call i32 @__cudaPushCallConfiguration(i64 8589934596, i32 1, i64 4294967424, i32 1, i64 noundef 64, ptr noundef %1)
  %17 = icmp eq i32 %16, 0
  br i1 %17, label %18, label %32

18:                                               ; preds = %2
  call void @llvm.lifetime.start.p0(ptr nonnull %8)
  call void @llvm.lifetime.start.p0(ptr nonnull %9)
  call void @llvm.lifetime.start.p0(ptr nonnull %10)
  call void @llvm.lifetime.start.p0(ptr nonnull %11)
  call void @llvm.lifetime.start.p0(ptr nonnull %12)
  call void @llvm.lifetime.start.p0(ptr nonnull %13)
  call void @llvm.lifetime.start.p0(ptr nonnull %14)
  call void @llvm.lifetime.start.p0(ptr nonnull %15)
  store <2 x float> <float 1.000000e+00, float 2.000000e+00>, ptr %8, align 8
  %19 = getelementptr inbounds nuw i8, ptr %8, i64 8
  store float 3.000000e+00, ptr %19, align 8
  store ptr %0, ptr %9, align 8
  store i32 5, ptr %10, align 4
  store ptr %9, ptr %15, align 16
  %20 = getelementptr inbounds nuw i8, ptr %15, i64 8
  store ptr %10, ptr %20, align 8
  %21 = getelementptr inbounds nuw i8, ptr %15, i64 16
  store ptr %8, ptr %21, align 16
  %22 = call i32 @__cudaPopCallConfiguration(ptr nonnull %11, ptr nonnull %12, ptr nonnull %13, ptr nonnull %14)
  %23 = load i64, ptr %13, align 8
  %24 = load ptr, ptr %14, align 8
  %25 = load i64, ptr %11, align 8
  %26 = getelementptr inbounds nuw i8, ptr %11, i64 8
  %27 = load i32, ptr %26, align 8
  %28 = load i64, ptr %12, align 8
  %29 = getelementptr inbounds nuw i8, ptr %12, i64 8
  %30 = load i32, ptr %29, align 8
  %31 = call noundef i32 @cudaLaunchKernel(ptr noundef nonnull @_Z17__device_stub__k3Pfi4Pair, i64 %25, i32 %27, i64 %28, i32 %30, ptr noundef nonnull %15, i64 noundef %23, ptr noundef %24)
  call void @llvm.lifetime.end.p0(ptr nonnull %8)
  call void @llvm.lifetime.end.p0(ptr nonnull %9)
  call void @llvm.lifetime.end.p0(ptr nonnull %10)
  call void @llvm.lifetime.end.p0(ptr nonnull %11)
  call void @llvm.lifetime.end.p0(ptr nonnull %12)
  call void @llvm.lifetime.end.p0(ptr nonnull %13)
  call void @llvm.lifetime.end.p0(ptr nonnull %14)
  call void @llvm.lifetime.end.p0(ptr nonnull %15)
  br label %32

32:                                               ; preds = %18, %2
  %33 = call i32 @__cudaPushCallConfiguration(i64 4294967297, i32 1, i64 4294967297, i32 1, i64 noundef 0, ptr noundef null)
  %34 = icmp eq i32 %33, 0
  br i1 %34, label %35, label %46

35:                                               ; preds = %32
  call void @llvm.lifetime.start.p0(ptr nonnull %3)
  call void @llvm.lifetime.start.p0(ptr nonnull %4)
  call void @llvm.lifetime.start.p0(ptr nonnull %5)
  call void @llvm.lifetime.start.p0(ptr nonnull %6)
  call void @llvm.lifetime.start.p0(ptr nonnull %7)
  %36 = call i32 @__cudaPopCallConfiguration(ptr nonnull %3, ptr nonnull %4, ptr nonnull %5, ptr nonnull %6)
  %37 = load i64, ptr %5, align 8
  %38 = load ptr, ptr %6, align 8
  %39 = load i64, ptr %3, align 8
  %40 = getelementptr inbounds nuw i8, ptr %3, i64 8
  %41 = load i32, ptr %40, align 8
  %42 = load i64, ptr %4, align 8
  %43 = getelementptr inbounds nuw i8, ptr %4, i64 8
  %44 = load i32, ptr %43, align 8
  %45 = call noundef i32 @cudaLaunchKernel(ptr noundef nonnull @_Z17__device_stub__k0v, i64 %39, i32 %41, i64 %42, i32 %44, ptr noundef nonnull %7, i64 noundef %37, ptr noundef %38)
  call void @llvm.lifetime.end.p0(ptr nonnull %3)
  call void @llvm.lifetime.end.p0(ptr nonnull %4)
  call void @llvm.lifetime.end.p0(ptr nonnull %5)
  call void @llvm.lifetime.end.p0(ptr nonnull %6)
  call void @llvm.lifetime.end.p0(ptr nonnull %7)
  br label %46

46:                                               ; preds = %35, %32
  ret void
}

declare i32 @__cudaPushCallConfiguration(i64, i32, i64, i32, i64 noundef, ptr noundef) local_unnamed_addr #5

attributes #0 = { mustprogress norecurse uwtable "min-legal-vector-width"="64" "target-cpu"="x86-64" "target-features"="+cmov,+cx8,+fxsr,+mmx,+sse,+sse2,+x87" "tune-cpu"="generic" "uniform-work-group-size"="true" }
attributes #1 = { mustprogress norecurse uwtable "min-legal-vector-width"="0" "target-cpu"="x86-64" "target-features"="+cmov,+cx8,+fxsr,+mmx,+sse,+sse2,+x87" "tune-cpu"="generic" "uniform-work-group-size"="true" }
attributes #2 = { mustprogress uwtable "min-legal-vector-width"="0" "target-cpu"="x86-64" "target-features"="+cmov,+cx8,+fxsr,+mmx,+sse,+sse2,+x87" "tune-cpu"="generic" }
attributes #3 = { mustprogress nocallback nofree nosync nounwind willreturn memory(argmem: readwrite) }
attributes #4 = { mustprogress uwtable "min-legal-vector-width"="64" "target-cpu"="x86-64" "target-features"="+cmov,+cx8,+fxsr,+mmx,+sse,+sse2,+x87" "tune-cpu"="generic" }
attributes #5 = { "target-cpu"="x86-64" "target-features"="+cmov,+cx8,+fxsr,+mmx,+sse,+sse2,+x87" "tune-cpu"="generic" }
attributes #6 = { nounwind }
