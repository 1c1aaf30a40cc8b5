"""Runs one peer tool on inputs prepared by bench_peers.py; executed by the peers' own interpreter.

usage: PEERS_PYTHON peer_worker.py TOOL FOLDER     TOOL in wbw | pyflwdir | sdr-d8 | sdr-mfd
Prints one JSON line.  Reads only files, so it works with the peers' numpy 1.26 / GDAL 3.6 stack.
"""

import json
import os
import resource
import shutil
import sys
import time

tool, folder = sys.argv[1], sys.argv[2]


def peak():
    """VmHWM (not ru_maxrss, which a child inherits from its parent across exec), MiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


out = {"tool": tool}
if tool == "wbw":
    import whitebox_workflows as wbw
    wbe = wbw.WbEnvironment()
    wbe.verbose = False
    dem = wbe.read_raster(os.path.join(folder, "dem_plain.tif"))
    h = wbe.hydrology
    h.d8_pointer(dem=h.fill_depressions(dem=wbe.read_raster(os.path.join(folder, "tiny.tif"))))  # warm-up
    t = time.perf_counter()
    filled = h.fill_depressions(dem=dem)
    t1 = time.perf_counter()
    ptr = h.d8_pointer(dem=filled)
    t2 = time.perf_counter()
    h.d8_flow_accum(input=ptr, out_type="cells", input_is_pointer=True)
    t3 = time.perf_counter()
    h.fd8_flow_accum(dem=filled, out_type="cells")
    t4 = time.perf_counter()
    out.update(version="2.0.6", fill_s=t1 - t, d8_s=t2 - t1, acc_s=t3 - t2, mfd_acc_s=t4 - t3, total_s=t3 - t)
elif tool == "pyflwdir":
    import numpy as np
    import pyflwdir
    dem = np.load(os.path.join(folder, "dem.npy"))
    pyflwdir.from_array(pyflwdir.dem.fill_depressions(dem[:64, :64].copy())[1], ftype="d8").upstream_area("cell")
    t = time.perf_counter()
    filled, d8 = pyflwdir.dem.fill_depressions(dem)
    t1 = time.perf_counter()
    flw = pyflwdir.from_array(d8, ftype="d8", transform=(30, 0, 0, 0, -30, 0), latlon=False)
    t2 = time.perf_counter()
    flw.upstream_area("cell")
    t3 = time.perf_counter()
    out.update(version=pyflwdir.__version__, fill_d8_s=t1 - t, network_s=t2 - t1, acc_s=t3 - t2, total_s=t3 - t)
elif tool.startswith("sdr"):
    import logging
    from natcap.invest import __version__ as iv
    from natcap.invest.sdr import sdr
    logging.basicConfig(level=logging.WARNING)
    algo = tool.split("-")[1].upper()
    ws = os.path.join(folder, f"invest_{algo}")
    shutil.rmtree(ws, ignore_errors=True)
    args = dict(workspace_dir=ws, results_suffix="", dem_path=os.path.join(folder, "dem_plain.tif"),
                erosivity_path=os.path.join(folder, "r.tif"), erodibility_path=os.path.join(folder, "k.tif"),
                lulc_path=os.path.join(folder, "lulc_int.tif"), watersheds_path=os.path.join(folder, "watershed.gpkg"),
                biophysical_table_path=os.path.join(folder, "biophysical.csv"), threshold_flow_accumulation=1000,
                k_param=2, sdr_max=0.8, ic_0_param=0.5, l_max=122, flow_dir_algorithm=algo, drainage_path="",
                n_workers=-1)
    t = time.perf_counter()
    sdr.execute(args)
    out.update(version=iv, total_s=time.perf_counter() - t)
out["peak_rss_mib"] = peak()
out = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}
print(json.dumps(out))
