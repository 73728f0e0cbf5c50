#!/usr/bin/env python3
"""A run's launches as CUDA graphs (lib/Runtime/cuda_graph.c), against the
stand-in libcuda.so.1 (stub_libcuda.c, on LD_LIBRARY_PATH).

usage: cuda_graphs.py run MODEL.so DIM STUB_LOG [D1,D2,...]
       cuda_graphs.py compare GRAPHS_LOG DIRECT_LOG

`run` runs MODEL.so (float32 inputs of ones; the dynamic dim named DIM set
to D1, D2, ..., default 3, 3, 3, 5, 5, 3), writing "--- run K DIM=D" into
the stub's log before each run.
`compare` takes the log of a process run with graphs (the default) and
one run with KILN_GPU_GRAPHS=0, and prints per run how the graph process
issued its kernels (direct launches, a graph made, a graph launched with U
nodes updated) and whether the kernels it ran, with their grids and
argument values, are the ones the direct process launched. The stub logs a
hash of each launch's, node's and node update's argument values in which a
pointer into a block the stub handed out counts as (the block's serial,
the offset), so the two processes' hashes compare.
"""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

DIMS = [3, 3, 3, 5, 5, 3]


def run(model, name, log, dims):
    import kiln
    m = kiln.load(model)
    for k, d in enumerate(dims, 1):
        with open(log, "a") as f:
            f.write(f"--- run {k} {name}={d}\n")
        m.run({i["name"]: np.ones([d if x == name else x for x in i["dims"]], np.float32)
               for i in m.inputs})
    m.close()


def runs(log):
    """[(label, [log lines])] per run."""
    out = []
    for line in open(log):
        w = line.split()
        if w[0] == "---":
            out.append((" ".join(w[1:]), []))
        elif out:
            out[-1][1].append(w)
    return out


def launch(w):
    # "<call> NAME grid GxGxG ... args HASH" (the hash is the last word)
    return (w[1], w[3], w[-1])


def compare(graph_log, direct_log):
    g_runs, d_runs = runs(graph_log), runs(direct_log)
    assert [r[0] for r in g_runs] == [r[0] for r in d_runs]
    nodes = []  # what the instantiated graph holds
    for (label, g), (_, d) in zip(g_runs, d_runs):
        want = [launch(w) for w in d if w[0] == "cuLaunchKernel"]
        direct = [launch(w) for w in g if w[0] == "cuLaunchKernel"]
        added = [launch(w) for w in g if w[0] == "cuGraphAddKernelNode"]
        updates = [w for w in g if w[0] == "cuGraphExecKernelNodeSetParams"]
        graph_launches = sum(w[0] == "cuGraphLaunch" for w in g)
        if added:
            nodes = added
        for w in updates:  # "... node I NAME grid GRID args HASH"
            i = int(w[2]) - 1
            assert nodes[i][0] == w[3], (nodes[i], w)
            nodes[i] = (w[3], w[5], w[-1])
        if graph_launches:
            ran = direct + nodes * graph_launches
            how = (f"graph {'made' if added else 'launched'}, {len(nodes)} nodes, "
                   f"{len(updates)} updated")
        else:
            ran = direct
            how = f"{len(direct)} direct launch" + ("es" if len(direct) != 1 else "")
        same = "same kernels, grids and arguments" if ran == want else "DIFFERENT"
        print(f"{label}: {how}: {same} as without graphs")


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4],
            [int(d) for d in sys.argv[5].split(",")] if len(sys.argv) > 5 else DIMS)
    else:
        compare(sys.argv[2], sys.argv[3])
