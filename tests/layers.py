#!/usr/bin/python3
"""Check that the files of each tool form layers: no file uses a function
or variable of another file of the same tool that (directly or through
others) uses one of its own. Compiles each cmd/TOOL/*.c to an object and
reads the symbols it defines and needs with nm(1).

usage: layers.py [-v] TOP TMPDIR
Prints each tool's edges with -v; exits 1 naming the files of each cycle.
"""
import os
import subprocess
import sys

def symbols(obj, flag):
    out = subprocess.run(["nm", flag, obj], check=True, capture_output=True,
                         text=True).stdout
    return {l.split()[-1] for l in out.splitlines() if l.strip()}

def edges(top, tool, tmp):
    d = os.path.join(top, "cmd", tool)
    srcs = sorted(f for f in os.listdir(d) if f.endswith(".c"))
    defined, needed = {}, {}
    for f in srcs:
        obj = os.path.join(tmp, tool + "." + f + ".o")
        subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-I" + os.path.join(top, "lib"),
                        "-DCAMREC_VERSION=\"0\"", "-c", "-o", obj, os.path.join(d, f)],
                       check=True)
        for s in symbols(obj, "--defined-only"):
            defined[s] = f
        needed[f] = symbols(obj, "--undefined-only")
    return {f: sorted({defined[s] for s in needed[f] if s in defined and defined[s] != f})
            for f in srcs}

def cycles(g):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in g[v]:
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
                out.append(sorted(comp))
    for v in g:
        if v not in index:
            visit(v)
    return out

def main(argv):
    verbose = len(argv) > 1 and argv[1] == "-v"
    if verbose:
        argv = argv[1:]
    top, tmp = argv[1], argv[2]
    bad = 0
    for tool in sorted(os.listdir(os.path.join(top, "cmd"))):
        g = edges(top, tool, tmp)
        if verbose:
            for f in g:
                print("%s: %s -> %s" % (tool, f, " ".join(g[f]) or "-"))
        for c in cycles(g):
            print("%s: calls go in a circle between %s" % (tool, ", ".join(c)))
            bad = 1
    return bad

if __name__ == "__main__":
    sys.exit(main(sys.argv))
