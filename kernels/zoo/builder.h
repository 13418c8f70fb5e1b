/*
 * builder.h - how model definitions (models.c) and tests make plans: a small
 * graph builder over activation views.
 *
 * A view (struct paella__zv) is a channel slice [coff, coff + c) of a storage
 * whose images have ctot channels of h x w; every layer reads views and
 * writes into a view, so a concatenation is a storage that its branches
 * write slice by slice.  Each layer call registers the tensors it needs from
 * the weights file (under the torchvision names it is given), the params it
 * makes of them, and appends its launch.
 *
 * A shape mismatch in a model definition is a bug in this program, not bad
 * input: it aborts.  Out of memory is remembered and reported by
 * paella__zb_finish().
 */
#ifndef PAELLA_ZOO_BUILDER_H
#define PAELLA_ZOO_BUILDER_H

#include "zoo.h"

struct paella__zb;

struct paella__zv {
	int storage;
	int coff, c, ctot;
	int h, w;
};

struct paella__zb *
paella__zb_create(const char *model, const struct paella__zoo_options *opts);

/* The plan, with storages placed; the builder is freed either way. */
enum paella_status
paella__zb_finish(struct paella__zb *b, struct paella__zoo_plan **out);

void
paella__zb_abort(struct paella__zb *b);

int
paella__zb_batch(const struct paella__zb *b);

/* Prefixes of file tensors to ignore (a static array). */
void
paella__zb_ignore(struct paella__zb *b, const char *const *prefixes);

/* The model input, [batch][c][h][w]. */
struct paella__zv
paella__zb_input(struct paella__zb *b, int c, int h, int w);

/* A new storage of @c channels. */
struct paella__zv
paella__zb_new(struct paella__zb *b, const char *name, int c, int h, int w);

/* Channels [coff, coff + c) of @v. */
struct paella__zv
paella__zb_slice(struct paella__zv v, int coff, int c);

/* Marks @v ([batch][classes], contiguous) as the model output. */
void
paella__zb_output(struct paella__zb *b, struct paella__zv v);

struct paella__zb_conv {
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
	enum paella__act act;
	/* Optional: residual added before the activation; the output view
	 * to write (else a new storage); a batch norm + ReLU applied to the
	 * input (DenseNet's norm1), eps pre_eps. */
	const struct paella__zv *res;
	const struct paella__zv *out;
	const char *pre_bn;
	float pre_eps;
};

struct paella__zv
paella__zb_conv(struct paella__zb *b, struct paella__zv x, const struct paella__zb_conv *o);

/* Max or average pooling, PyTorch's output size (ceil_mode included);
 * @out may be NULL (a new storage) or a view to write. */
struct paella__zv
paella__zb_maxpool(struct paella__zb *b, const char *name, struct paella__zv x, int k, int s,
		   int p, bool ceil_mode, const struct paella__zv *out);

struct paella__zv
paella__zb_avgpool(struct paella__zb *b, const char *name, struct paella__zv x, int k, int s,
		   int p, bool ceil_mode, bool count_include_pad, const struct paella__zv *out);

/* Adaptive average pooling to oh x ow; @pre_bn (may be NULL) is a batch
 * norm + ReLU applied first. */
struct paella__zv
paella__zb_adaptive_avgpool(struct paella__zb *b, const char *name, struct paella__zv x,
			    int oh, int ow, const char *pre_bn, float pre_eps);

/* Fully connected: @x's c*h*w features a row; weights "<name>.weight". */
struct paella__zv
paella__zb_linear(struct paella__zb *b, const char *name, struct paella__zv x, int out_features,
		  bool bias, enum paella__act act);

struct paella__zv
paella__zb_softmax(struct paella__zb *b, const char *name, struct paella__zv x);

/* y = act(a + b), both contiguous storages of the same shape. */
struct paella__zv
paella__zb_add(struct paella__zb *b, const char *name, struct paella__zv a, struct paella__zv c,
	       enum paella__act act);

/* PyTorch's pooling output size. */
int
paella__zb_pool_out(int in, int k, int s, int p, bool ceil_mode);

#endif /* PAELLA_ZOO_BUILDER_H */
