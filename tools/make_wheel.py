#!/usr/bin/env python3
"""Writes the `vitedge` wheel for one architecture: the pure-Python module of python/vitedge
and, in vitedge/_lib, libvitedge.so.1 (Swift runtime linked in) with the codec and LZ4
libraries it loads, so `pip install FILE` needs nothing else on the target but glibc,
libstdc++ and zlib. The platform tag names the newest glibc symbol version any bundled
library needs (read from the ELF files, as auditwheel does), e.g. manylinux_2_38_aarch64.

    tools/make_wheel.py --arch x86_64 --lib dist/lib/libvitedge.so.1 \\
        --bundle /usr/lib/x86_64-linux-gnu/libturbojpeg.so.0 ... --out dist/wheels

The archive is reproducible: sorted entries, fixed timestamps and permissions.
"""
import argparse, base64, hashlib, io, os, re, shutil, subprocess, sys, tempfile, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAMP = (2026, 1, 1, 0, 0, 0)


def version():
    text = open(os.path.join(ROOT, "Sources", "VitEdge", "API", "Version.swift")).read()
    return re.search(r'public static let version = "([0-9.]+)"', text).group(1)


def glibc_needed(path):
    """The newest GLIBC_x.y version the file's symbols need (readelf -V)."""
    out = subprocess.run(["readelf", "-V", "--wide", path], capture_output=True, text=True, check=True).stdout
    versions = [tuple(int(p) for p in m.split(".")) for m in re.findall(r"Name: GLIBC_([0-9]+\.[0-9]+(?:\.[0-9]+)?)", out)]
    return max(versions)[:2] if versions else (2, 17)


def needed(path):
    out = subprocess.run(["readelf", "-d", "--wide", path], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def runpath(path):
    out = subprocess.run(["readelf", "-d", "--wide", path], capture_output=True, text=True, check=True).stdout
    m = re.search(r"\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[([^\]]*)\]", out)
    return m.group(1) if m else ""


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", required=True, choices=["x86_64", "aarch64"])
    ap.add_argument("--lib", required=True, help="libvitedge.so.1 (from make dist or make dist-aarch64)")
    ap.add_argument("--bundle", nargs="*", default=[], help="libraries libvitedge loads, copied beside it")
    ap.add_argument("--out", default=os.path.join(ROOT, "dist", "wheels"))
    args = ap.parse_args()

    ver = version()
    with tempfile.TemporaryDirectory() as tmp:
        lib = os.path.join(tmp, "libvitedge.so.1")
        shutil.copyfile(args.lib, lib)
        # The bundled libraries are found beside libvitedge through its RUNPATH.
        if "$ORIGIN" not in runpath(lib):
            if not shutil.which("patchelf"):
                sys.exit("make_wheel: patchelf is needed to give libvitedge the RUNPATH $ORIGIN (apt-get install patchelf)")
            subprocess.run(["patchelf", "--set-rpath", "$ORIGIN", lib], check=True)
        files = {"libvitedge.so.1": lib}
        for b in args.bundle:
            files[os.path.basename(b)] = os.path.realpath(b)
        # A bundled library that needs another bundled one (trixie's liblz4 needs libxxhash)
        # finds it through its own RUNPATH: a copy gets $ORIGIN, as auditwheel does.
        for name in sorted(files):
            if name != "libvitedge.so.1" and any(n in files for n in needed(files[name])) and "$ORIGIN" not in runpath(files[name]):
                if not shutil.which("patchelf"):
                    sys.exit(f"make_wheel: patchelf is needed to give {name} the RUNPATH $ORIGIN (apt-get install patchelf)")
                copy = os.path.join(tmp, name)
                shutil.copyfile(files[name], copy)
                subprocess.run(["patchelf", "--set-rpath", "$ORIGIN", copy], check=True)
                files[name] = copy
        # Every library libvitedge needs is bundled or is one every glibc system has.
        system = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libdl.so.2", "libpthread.so.0",
                  "librt.so.1", "libz.so.1", "ld-linux-aarch64.so.1", "ld-linux-x86-64.so.2"}
        for name, path in files.items():
            for n in needed(path):
                if n not in files and n not in system:
                    sys.exit(f"make_wheel: {name} needs {n}, which is neither bundled (--bundle) nor on every system")
        glibc = max(glibc_needed(p) for p in files.values())
        tag = f"py3-none-manylinux_{glibc[0]}_{glibc[1]}_{args.arch}"
        name = f"vitedge-{ver}-{tag}.whl"
        dist_info = f"vitedge-{ver}.dist-info"

        entries = []  # (archive name, bytes, mode)
        package = os.path.join(ROOT, "python", "vitedge")
        for f in sorted(os.listdir(package)):
            if f.endswith(".py"):
                entries.append((f"vitedge/{f}", open(os.path.join(package, f), "rb").read(), 0o644))
        for f in sorted(files):
            entries.append((f"vitedge/_lib/{f}", open(files[f], "rb").read(), 0o755))
        readme = open(os.path.join(ROOT, "python", "README.md")).read()
        metadata = (f"Metadata-Version: 2.1\nName: vitedge\nVersion: {ver}\n"
                    "Summary: Vision Transformer inference for small boards: the vit-edge engine from Python\n"
                    "Requires-Python: >=3.8\nRequires-Dist: numpy\nLicense: MIT\n"
                    "Description-Content-Type: text/markdown\n\n" + readme)
        wheel = f"Wheel-Version: 1.0\nGenerator: vit-edge tools/make_wheel.py\nRoot-Is-Purelib: false\nTag: {tag}\n"
        entries += [(f"{dist_info}/METADATA", metadata.encode(), 0o644), (f"{dist_info}/WHEEL", wheel.encode(), 0o644),
                    (f"{dist_info}/top_level.txt", b"vitedge\n", 0o644)]
        record = "\n".join(record_line(n, d) for n, d, _ in entries) + f"\n{dist_info}/RECORD,,\n"
        entries.append((f"{dist_info}/RECORD", record.encode(), 0o644))

        os.makedirs(args.out, exist_ok=True)
        for old in os.listdir(args.out):
            if old.startswith("vitedge-") and old.endswith(f"_{args.arch}.whl"):
                os.remove(os.path.join(args.out, old))
        path = os.path.join(args.out, name)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for n, data, mode in entries:
                info = zipfile.ZipInfo(n, STAMP)
                info.external_attr = (0o100000 | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
        size = os.path.getsize(path)
        print(f"make_wheel: {os.path.relpath(path, ROOT)}: {size / 1e6:.1f} MB, glibc >= {glibc[0]}.{glibc[1]} "
              f"(bundled: {', '.join(sorted(files))})")


if __name__ == "__main__":
    main()
