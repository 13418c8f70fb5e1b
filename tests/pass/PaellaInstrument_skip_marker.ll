; Proves: a kernel marked __attribute__((annotate("paella_skip"))) and one
; matching -paella-skip=<regex> keep their signature and body, each with a
; remark, and the manifest lists them as uninstrumented with the reason;
; the other kernel is instrumented.
; RUN: %opt -passes=paella-instrument -paella-skip='^regex_' -pass-remarks-missed=paella-instrument -S %s -o - 2>%t.remarks | FileCheck %s
; RUN: FileCheck %s --check-prefix=REMARK < %t.remarks
; RUN: not %opt -passes=paella-instrument -paella-skip='(' -S %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=BADRE

; REMARK-DAG: remark: {{.*}}kernel not_me left uninstrumented: skip-attribute
; REMARK-DAG: remark: {{.*}}kernel regex_me left uninstrumented: skip-regex
; BADRE: bad -paella-skip regex '('
; CHECK: c"paella-manifest 3\0AU not_me 1 skip-attribute\0AK me 1 sample me__paella_plain\0AU regex_me 1 skip-regex\0A\00"
; CHECK-LABEL: define {{.*}}ptx_kernel void @not_me(ptr {{.*}}%0)
; CHECK-SAME: #[[SKIP:[0-9]+]] {
; CHECK-NOT: paella.check
; CHECK-LABEL: define {{.*}}ptx_kernel void @me(ptr {{.*}}%0, ptr addrspace(1) noundef %paella.record)
; CHECK: paella.check:
; CHECK-LABEL: define {{.*}}ptx_kernel void @regex_me(ptr {{.*}}%0)
; CHECK-SAME: {
; CHECK-NOT: paella.check
; CHECK: attributes #[[SKIP]] = { {{.*}}"paella-uninstrumented"="skip-attribute"
target datalayout = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
target triple = "nvptx64-nvidia-cuda"

@.str = private unnamed_addr constant [12 x i8] c"paella_skip\00", section "llvm.metadata"
@.str1 = private unnamed_addr constant [15 x i8] c"skip_marker.cu\00", section "llvm.metadata"
@llvm.global.annotations = appending global [1 x { ptr, ptr, ptr, i32, ptr }] [{ ptr, ptr, ptr, i32, ptr } { ptr @not_me, ptr @.str, ptr @.str1, i32 1, ptr null }], section "llvm.metadata"

define dso_local ptx_kernel void @not_me(ptr noundef writeonly captures(none) initializes((0, 4)) %0) #0 {
  store float 1.000000e+00, ptr %0, align 4
  ret void
}

define dso_local ptx_kernel void @me(ptr noundef writeonly captures(none) initializes((4, 8)) %0) local_unnamed_addr #0 {
  %2 = getelementptr inbounds nuw i8, ptr %0, i64 4
  store float 2.000000e+00, ptr %2, align 4
  ret void
}

define dso_local ptx_kernel void @regex_me(ptr noundef writeonly captures(none) initializes((8, 12)) %0) local_unnamed_addr #0 {
  %2 = getelementptr inbounds nuw i8, ptr %0, i64 8
  store float 3.000000e+00, ptr %2, align 4
  ret void
}

attributes #0 = { mustprogress nofree noinline norecurse nosync nounwind willreturn memory(argmem: write) "target-cpu"="sm_90" "target-features"="+ptx88,+sm_90" "uniform-work-group-size"="true" }
