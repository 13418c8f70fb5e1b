/*
 * builder.h - how model definitions (models.c) and tests make plans: a small
 * graph builder over activation views.
 *
 * A view (struct pzoo__zv) is a channel slice [coff, coff + c) of a storage
 * whose images have ctot channels of h x w; every layer reads views and
 * writes into a view, so a concatenation is a storage that its branches
 * write slice by slice.  Each layer call registers the tensors it needs from
 * the weights file (under the torchvision names it is given), the params it
 * makes of them, and appends its launch.
 *
 * A shape mismatch in a model definition is a bug in this program, not bad
 * input: it aborts.  Out of memory is remembered and reported by
 * pzoo__zb_finish().
 */
#ifndef PAELLA_ZOO_BUILDER_H
#define PAELLA_ZOO_BUILDER_H

#include "zoo-private.h"

struct pzoo__zb;

struct pzoo__zv {
	int storage;
	int coff, c, ctot;
	int h, w;
};

struct pzoo__zb *
pzoo__zb_create(const char *model, const struct paella_zoo_options *opts);

/* The plan, with storages placed; the builder is freed either way. */
enum paella_status
pzoo__zb_finish(struct pzoo__zb *b, struct paella_zoo_plan **out);

void
pzoo__zb_abort(struct pzoo__zb *b);

int
pzoo__zb_batch(const struct pzoo__zb *b);

/* Prefixes of file tensors to ignore (a static array). */
void
pzoo__zb_ignore(struct pzoo__zb *b, const char *const *prefixes);

/* The model input, [batch][c][h][w]. */
struct pzoo__zv
pzoo__zb_input(struct pzoo__zb *b, int c, int h, int w);

/* A new storage of @c channels. */
struct pzoo__zv
pzoo__zb_new(struct pzoo__zb *b, const char *name, int c, int h, int w);

/* Channels [coff, coff + c) of @v. */
struct pzoo__zv
pzoo__zb_slice(struct pzoo__zv v, int coff, int c);

/* Marks @v ([batch][classes], contiguous) as the model output. */
void
pzoo__zb_output(struct pzoo__zb *b, struct pzoo__zv v);

struct pzoo__zb_conv {
	/* Module names: the convolution ("layer1.0.conv1"), its batch norm
	 * ("layer1.0.bn1", NULL for none). */
	const char *conv;
	const char *bn;
	float eps;
	/* The convolution has a bias. */
	bool bias;
	int m;
	int kh, kw;
	int sh, sw;
	int ph, pw;
	int groups;
	enum pzoo__act act;
	/* Optional: residual added before the activation; the output view
	 * to write (else a new storage); a batch norm + ReLU applied to the
	 * input (DenseNet's norm1), eps pre_eps. */
	const struct pzoo__zv *res;
	const struct pzoo__zv *out;
	const char *pre_bn;
	float pre_eps;
};

struct pzoo__zv
pzoo__zb_conv(struct pzoo__zb *b, struct pzoo__zv x, const struct pzoo__zb_conv *o);

/* Max or average pooling, PyTorch's output size (ceil_mode included);
 * @out may be NULL (a new storage) or a view to write. */
struct pzoo__zv
pzoo__zb_maxpool(struct pzoo__zb *b, const char *name, struct pzoo__zv x, int k, int s,
		   int p, bool ceil_mode, const struct pzoo__zv *out);

struct pzoo__zv
pzoo__zb_avgpool(struct pzoo__zb *b, const char *name, struct pzoo__zv x, int k, int s,
		   int p, bool ceil_mode, bool count_include_pad, const struct pzoo__zv *out);

/* Adaptive average pooling to oh x ow; @pre_bn (may be NULL) is a batch
 * norm + ReLU applied first. */
struct pzoo__zv
pzoo__zb_adaptive_avgpool(struct pzoo__zb *b, const char *name, struct pzoo__zv x,
			    int oh, int ow, const char *pre_bn, float pre_eps);

/* Fully connected: @x's c*h*w features a row; weights "<name>.weight". */
struct pzoo__zv
pzoo__zb_linear(struct pzoo__zb *b, const char *name, struct pzoo__zv x, int out_features,
		  bool bias, enum pzoo__act act);

struct pzoo__zv
pzoo__zb_softmax(struct pzoo__zb *b, const char *name, struct pzoo__zv x);

/* y = act(a + b), both contiguous storages of the same shape. */
struct pzoo__zv
pzoo__zb_add(struct pzoo__zb *b, const char *name, struct pzoo__zv a, struct pzoo__zv c,
	       enum pzoo__act act);

/* PyTorch's pooling output size. */
int
pzoo__zb_pool_out(int in, int k, int s, int p, bool ceil_mode);

/* Whether @name is an implicit-GEMM convolution kernel the builder can
 * choose (for paella_zoo_options.force_conv_kernel). */
bool
pzoo__zb_conv_kernel_known(const char *name);

#endif /* PAELLA_ZOO_BUILDER_H */
