/*
 * models.c - the eight torchvision classifiers of the original Paella
 * evaluation, layer by layer as torchvision defines them (torchvision 0.26:
 * models/resnet.py, mobilenetv2.py, squeezenet.py, densenet.py,
 * googlenet.py, inception.py), with its state-dict names.  Eval mode:
 * dropout is the identity, batch norms use their running statistics and
 * are folded into the convolution before them (DenseNet's, which come
 * before a convolution, into its input).  GoogLeNet and Inception-v3 are
 * built with transform_input=False and without their auxiliary classifiers.
 */
#include <stdio.h>
#include <string.h>

#include "builder.h"
#include "zoo-private.h"

#define NAME_MAX_ PAELLA_ZOO_NAME_MAX
#define BN_EPS 1e-5f
/* BasicConv2d of GoogLeNet and Inception-v3. */
#define BASIC_EPS 1e-3f

typedef struct pzoo__zv zv;

static zv
conv_bn(struct pzoo__zb *b, zv x, const char *conv, const char *bn, int m, int kh, int kw,
	int s, int ph, int pw, enum pzoo__act act, const zv *res, const zv *out)
{
	struct pzoo__zb_conv o = {
		.conv = conv, .bn = bn, .eps = BN_EPS, .m = m, .kh = kh, .kw = kw,
		.sh = s, .sw = s, .ph = ph, .pw = pw, .groups = 1, .act = act,
		.res = res, .out = out,
	};

	return pzoo__zb_conv(b, x, &o);
}

/* torchvision's BasicConv2d: conv (no bias), BN with eps 0.001, ReLU. */
static zv
basic(struct pzoo__zb *b, zv x, const char *prefix, int m, int kh, int kw, int s, int ph,
      int pw, const zv *out)
{
	char conv[NAME_MAX_], bn[NAME_MAX_];
	struct pzoo__zb_conv o = {
		.conv = conv, .bn = bn, .eps = BASIC_EPS, .m = m, .kh = kh, .kw = kw,
		.sh = s, .sw = s, .ph = ph, .pw = pw, .groups = 1, .act = PZOO__ACT_RELU,
		.out = out,
	};

	snprintf(conv, sizeof(conv), "%s.conv", prefix);
	snprintf(bn, sizeof(bn), "%s.bn", prefix);
	return pzoo__zb_conv(b, x, &o);
}

static zv
head(struct pzoo__zb *b, zv x, const char *pool, const char *fc, int classes)
{
	zv y = pzoo__zb_adaptive_avgpool(b, pool, x, 1, 1, NULL, 0.0f);

	return pzoo__zb_linear(b, fc, y, classes, true, PZOO__ACT_NONE);
}

/* ---- ResNet ------------------------------------------------------------- */

static zv
resnet_basic_block(struct pzoo__zb *b, zv x, const char *name, int planes, int stride)
{
	char c1[NAME_MAX_], b1[NAME_MAX_], c2[NAME_MAX_], b2[NAME_MAX_];
	char dc[NAME_MAX_], db[NAME_MAX_];
	zv identity = x, out;

	snprintf(c1, sizeof(c1), "%s.conv1", name);
	snprintf(b1, sizeof(b1), "%s.bn1", name);
	snprintf(c2, sizeof(c2), "%s.conv2", name);
	snprintf(b2, sizeof(b2), "%s.bn2", name);
	if (stride != 1 || x.c != planes) {
		snprintf(dc, sizeof(dc), "%s.downsample.0", name);
		snprintf(db, sizeof(db), "%s.downsample.1", name);
		identity = conv_bn(b, x, dc, db, planes, 1, 1, stride, 0, 0, PZOO__ACT_NONE,
				   NULL, NULL);
	}
	out = conv_bn(b, x, c1, b1, planes, 3, 3, stride, 1, 1, PZOO__ACT_RELU, NULL, NULL);
	return conv_bn(b, out, c2, b2, planes, 3, 3, 1, 1, 1, PZOO__ACT_RELU, &identity, NULL);
}

static zv
resnet_bottleneck(struct pzoo__zb *b, zv x, const char *name, int planes, int stride)
{
	char c[3][NAME_MAX_], n[3][NAME_MAX_], dc[NAME_MAX_], db[NAME_MAX_];
	zv identity = x, out;

	for (int i = 0; i < 3; i++) {
		snprintf(c[i], sizeof(c[i]), "%s.conv%d", name, i + 1);
		snprintf(n[i], sizeof(n[i]), "%s.bn%d", name, i + 1);
	}
	if (stride != 1 || x.c != planes * 4) {
		snprintf(dc, sizeof(dc), "%s.downsample.0", name);
		snprintf(db, sizeof(db), "%s.downsample.1", name);
		identity = conv_bn(b, x, dc, db, planes * 4, 1, 1, stride, 0, 0, PZOO__ACT_NONE,
				   NULL, NULL);
	}
	/* torchvision's ResNet v1.5: the stride is on the 3x3. */
	out = conv_bn(b, x, c[0], n[0], planes, 1, 1, 1, 0, 0, PZOO__ACT_RELU, NULL, NULL);
	out = conv_bn(b, out, c[1], n[1], planes, 3, 3, stride, 1, 1, PZOO__ACT_RELU, NULL, NULL);
	return conv_bn(b, out, c[2], n[2], planes * 4, 1, 1, 1, 0, 0, PZOO__ACT_RELU, &identity,
		       NULL);
}

static void
resnet(struct pzoo__zb *b, const int blocks[4], bool bottleneck)
{
	static const int planes[4] = { 64, 128, 256, 512 };
	zv x = pzoo__zb_input(b, 3, 224, 224);

	x = conv_bn(b, x, "conv1", "bn1", 64, 7, 7, 2, 3, 3, PZOO__ACT_RELU, NULL, NULL);
	x = pzoo__zb_maxpool(b, "maxpool", x, 3, 2, 1, false, NULL);
	for (int l = 0; l < 4; l++)
		for (int i = 0; i < blocks[l]; i++) {
			char name[NAME_MAX_];
			int stride = (l > 0 && i == 0) ? 2 : 1;

			snprintf(name, sizeof(name), "layer%d.%d", l + 1, i);
			x = bottleneck ? resnet_bottleneck(b, x, name, planes[l], stride)
				       : resnet_basic_block(b, x, name, planes[l], stride);
		}
	pzoo__zb_output(b, head(b, x, "avgpool", "fc", 1000));
}

static void
build_resnet18(struct pzoo__zb *b)
{
	static const int blocks[4] = { 2, 2, 2, 2 };

	resnet(b, blocks, false);
}

static void
build_resnet34(struct pzoo__zb *b)
{
	static const int blocks[4] = { 3, 4, 6, 3 };

	resnet(b, blocks, false);
}

static void
build_resnet50(struct pzoo__zb *b)
{
	static const int blocks[4] = { 3, 4, 6, 3 };

	resnet(b, blocks, true);
}

/* ---- MobileNetV2 -------------------------------------------------------- */

static zv
mbv2_block(struct pzoo__zb *b, zv x, int idx, int oup, int stride, int t)
{
	const int hidden = x.c * t;
	const bool use_res = stride == 1 && x.c == oup;
	char conv[NAME_MAX_], bn[NAME_MAX_];
	int j = 0;
	zv h = x, in = x;

	if (t != 1) {
		snprintf(conv, sizeof(conv), "features.%d.conv.0.0", idx);
		snprintf(bn, sizeof(bn), "features.%d.conv.0.1", idx);
		h = conv_bn(b, h, conv, bn, hidden, 1, 1, 1, 0, 0, PZOO__ACT_RELU6, NULL, NULL);
		j = 1;
	}
	snprintf(conv, sizeof(conv), "features.%d.conv.%d.0", idx, j);
	snprintf(bn, sizeof(bn), "features.%d.conv.%d.1", idx, j);
	{
		struct pzoo__zb_conv o = {
			.conv = conv, .bn = bn, .eps = BN_EPS, .m = hidden, .kh = 3, .kw = 3,
			.sh = stride, .sw = stride, .ph = 1, .pw = 1, .groups = hidden,
			.act = PZOO__ACT_RELU6,
		};

		h = pzoo__zb_conv(b, h, &o);
	}
	snprintf(conv, sizeof(conv), "features.%d.conv.%d", idx, j + 1);
	snprintf(bn, sizeof(bn), "features.%d.conv.%d", idx, j + 2);
	return conv_bn(b, h, conv, bn, oup, 1, 1, 1, 0, 0, PZOO__ACT_NONE,
		       use_res ? &in : NULL, NULL);
}

static void
build_mobilenet_v2(struct pzoo__zb *b)
{
	/* t (expansion), c (channels), n (blocks), s (first stride) */
	static const int settings[7][4] = {
		{ 1, 16, 1, 1 }, { 6, 24, 2, 2 }, { 6, 32, 3, 2 }, { 6, 64, 4, 2 },
		{ 6, 96, 3, 1 }, { 6, 160, 3, 2 }, { 6, 320, 1, 1 },
	};
	zv x = pzoo__zb_input(b, 3, 224, 224);
	int idx = 1;

	x = conv_bn(b, x, "features.0.0", "features.0.1", 32, 3, 3, 2, 1, 1, PZOO__ACT_RELU6,
		    NULL, NULL);
	for (int s = 0; s < 7; s++)
		for (int i = 0; i < settings[s][2]; i++)
			x = mbv2_block(b, x, idx++, settings[s][1], i == 0 ? settings[s][3] : 1,
				       settings[s][0]);
	x = conv_bn(b, x, "features.18.0", "features.18.1", 1280, 1, 1, 1, 0, 0,
		    PZOO__ACT_RELU6, NULL, NULL);
	pzoo__zb_output(b, head(b, x, "avgpool", "classifier.1", 1000));
}

/* ---- SqueezeNet 1.1 ----------------------------------------------------- */

static zv
fire(struct pzoo__zb *b, zv x, int idx, int squeeze, int e1, int e3)
{
	char name[NAME_MAX_], n1[NAME_MAX_], n3[NAME_MAX_], store[NAME_MAX_];
	struct pzoo__zb_conv o = {
		.bias = true, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .groups = 1,
		.act = PZOO__ACT_RELU,
	};
	zv s, out, slice;

	snprintf(name, sizeof(name), "features.%d.squeeze", idx);
	snprintf(n1, sizeof(n1), "features.%d.expand1x1", idx);
	snprintf(n3, sizeof(n3), "features.%d.expand3x3", idx);
	snprintf(store, sizeof(store), "features.%d", idx);
	o.conv = name;
	o.m = squeeze;
	s = pzoo__zb_conv(b, x, &o);

	out = pzoo__zb_new(b, store, e1 + e3, s.h, s.w);
	slice = pzoo__zb_slice(out, 0, e1);
	o.conv = n1;
	o.m = e1;
	o.out = &slice;
	pzoo__zb_conv(b, s, &o);

	slice = pzoo__zb_slice(out, e1, e3);
	o.conv = n3;
	o.m = e3;
	o.kh = o.kw = 3;
	o.ph = o.pw = 1;
	o.out = &slice;
	pzoo__zb_conv(b, s, &o);
	return out;
}

static void
build_squeezenet1_1(struct pzoo__zb *b)
{
	struct pzoo__zb_conv o = {
		.conv = "features.0", .bias = true, .m = 64, .kh = 3, .kw = 3, .sh = 2, .sw = 2,
		.groups = 1, .act = PZOO__ACT_RELU,
	};
	zv x = pzoo__zb_input(b, 3, 224, 224);

	x = pzoo__zb_conv(b, x, &o);
	x = pzoo__zb_maxpool(b, "features.2", x, 3, 2, 0, true, NULL);
	x = fire(b, x, 3, 16, 64, 64);
	x = fire(b, x, 4, 16, 64, 64);
	x = pzoo__zb_maxpool(b, "features.5", x, 3, 2, 0, true, NULL);
	x = fire(b, x, 6, 32, 128, 128);
	x = fire(b, x, 7, 32, 128, 128);
	x = pzoo__zb_maxpool(b, "features.8", x, 3, 2, 0, true, NULL);
	x = fire(b, x, 9, 48, 192, 192);
	x = fire(b, x, 10, 48, 192, 192);
	x = fire(b, x, 11, 64, 256, 256);
	x = fire(b, x, 12, 64, 256, 256);
	/* classifier: Dropout, final_conv, ReLU, AdaptiveAvgPool2d(1). */
	o.conv = "classifier.1";
	o.m = 1000;
	o.kh = o.kw = 1;
	o.sh = o.sw = 1;
	x = pzoo__zb_conv(b, x, &o);
	pzoo__zb_output(b, pzoo__zb_adaptive_avgpool(b, "classifier.3", x, 1, 1, NULL, 0.0f));
}

/* ---- DenseNet-121 ------------------------------------------------------- */

/*
 * Each dense block is one storage of its final channel count: the block's
 * input is written into its first channels (by the pool before it), and
 * each layer reads the channels so far and writes its 32 new ones after
 * them, which is torch.cat without a copy.  A layer is norm1-relu1-conv1
 * (norm1 applied as the convolution's input prologue, norm2 folded into
 * conv1 with relu2 as its epilogue), then conv2 into the block's slice.
 */
static void
build_densenet121(struct pzoo__zb *b)
{
	static const int config[4] = { 6, 12, 24, 16 };
	const int growth = 32, bn_size = 4;
	zv x = pzoo__zb_input(b, 3, 224, 224);
	int c = 64;

	x = conv_bn(b, x, "features.conv0", "features.norm0", 64, 7, 7, 2, 3, 3, PZOO__ACT_RELU,
		    NULL, NULL);
	for (int blk = 0; blk < 4; blk++) {
		char name[NAME_MAX_];
		const int h = pzoo__zb_pool_out(x.h, blk == 0 ? 3 : 2, 2, blk == 0 ? 1 : 0, false);
		const int w = pzoo__zb_pool_out(x.w, blk == 0 ? 3 : 2, 2, blk == 0 ? 1 : 0, false);
		const int cend = (c = blk == 0 ? c : x.c / 2) + config[blk] * growth;
		zv block, head_slice;

		snprintf(name, sizeof(name), "features.denseblock%d", blk + 1);
		block = pzoo__zb_new(b, name, cend, h, w);
		head_slice = pzoo__zb_slice(block, 0, c);
		if (blk == 0) {
			pzoo__zb_maxpool(b, "features.pool0", x, 3, 2, 1, false, &head_slice);
		} else {
			char tname[NAME_MAX_], tconv[NAME_MAX_], tnorm[NAME_MAX_];
			struct pzoo__zb_conv o = {
				.conv = tconv, .m = x.c / 2, .kh = 1, .kw = 1, .sh = 1, .sw = 1,
				.groups = 1, .act = PZOO__ACT_NONE, .pre_bn = tnorm,
				.pre_eps = BN_EPS,
			};
			zv t;

			snprintf(tname, sizeof(tname), "features.transition%d.pool", blk);
			snprintf(tconv, sizeof(tconv), "features.transition%d.conv", blk);
			snprintf(tnorm, sizeof(tnorm), "features.transition%d.norm", blk);
			t = pzoo__zb_conv(b, x, &o);
			pzoo__zb_avgpool(b, tname, t, 2, 2, 0, false, true, &head_slice);
		}
		for (int l = 0; l < config[blk]; l++) {
			char pre[NAME_MAX_], c1[NAME_MAX_], n2[NAME_MAX_], c2[NAME_MAX_];
			struct pzoo__zb_conv o1 = {
				.conv = c1, .bn = n2, .eps = BN_EPS, .m = bn_size * growth,
				.kh = 1, .kw = 1, .sh = 1, .sw = 1, .groups = 1,
				.act = PZOO__ACT_RELU, .pre_bn = pre, .pre_eps = BN_EPS,
			};
			zv in = pzoo__zb_slice(block, 0, c), mid, out;

			snprintf(pre, sizeof(pre), "%s.denselayer%d.norm1", name, l + 1);
			snprintf(c1, sizeof(c1), "%s.denselayer%d.conv1", name, l + 1);
			snprintf(n2, sizeof(n2), "%s.denselayer%d.norm2", name, l + 1);
			snprintf(c2, sizeof(c2), "%s.denselayer%d.conv2", name, l + 1);
			mid = pzoo__zb_conv(b, in, &o1);
			out = pzoo__zb_slice(block, c, growth);
			conv_bn(b, mid, c2, NULL, growth, 3, 3, 1, 1, 1, PZOO__ACT_NONE, NULL, &out);
			c += growth;
		}
		x = block;
	}
	/* norm5, then F.relu and the pooling: one launch. */
	x = pzoo__zb_adaptive_avgpool(b, "avgpool", x, 1, 1, "features.norm5", BN_EPS);
	pzoo__zb_output(b, pzoo__zb_linear(b, "classifier", x, 1000, true, PZOO__ACT_NONE));
}

/* ---- GoogLeNet ---------------------------------------------------------- */

static zv
googlenet_inception(struct pzoo__zb *b, zv x, const char *name, int ch1, int ch3r, int ch3,
		    int ch5r, int ch5, int pool_proj)
{
	char n[NAME_MAX_];
	zv out = pzoo__zb_new(b, name, ch1 + ch3 + ch5 + pool_proj, x.h, x.w);
	zv s, t;

	s = pzoo__zb_slice(out, 0, ch1);
	snprintf(n, sizeof(n), "%s.branch1", name);
	basic(b, x, n, ch1, 1, 1, 1, 0, 0, &s);

	snprintf(n, sizeof(n), "%s.branch2.0", name);
	t = basic(b, x, n, ch3r, 1, 1, 1, 0, 0, NULL);
	s = pzoo__zb_slice(out, ch1, ch3);
	snprintf(n, sizeof(n), "%s.branch2.1", name);
	basic(b, t, n, ch3, 3, 3, 1, 1, 1, &s);

	/* torchvision's "5x5" branch has a 3x3 kernel (a known quirk kept
	 * for its pretrained weights). */
	snprintf(n, sizeof(n), "%s.branch3.0", name);
	t = basic(b, x, n, ch5r, 1, 1, 1, 0, 0, NULL);
	s = pzoo__zb_slice(out, ch1 + ch3, ch5);
	snprintf(n, sizeof(n), "%s.branch3.1", name);
	basic(b, t, n, ch5, 3, 3, 1, 1, 1, &s);

	snprintf(n, sizeof(n), "%s.branch4.0", name);
	t = pzoo__zb_maxpool(b, n, x, 3, 1, 1, true, NULL);
	s = pzoo__zb_slice(out, ch1 + ch3 + ch5, pool_proj);
	snprintf(n, sizeof(n), "%s.branch4.1", name);
	basic(b, t, n, pool_proj, 1, 1, 1, 0, 0, &s);
	return out;
}

static const char *const googlenet_ignore[] = { "aux1.", "aux2.", NULL };

static void
build_googlenet(struct pzoo__zb *b)
{
	zv x = pzoo__zb_input(b, 3, 224, 224);

	pzoo__zb_ignore(b, googlenet_ignore);
	x = basic(b, x, "conv1", 64, 7, 7, 2, 3, 3, NULL);
	x = pzoo__zb_maxpool(b, "maxpool1", x, 3, 2, 0, true, NULL);
	x = basic(b, x, "conv2", 64, 1, 1, 1, 0, 0, NULL);
	x = basic(b, x, "conv3", 192, 3, 3, 1, 1, 1, NULL);
	x = pzoo__zb_maxpool(b, "maxpool2", x, 3, 2, 0, true, NULL);
	x = googlenet_inception(b, x, "inception3a", 64, 96, 128, 16, 32, 32);
	x = googlenet_inception(b, x, "inception3b", 128, 128, 192, 32, 96, 64);
	x = pzoo__zb_maxpool(b, "maxpool3", x, 3, 2, 0, true, NULL);
	x = googlenet_inception(b, x, "inception4a", 192, 96, 208, 16, 48, 64);
	x = googlenet_inception(b, x, "inception4b", 160, 112, 224, 24, 64, 64);
	x = googlenet_inception(b, x, "inception4c", 128, 128, 256, 24, 64, 64);
	x = googlenet_inception(b, x, "inception4d", 112, 144, 288, 32, 64, 64);
	x = googlenet_inception(b, x, "inception4e", 256, 160, 320, 32, 128, 128);
	x = pzoo__zb_maxpool(b, "maxpool4", x, 2, 2, 0, true, NULL);
	x = googlenet_inception(b, x, "inception5a", 256, 160, 320, 32, 128, 128);
	x = googlenet_inception(b, x, "inception5b", 384, 192, 384, 48, 128, 128);
	pzoo__zb_output(b, head(b, x, "avgpool", "fc", 1000));
}

/* ---- Inception-v3 ------------------------------------------------------- */

/* A BasicConv2d named "<block>.<sub>". */
static zv
bc(struct pzoo__zb *b, zv x, const char *block, const char *sub, int m, int kh, int kw, int s,
   int ph, int pw, const zv *out)
{
	char n[NAME_MAX_];

	snprintf(n, sizeof(n), "%s.%s", block, sub);
	return basic(b, x, n, m, kh, kw, s, ph, pw, out);
}

/* F.avg_pool2d(x, 3, stride=1, padding=1) (count_include_pad) and a 1x1
 * BasicConv2d "<block>.branch_pool" into @out. */
static void
pool_branch(struct pzoo__zb *b, zv x, const char *block, int m, const zv *out)
{
	char n[NAME_MAX_];
	zv t;

	snprintf(n, sizeof(n), "%s.avg_pool", block);
	t = pzoo__zb_avgpool(b, n, x, 3, 1, 1, false, true, NULL);
	bc(b, t, block, "branch_pool", m, 1, 1, 1, 0, 0, out);
}

/* F.max_pool2d(x, kernel_size=3, stride=2) of a reduction block into @out. */
static void
max_pool_branch(struct pzoo__zb *b, zv x, const char *block, const zv *out)
{
	char n[NAME_MAX_];

	snprintf(n, sizeof(n), "%s.max_pool", block);
	pzoo__zb_maxpool(b, n, x, 3, 2, 0, false, out);
}

static zv
inception_a(struct pzoo__zb *b, zv x, const char *name, int pool_features)
{
	zv out = pzoo__zb_new(b, name, 224 + pool_features, x.h, x.w);
	zv s, t;

	s = pzoo__zb_slice(out, 0, 64);
	bc(b, x, name, "branch1x1", 64, 1, 1, 1, 0, 0, &s);
	t = bc(b, x, name, "branch5x5_1", 48, 1, 1, 1, 0, 0, NULL);
	s = pzoo__zb_slice(out, 64, 64);
	bc(b, t, name, "branch5x5_2", 64, 5, 5, 1, 2, 2, &s);
	t = bc(b, x, name, "branch3x3dbl_1", 64, 1, 1, 1, 0, 0, NULL);
	t = bc(b, t, name, "branch3x3dbl_2", 96, 3, 3, 1, 1, 1, NULL);
	s = pzoo__zb_slice(out, 128, 96);
	bc(b, t, name, "branch3x3dbl_3", 96, 3, 3, 1, 1, 1, &s);
	s = pzoo__zb_slice(out, 224, pool_features);
	pool_branch(b, x, name, pool_features, &s);
	return out;
}

static zv
inception_b(struct pzoo__zb *b, zv x, const char *name)
{
	const int h = (x.h - 3) / 2 + 1, w = (x.w - 3) / 2 + 1;
	zv out = pzoo__zb_new(b, name, 384 + 96 + x.c, h, w);
	zv s, t;

	s = pzoo__zb_slice(out, 0, 384);
	bc(b, x, name, "branch3x3", 384, 3, 3, 2, 0, 0, &s);
	t = bc(b, x, name, "branch3x3dbl_1", 64, 1, 1, 1, 0, 0, NULL);
	t = bc(b, t, name, "branch3x3dbl_2", 96, 3, 3, 1, 1, 1, NULL);
	s = pzoo__zb_slice(out, 384, 96);
	bc(b, t, name, "branch3x3dbl_3", 96, 3, 3, 2, 0, 0, &s);
	s = pzoo__zb_slice(out, 480, x.c);
	max_pool_branch(b, x, name, &s);
	return out;
}

static zv
inception_c(struct pzoo__zb *b, zv x, const char *name, int c7)
{
	zv out = pzoo__zb_new(b, name, 768, x.h, x.w);
	zv s, t;

	s = pzoo__zb_slice(out, 0, 192);
	bc(b, x, name, "branch1x1", 192, 1, 1, 1, 0, 0, &s);
	t = bc(b, x, name, "branch7x7_1", c7, 1, 1, 1, 0, 0, NULL);
	t = bc(b, t, name, "branch7x7_2", c7, 1, 7, 1, 0, 3, NULL);
	s = pzoo__zb_slice(out, 192, 192);
	bc(b, t, name, "branch7x7_3", 192, 7, 1, 1, 3, 0, &s);
	t = bc(b, x, name, "branch7x7dbl_1", c7, 1, 1, 1, 0, 0, NULL);
	t = bc(b, t, name, "branch7x7dbl_2", c7, 7, 1, 1, 3, 0, NULL);
	t = bc(b, t, name, "branch7x7dbl_3", c7, 1, 7, 1, 0, 3, NULL);
	t = bc(b, t, name, "branch7x7dbl_4", c7, 7, 1, 1, 3, 0, NULL);
	s = pzoo__zb_slice(out, 384, 192);
	bc(b, t, name, "branch7x7dbl_5", 192, 1, 7, 1, 0, 3, &s);
	s = pzoo__zb_slice(out, 576, 192);
	pool_branch(b, x, name, 192, &s);
	return out;
}

static zv
inception_d(struct pzoo__zb *b, zv x, const char *name)
{
	const int h = (x.h - 3) / 2 + 1, w = (x.w - 3) / 2 + 1;
	zv out = pzoo__zb_new(b, name, 320 + 192 + x.c, h, w);
	zv s, t;

	t = bc(b, x, name, "branch3x3_1", 192, 1, 1, 1, 0, 0, NULL);
	s = pzoo__zb_slice(out, 0, 320);
	bc(b, t, name, "branch3x3_2", 320, 3, 3, 2, 0, 0, &s);
	t = bc(b, x, name, "branch7x7x3_1", 192, 1, 1, 1, 0, 0, NULL);
	t = bc(b, t, name, "branch7x7x3_2", 192, 1, 7, 1, 0, 3, NULL);
	t = bc(b, t, name, "branch7x7x3_3", 192, 7, 1, 1, 3, 0, NULL);
	s = pzoo__zb_slice(out, 320, 192);
	bc(b, t, name, "branch7x7x3_4", 192, 3, 3, 2, 0, 0, &s);
	s = pzoo__zb_slice(out, 512, x.c);
	max_pool_branch(b, x, name, &s);
	return out;
}

static zv
inception_e(struct pzoo__zb *b, zv x, const char *name)
{
	zv out = pzoo__zb_new(b, name, 2048, x.h, x.w);
	zv s, t;

	s = pzoo__zb_slice(out, 0, 320);
	bc(b, x, name, "branch1x1", 320, 1, 1, 1, 0, 0, &s);
	t = bc(b, x, name, "branch3x3_1", 384, 1, 1, 1, 0, 0, NULL);
	s = pzoo__zb_slice(out, 320, 384);
	bc(b, t, name, "branch3x3_2a", 384, 1, 3, 1, 0, 1, &s);
	s = pzoo__zb_slice(out, 704, 384);
	bc(b, t, name, "branch3x3_2b", 384, 3, 1, 1, 1, 0, &s);
	t = bc(b, x, name, "branch3x3dbl_1", 448, 1, 1, 1, 0, 0, NULL);
	t = bc(b, t, name, "branch3x3dbl_2", 384, 3, 3, 1, 1, 1, NULL);
	s = pzoo__zb_slice(out, 1088, 384);
	bc(b, t, name, "branch3x3dbl_3a", 384, 1, 3, 1, 0, 1, &s);
	s = pzoo__zb_slice(out, 1472, 384);
	bc(b, t, name, "branch3x3dbl_3b", 384, 3, 1, 1, 1, 0, &s);
	s = pzoo__zb_slice(out, 1856, 192);
	pool_branch(b, x, name, 192, &s);
	return out;
}

static const char *const inception_ignore[] = { "AuxLogits.", NULL };

static void
build_inception_v3(struct pzoo__zb *b)
{
	zv x = pzoo__zb_input(b, 3, 299, 299);

	pzoo__zb_ignore(b, inception_ignore);
	x = basic(b, x, "Conv2d_1a_3x3", 32, 3, 3, 2, 0, 0, NULL);
	x = basic(b, x, "Conv2d_2a_3x3", 32, 3, 3, 1, 0, 0, NULL);
	x = basic(b, x, "Conv2d_2b_3x3", 64, 3, 3, 1, 1, 1, NULL);
	x = pzoo__zb_maxpool(b, "maxpool1", x, 3, 2, 0, false, NULL);
	x = basic(b, x, "Conv2d_3b_1x1", 80, 1, 1, 1, 0, 0, NULL);
	x = basic(b, x, "Conv2d_4a_3x3", 192, 3, 3, 1, 0, 0, NULL);
	x = pzoo__zb_maxpool(b, "maxpool2", x, 3, 2, 0, false, NULL);
	x = inception_a(b, x, "Mixed_5b", 32);
	x = inception_a(b, x, "Mixed_5c", 64);
	x = inception_a(b, x, "Mixed_5d", 64);
	x = inception_b(b, x, "Mixed_6a");
	x = inception_c(b, x, "Mixed_6b", 128);
	x = inception_c(b, x, "Mixed_6c", 160);
	x = inception_c(b, x, "Mixed_6d", 160);
	x = inception_c(b, x, "Mixed_6e", 192);
	x = inception_d(b, x, "Mixed_7a");
	x = inception_e(b, x, "Mixed_7b");
	x = inception_e(b, x, "Mixed_7c");
	pzoo__zb_output(b, head(b, x, "avgpool", "fc", 1000));
}

/* ---- the registry ------------------------------------------------------- */

struct model {
	struct paella_zoo_model_info info;
	void (*build)(struct pzoo__zb *b);
};

/* In the original evaluation's order of request share (DESIGN.md, serving workload). */
static const struct model models[] = {
	{ { "resnet18", "ResNet-18 (basic blocks 2-2-2-2)", 224, 224 }, build_resnet18 },
	{ { "mobilenet_v2", "MobileNetV2 (inverted residuals, depthwise)", 224, 224 },
	  build_mobilenet_v2 },
	{ { "resnet34", "ResNet-34 (basic blocks 3-4-6-3)", 224, 224 }, build_resnet34 },
	{ { "squeezenet1_1", "SqueezeNet 1.1 (fire modules)", 224, 224 }, build_squeezenet1_1 },
	{ { "resnet50", "ResNet-50 (bottlenecks 3-4-6-3, v1.5)", 224, 224 }, build_resnet50 },
	{ { "densenet121", "DenseNet-121 (growth 32, blocks 6-12-24-16)", 224, 224 },
	  build_densenet121 },
	{ { "googlenet", "GoogLeNet (Inception v1, no aux)", 224, 224 }, build_googlenet },
	{ { "inception_v3", "Inception-v3 (299x299, no aux)", 299, 299 }, build_inception_v3 },
};

unsigned
paella_zoo_model_count(void)
{
	return PZOO__ARRAY_SIZE(models);
}

const struct paella_zoo_model_info *
paella_zoo_model_at(unsigned i)
{
	return i < PZOO__ARRAY_SIZE(models) ? &models[i].info : NULL;
}

enum paella_status
paella_zoo_build(const char *name, const struct paella_zoo_options *opts,
		  struct paella_zoo_plan **out)
{
	struct pzoo__zb *b;
	char shown[64];

	if (out == NULL || name == NULL)
		return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				       "paella_zoo_build: needs a model name and a place for the plan");
	*out = NULL;
	if (opts != NULL) {
		if (opts->batch < 0 || opts->batch > PAELLA_ZOO_MAX_BATCH)
			return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: batch %d: 1 to %d images per run", name, opts->batch,
				PAELLA_ZOO_MAX_BATCH);
		if (opts->num_sms < 0 || opts->num_sms > PAELLA_ZOO_MAX_SMS)
			return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: %d multiprocessors: 1 to %d", name, opts->num_sms,
				PAELLA_ZOO_MAX_SMS);
		if (opts->force_splits < 0 || opts->force_splits > PAELLA_ZOO_MAX_SPLITS)
			return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: %d split-K slices: 1 to %d", name, opts->force_splits,
				PAELLA_ZOO_MAX_SPLITS);
		if (opts->force_conv_kernel != NULL &&
		    !pzoo__zb_conv_kernel_known(opts->force_conv_kernel))
			return pzoo__error_set(PAELLA_STATUS_INVALID_ARGUMENT,
				"%s: no convolution kernel '%s'", name,
				pzoo__escape(opts->force_conv_kernel, shown, sizeof(shown)));
	}
	for (unsigned i = 0; i < PZOO__ARRAY_SIZE(models); i++) {
		if (strcmp(models[i].info.name, name) != 0)
			continue;
		b = pzoo__zb_create(name, opts);
		if (b == NULL)
			return pzoo__error_set(PAELLA_STATUS_NO_MEMORY,
						 "building %s: out of memory", name);
		models[i].build(b);
		return pzoo__zb_finish(b, out);
	}
	return pzoo__error_set(PAELLA_STATUS_NOT_FOUND,
		"no model '%s' (known: resnet18, resnet34, resnet50, mobilenet_v2, "
		"squeezenet1_1, densenet121, googlenet, inception_v3)",
		pzoo__escape(name, shown, sizeof(shown)));
}
