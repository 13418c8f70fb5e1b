#!/usr/bin/env python3
"""report-variants: PTX variants of the sample report, to measure what each
part of it costs (benchmarks/results/overhead.md, "Tried and rejected").

    report-variants.py KERNEL.ptx ENTRY VARIANT OUT.ptx [MOVE_BEFORE]

KERNEL.ptx is paella-cc's sample-mode output (build/kernels/<k>.ptx); the
report is found as the code from thread 0's first tid.x read to its
st.relaxed.sys store, and replaced by VARIANT:

  none      no report at all (the record parameter stays): the floor
  div       thread 0 diverges and tests only the record's tag (never true)
  txlate    tid.x first; tid.y, tid.z and the block in thread 0 alone
  short     tid.x first, then the block by ctaid.x alone (1D grids only)
  uni       the block's test first in every thread, then thread 0
  uni1d     the same by ctaid.x alone
  uniq      a uniform test of the tag first, then thread 0
  uw, uwl   a uniform block test (ctaid.x alone / linear id) kept apart
            from thread 0's test by bar.warp.sync
  lastexit  at the exit, by the first thread of the block's last warp
  moved     the report as it is, moved before the line MOVE_BEFORE

Assemble OUT.ptx with ptxas -arch=sm_90 into a copy of build/kernels and
run build/benchmarks/overhead --images THAT_COPY --no-plain.  A tool for
experiments: it edits the text that the pass emits today and says so when
it does not find it.
"""
import re, sys

def split_entry(ptx, name):
    m = re.search(r'\.visible \.entry %s\(' % re.escape(name), ptx)
    if m is None:
        raise SystemExit('report-variants: no entry %s in this PTX' % name)
    start = m.start()
    end = ptx.index('\n}\n', start) + 3
    return ptx[:start], ptx[start:end], ptx[end:]

def find_report(body):
    lines = body.split('\n')
    # first inline asm reading tid.x
    hits = [i for i, l in enumerate(lines) if re.search(r'mov\.u32 %r\d+, %tid\.x;', l)]
    if not hits or not any('st.relaxed.sys' in l for l in lines):
        raise SystemExit('report-variants: no sample report found in this entry '
                         '(expected paella-cc sample-mode PTX)')
    i0 = hits[0] - 1
    assert '// begin inline asm' in lines[i0]
    i1 = next(i for i, l in enumerate(lines) if 'st.relaxed.sys' in l)
    lab = lines[i1 + 1].strip().rstrip(':')
    assert lab.startswith('$L__'), lab
    return lines, i0, i1, lab

def param_record(body, name):
    ps = re.findall(r'\.param \.u64 \.ptr \.global \.align 1 (%s_param_\d+)' % re.escape(name), body)
    if not ps:
        raise SystemExit('report-variants: %s has no launch-record parameter '
                         '(expected paella-cc sample-mode PTX)' % name)
    return ps[-1]

DECL = '\t.reg .pred \t%vp<8>;\n\t.reg .b32 \t%vr<32>;\n\t.reg .b64 \t%vrd<16>;\n'

def tail_and_store(P, skip, blk='%vr7', tag='%vr0', tag64='%vrd1', rec='%vrd0'):
    return f"""	mov.u32 	%vr10, %nctaid.x;
	mov.u32 	%vr11, %nctaid.y;
	mov.u32 	%vr12, %nctaid.z;
	mul.wide.u32 	%vrd2, %vr10, %vr11;
	cvt.u64.u32 	%vrd3, %vr12;
	mul.lo.s64 	%vrd4, %vrd2, %vrd3;
	cvt.u64.u32 	%vrd5, {blk};
	mov.b64 	%vrd6, 4;
	shl.b64 	%vrd7, %vrd6, {tag};
	add.s64 	%vrd8, %vrd5, %vrd7;
	setp.ge.u64 	%vp3, %vrd8, %vrd4;
	@%vp3 bra 	{skip};
	sub.s64 	%vrd9, {rec}, {tag64};
	add.s32 	%vr13, {blk}, 1;
	ld.global.nc.b64 	%vrd10, [%vrd9+16];
	st.relaxed.sys.global.b32 	[%vrd10], %vr13;
"""

def block_id(P):
    return f"""	ld.param.b64 	%vrd0, [{P}];
	and.b64 	%vrd1, %vrd0, 31;
	cvt.u32.u64 	%vr0, %vrd1;
	mov.u32 	%vr1, %ctaid.x;
	mov.u32 	%vr2, %ctaid.y;
	mov.u32 	%vr3, %ctaid.z;
	mov.u32 	%vr4, %nctaid.x;
	mov.u32 	%vr5, %nctaid.y;
	mad.lo.s32 	%vr6, %vr5, %vr3, %vr2;
	mad.lo.s32 	%vr7, %vr4, %vr6, %vr1;
	mov.b32 	%vr8, 1;
	shl.b32 	%vr8, %vr8, %vr0;
	add.s32 	%vr8, %vr8, -1;
	and.b32 	%vr9, %vr7, %vr8;
"""

def report_uni(P, skip):
    return block_id(P) + f"""	setp.ne.b32 	%vp0, %vr9, %vr8;
	@%vp0 bra.uni 	{skip};
	mov.u32 	%vr14, %tid.x;
	mov.u32 	%vr15, %tid.y;
	mov.u32 	%vr16, %tid.z;
	or.b32 	%vr17, %vr14, %vr15;
	or.b32 	%vr17, %vr17, %vr16;
	setp.ne.b32 	%vp1, %vr17, 0;
	@%vp1 bra 	{skip};
""" + tail_and_store(P, skip)

def report_txlate(P, skip):
    return f"""	mov.u32 	%vr14, %tid.x;
	setp.ne.b32 	%vp1, %vr14, 0;
	@%vp1 bra 	{skip};
""" + block_id(P) + f"""	mov.u32 	%vr15, %tid.y;
	mov.u32 	%vr16, %tid.z;
	or.b32 	%vr17, %vr15, %vr16;
	setp.ne.b32 	%vp0, %vr9, %vr8;
	setp.ne.or.b32 	%vp0, %vr17, 0, %vp0;
	@%vp0 bra 	{skip};
""" + tail_and_store(P, skip)

def mask1d(P):
    return f"""	ld.param.b64 	%vrd0, [{P}];
	and.b64 	%vrd1, %vrd0, 31;
	cvt.u32.u64 	%vr0, %vrd1;
	mov.u32 	%vr1, %ctaid.x;
	mov.b32 	%vr8, 1;
	shl.b32 	%vr8, %vr8, %vr0;
	add.s32 	%vr8, %vr8, -1;
	and.b32 	%vr9, %vr1, %vr8;
	setp.ne.b32 	%vp0, %vr9, %vr8;
"""

def linear_rest(P):
    return f"""	mov.u32 	%vr2, %ctaid.y;
	mov.u32 	%vr3, %ctaid.z;
	mov.u32 	%vr4, %nctaid.x;
	mov.u32 	%vr5, %nctaid.y;
	mad.lo.s32 	%vr6, %vr5, %vr3, %vr2;
	mad.lo.s32 	%vr7, %vr4, %vr6, %vr1;
"""

def report_short(P, skip):
    return f"""	mov.u32 	%vr14, %tid.x;
	setp.ne.b32 	%vp1, %vr14, 0;
	@%vp1 bra 	{skip};
""" + mask1d(P) + f"""	@%vp0 bra 	{skip};
	mov.u32 	%vr15, %tid.y;
	mov.u32 	%vr16, %tid.z;
	or.b32 	%vr17, %vr15, %vr16;
	setp.ne.b32 	%vp2, %vr17, 0;
	@%vp2 bra 	{skip};
""" + linear_rest(P) + tail_and_store(P, skip)

def report_uni1d(P, skip):
    return mask1d(P) + f"""	@%vp0 bra.uni 	{skip};
	mov.u32 	%vr14, %tid.x;
	mov.u32 	%vr15, %tid.y;
	mov.u32 	%vr16, %tid.z;
	or.b32 	%vr17, %vr15, %vr16;
	or.b32 	%vr17, %vr17, %vr14;
	setp.ne.b32 	%vp2, %vr17, 0;
	@%vp2 bra 	{skip};
""" + linear_rest(P) + tail_and_store(P, skip)

def report_lastexit(P, skip):
    return f"""	mov.u32 	%vr14, %tid.x;
	mov.u32 	%vr15, %tid.y;
	mov.u32 	%vr16, %tid.z;
	mov.u32 	%vr18, %ntid.x;
	mov.u32 	%vr19, %ntid.y;
	mov.u32 	%vr20, %ntid.z;
	mad.lo.s32 	%vr21, %vr19, %vr16, %vr15;
	mad.lo.s32 	%vr21, %vr18, %vr21, %vr14;
	mul.lo.s32 	%vr22, %vr18, %vr19;
	mul.lo.s32 	%vr22, %vr22, %vr20;
	add.s32 	%vr22, %vr22, -1;
	and.b32 	%vr22, %vr22, -32;
	setp.ne.b32 	%vp1, %vr21, %vr22;
	@%vp1 bra 	{skip};
""" + block_id(P) + f"""	setp.ne.b32 	%vp0, %vr9, %vr8;
	@%vp0 bra 	{skip};
""" + tail_and_store(P, skip)

def make(ptx, name, variant, move_before=None):
    pre, body, post = split_entry(ptx, name)
    P = param_record(body, name)
    lines, i0, i1, lab = find_report(body)
    report = '\n'.join(lines[i0:i1 + 1]) + '\n'
    rest = lines[:i0] + lines[i1 + 1:]
    body = '\n'.join(rest)
    skip = '$L__VSKIP'
    if variant == 'none':
        new = ''
    elif variant == 'uni':
        new = report_uni(P, skip) + skip + ':\n'
    elif variant == 'txlate':
        new = report_txlate(P, skip) + skip + ':\n'
    elif variant == 'moved':
        new = report.replace(lab, skip) + skip + ':\n'
    elif variant == 'lastexit':
        body = body.replace('\tret;', report_lastexit(P, '$L__VSKIP') + '$L__VSKIP:\n\tret;')
        assert body.count('$L__VSKIP:') == 1, 'one ret expected'
        b = body.index('{\n') + 2
        body = body[:b] + DECL + body[b:]
        return pre + body + post
    elif variant == 'div':
        new = f"""	mov.u32 	%vr14, %tid.x;
	setp.ne.b32 	%vp1, %vr14, 0;
	@%vp1 bra 	{skip};
	ld.param.b64 	%vrd0, [{P}];
	and.b64 	%vrd1, %vrd0, 31;
	setp.ne.b64 	%vp0, %vrd1, 31;
	@%vp0 bra 	{skip};
	mov.u32 	%vr7, %ctaid.x;
""" + tail_and_store(P, skip) + skip + ':\n'
    elif variant == 'uniq':
        new = f"""	ld.param.b64 	%vrd0, [{P}];
	and.b64 	%vrd1, %vrd0, 31;
	setp.ne.b64 	%vp0, %vrd1, 31;
	@%vp0 bra.uni 	{skip};
	mov.u32 	%vr14, %tid.x;
	setp.ne.b32 	%vp1, %vr14, 0;
	@%vp1 bra 	{skip};
	mov.u32 	%vr7, %ctaid.x;
	cvt.u32.u64 	%vr0, %vrd1;
""" + tail_and_store(P, skip) + skip + ':\n'
    elif variant in ('uw', 'uwl'):
        test = mask1d(P) if variant == 'uw' else block_id(P) + '\tsetp.ne.b32 \t%vp0, %vr9, %vr8;\n'
        rest = linear_rest(P) if variant == 'uw' else ''
        new = test + f"""	@%vp0 bra.uni 	{skip};
	bar.warp.sync 	-1;
	mov.u32 	%vr14, %tid.x;
	mov.u32 	%vr15, %tid.y;
	mov.u32 	%vr16, %tid.z;
	or.b32 	%vr17, %vr15, %vr16;
	or.b32 	%vr17, %vr17, %vr14;
	setp.ne.b32 	%vp2, %vr17, 0;
	@%vp2 bra 	{skip};
""" + rest + tail_and_store(P, skip) + skip + ':\n'
    elif variant == 'short':
        new = report_short(P, skip) + skip + ':\n'
    elif variant == 'uni1d':
        new = report_uni1d(P, skip) + skip + ':\n'
    else:
        raise SystemExit('variant?')
    if move_before:
        idx = body.index(move_before)
        idx = body.rindex('\n', 0, idx) + 1
    else:
        # where the report was: just before the skip label line
        idx = body.index(lab + ':')
    body = body[:idx] + new + body[idx:]
    # declarations after the function's opening brace
    b = body.index('{\n') + 2
    body = body[:b] + DECL + body[b:]
    return pre + body + post

if __name__ == '__main__':
    if len(sys.argv) < 5 or sys.argv[1] in ('-h', '--help'):
        print(__doc__)
        sys.exit(0 if len(sys.argv) > 1 and sys.argv[1] in ('-h', '--help') else 2)
    src, name, variant, out = sys.argv[1:5]
    mb = sys.argv[5] if len(sys.argv) > 5 else None
    open(out, 'w').write(make(open(src).read(), name, variant, mb))
