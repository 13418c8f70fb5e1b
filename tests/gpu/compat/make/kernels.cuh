/* The kernels' launcher, declared for main.cpp (compiled as CUDA with -x cu). */
#pragma once
void launch_saxpy(float a, const float *x, float *y, int n);
