/*
 * device.c - what the plans need to know of a CUDA device (paella/zoo.h),
 * asked of the driver itself (dlopen, as the runtime opens it): the public
 * API has no call for it, and a plan is made before any runtime exists.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda.h>

#include "zoo-private.h"

typedef CUresult (*init_fn)(unsigned int);
typedef CUresult (*device_get_fn)(CUdevice *, int);
typedef CUresult (*attribute_fn)(int *, CUdevice_attribute, CUdevice);
typedef CUresult (*name_fn)(char *, int, CUdevice);

enum paella_status
paella_zoo_cuda_device(int ordinal, int *num_sms, char *name, size_t name_len)
{
	const char *lib = getenv("PAELLA_LIBCUDA");
	void *h;
	init_fn init;
	device_get_fn get;
	attribute_fn attr;
	name_fn getname;
	CUdevice dev;
	enum paella_status st = PAELLA_STATUS_OK;

	if (num_sms != NULL)
		*num_sms = 0;
	if (name != NULL && name_len > 0)
		name[0] = '\0';
	if (lib == NULL || *lib == '\0')
		lib = "libcuda.so.1";
	h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return pzoo__error_set(PAELLA_STATUS_NO_DEVICE, "no CUDA driver (%s)", lib);
	/* dlsym's void * to function pointers, as POSIX allows. */
	*(void **)&init = dlsym(h, "cuInit");
	*(void **)&get = dlsym(h, "cuDeviceGet");
	*(void **)&attr = dlsym(h, "cuDeviceGetAttribute");
	*(void **)&getname = dlsym(h, "cuDeviceGetName");
	if (init == NULL || get == NULL || attr == NULL || getname == NULL) {
		st = pzoo__error_set(PAELLA_STATUS_NO_DEVICE, "%s is not a CUDA driver", lib);
	} else if (init(0) != CUDA_SUCCESS || get(&dev, ordinal) != CUDA_SUCCESS) {
		st = pzoo__error_set(PAELLA_STATUS_NO_DEVICE, "no CUDA device %d (%s)", ordinal,
				     lib);
	} else if ((num_sms != NULL &&
		    attr(num_sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev) != CUDA_SUCCESS) ||
		   (name != NULL && name_len > 0 &&
		    getname(name, (int)(name_len < 4096 ? name_len : 4096), dev) != CUDA_SUCCESS)) {
		st = pzoo__error_set(PAELLA_STATUS_NO_DEVICE,
				     "CUDA device %d: the driver tells neither its SMs nor its name",
				     ordinal);
	}
	if (name != NULL && name_len > 0)
		name[name_len - 1] = '\0';
	dlclose(h);
	return st;
}
