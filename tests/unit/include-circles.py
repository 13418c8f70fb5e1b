#!/usr/bin/env python3
"""include-circles.py RUNTIME_DIR

Fails if files of the runtime include each other in a circle: a.c includes
(directly or through other headers) b.h, and b.c includes a.h, or a longer
ring.  A header counts as its .c file's when both exist; a header without a
.c (list.h, runtime-state.h, ...) belongs to no file.  Prints the circles
found, or how many files were checked.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"/]+)\.h"', re.M)


def includes(path):
    with open(path) as f:
        return INCLUDE.findall(f.read())


def main():
    root = sys.argv[1]
    units = sorted(f[:-2] for f in os.listdir(root) if f.endswith(".c"))
    edges = {}
    for u in units:
        seen, todo = set(), includes(os.path.join(root, u + ".c"))
        while todo:
            h = todo.pop()
            if h in seen:
                continue
            seen.add(h)
            hp = os.path.join(root, h + ".h")
            if os.path.exists(hp):
                todo += includes(hp)
        edges[u] = sorted(h for h in seen if h != u and h in units)

    # Tarjan's strongly connected components: any of two or more files is a
    # circle.
    index, low, stack, on, circles, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for u in units:
        if u not in index:
            visit(u)
    if circles:
        for c in circles:
            print("include circle: " + " -> ".join(c))
        return 1
    print("%d files of %s, no include circle" % (len(units), root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
