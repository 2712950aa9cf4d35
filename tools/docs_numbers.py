#!/usr/bin/env python3
"""Figures in README.md and docs/ that a command reproduces, checked or regenerated.

A figure is marked in the Markdown source right after its number, invisible once rendered:

    int8 accuracy 98.97<!--n:mnist-int8-accuracy-->% on the 10,000 test images

and docs/numbers.json says how to get it:

    "mnist-int8-accuracy": {"command": "vit-edge eval ...", "pattern": "accuracy +([0-9.]+)%",
                            "kind": "exact", "format": "{:.2f}"}

kind: "exact" (deterministic: must equal what the command prints), "size" (within
`tolerance`, a fraction, or `tolerance_abs`: bytes that move with the toolchain, figures
that differ by an image between CPUs' kernel routes), "machine" (timings, memory
of the host that measured them: regenerated with --update --machine on that host, never
checked elsewhere; the doc names the host). "requires": a path the command reads that only
a longer target makes (dist/aarch64 from make dist-aarch64, the qemu test logs from make
test-aarch64): without it the figure is skipped and said so; CI runs those targets first.

    tools/docs_numbers.py --check            every exact and size figure (make docs-check)
    tools/docs_numbers.py --update           rewrite exact and size figures from their commands
    tools/docs_numbers.py --update --machine also the machine figures (on the host they describe)
    tools/docs_numbers.py --list             every marked figure and its command

Commands run from the repository root with .build/release and dist/ first on PATH; each
command runs once however many figures it gives. Also checked: every marker has an entry,
every entry is used.
"""
import json, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = re.compile(r"([-+]?[0-9][0-9,]*(?:\.[0-9]+)*)<!--n:([A-Za-z0-9_.-]+)-->")


def docs():
    files = [os.path.join(ROOT, "README.md")]
    d = os.path.join(ROOT, "docs")
    files += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".md"))
    return files


def run(command, cache):
    if command not in cache:
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([os.path.join(ROOT, ".build", "release"), os.path.join(ROOT, "dist"), env["PATH"]])
        p = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"docs_numbers: '{command}' failed ({p.returncode}):\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
        cache[command] = p.stdout + p.stderr
    return cache[command]


def value(entry, cache):
    out = run(entry["command"], cache)
    m = re.search(entry["pattern"], out, re.M)
    if not m:
        sys.exit(f"docs_numbers: '{entry['pattern']}' not found in the output of '{entry['command']}':\n{out[-1500:]}")
    raw = m.group(1).replace(",", "")
    fmt = entry.get("format")
    if fmt:
        x = float(raw)
        if "scale" in entry:
            x *= entry["scale"]
        return fmt.format(x)
    return raw


def number(s):
    return float(s.replace(",", ""))


COMMAND = re.compile(r"(`|^)(\./)?(make |vit-edge |tools/|\.build/|dist/|python3 tools/|hf |taskset |perf |python3 - )|<!--n:", re.M)


def unsourced_tables():
    """Tables holding measured figures (a cell with a digit and a unit or %), with no
    command named in the lines above them (the 12 lines before the table, code blocks
    included) nor a marker
    on their figures: each needs one."""
    problems = []
    figure = re.compile(r"[0-9](\.[0-9]+)?\s*(%|ms|MB|MiB|KiB|GB|GOPS|GFLOP|s\b|×|x\b|dB|images/s)")
    for path in docs():
        lines = open(path).read().split("\n")
        i = 0
        in_code = False
        while i < len(lines):
            if lines[i].startswith("```"):
                in_code = not in_code
            if not in_code and lines[i].startswith("|") and i + 1 < len(lines) and re.match(r"^\|[-| :]+\|$", lines[i + 1]):
                start = i
                while i < len(lines) and lines[i].startswith("|"):
                    i += 1
                table = "\n".join(lines[start:i])
                above = "\n".join(lines[max(0, start - 12):start])
                if figure.search(table) and not COMMAND.search(above) and not COMMAND.search(table) and "<!--n:" not in table \
                        and "<!-- figures: none -->" not in above:
                    problems.append(f"{os.path.relpath(path, ROOT)}:{start + 1}: a table of figures names no command above it")
                continue
            i += 1
    return problems


def main():
    args = set(sys.argv[1:])
    registry = json.load(open(os.path.join(ROOT, "docs", "numbers.json")))
    cache = {}
    used = set()
    problems = []
    checked = 0
    skipped = {}
    for path in docs():
        text = open(path).read()
        rel = os.path.relpath(path, ROOT)
        out, last = [], 0
        for m in MARK.finditer(text):
            shown, key = m.group(1), m.group(2)
            used.add(key)
            if key not in registry:
                problems.append(f"{rel}: figure {shown} marked '{key}', which docs/numbers.json does not define")
                continue
            e = registry[key]
            kind = e.get("kind", "exact")
            if "--list" in args:
                print(f"{rel}: {shown} ({key}, {kind}): {e['command']}")
                continue
            if kind == "machine" and "--machine" not in args:
                continue
            if "requires" in e and not os.path.exists(os.path.join(ROOT, e["requires"])):
                skipped.setdefault(e["requires"], []).append(key)
                continue
            got = value(e, cache)
            checked += 1
            if "--update" in args:
                out.append(text[last:m.start(1)] + got)
                last = m.end(1)
                continue
            if kind == "size":
                tol = e.get("tolerance", 0.05)
                ok = abs(number(got) - number(shown)) <= (e["tolerance_abs"] if "tolerance_abs" in e else tol * abs(number(shown)))
            else:
                ok = got == shown
            if not ok:
                problems.append(f"{rel}: {key} is {shown} in the docs, but '{e['command']}' gives {got}"
                                + (f" (tolerance {e.get('tolerance_abs', e.get('tolerance', 0.05))})" if kind == "size" else ""))
        if "--update" in args and out:
            out.append(text[last:])
            new = "".join(out)
            if new != text:
                open(path, "w").write(new)
                print(f"docs_numbers: updated {rel}")
    if "--list" not in args:
        problems += unsourced_tables()
    for key in sorted(set(registry) - used):
        problems.append(f"docs/numbers.json: '{key}' is marked nowhere in the docs")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    for path, keys in sorted(skipped.items()):
        print(f"docs_numbers: skipped {len(keys)} figures that need {path} ({', '.join(sorted(set(keys)))})")
    if "--list" not in args:
        print(f"docs_numbers: {checked} figures {'updated' if '--update' in args else 'equal what their commands print'}")


if __name__ == "__main__":
    main()
