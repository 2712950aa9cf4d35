#!/bin/bash
# The public Swift surface of the VitEdge module: every declaration marked `public`, by
# file (the engine's internals are `package`). `make test` checks it against the list in docs/API.md,
# so nothing becomes public without being listed (and documented) there.
#   tools/public_api.sh            print the surface
#   tools/public_api.sh --check    compare with docs/API.md (exit 1 on a difference)
#   tools/public_api.sh --update   rewrite the list in docs/API.md
set -euo pipefail
cd "$(dirname "$0")/.."
surface() {
    find Sources/VitEdge -name '*.swift' | LC_ALL=C sort | while read -r f; do
        grep -nE '(^|[^_[:alnum:]])public([^_[:alnum:]]|$)' "$f" | grep -v '@_spi(' | grep -vE '^[0-9]+:\s*(//|\*)' \
            | sed -E 's/^[0-9]+://; s/^[[:space:]]+//; s/\{.*$//; s/[[:space:]]+$//' \
            | sed "s|^|${f#Sources/VitEdge/}: |" || true
    done
}
begin='<!-- public-api:begin (tools/public_api.sh --update) -->'
end='<!-- public-api:end -->'
case "${1:-}" in
    --check)
        listed=$(awk -v b="$begin" -v e="$end" '$0 == e {on = 0} on && !/^```/ {print} $0 == b {on = 1}' docs/API.md)
        if [ "$listed" != "$(surface)" ]; then
            echo "public_api: the public Swift surface differs from docs/API.md (< listed, > in the code):"
            diff <(echo "$listed") <(surface) || true
            echo "public_api: make a new declaration `package`, or document it and run tools/public_api.sh --update"
            exit 1
        fi
        # Every public declaration carries a /// comment (DocC's syntax) on the line above
        # (attributes aside).
        undocumented=$(find Sources/VitEdge -name '*.swift' | LC_ALL=C sort | xargs awk '
            FNR == 1 { prev = "" }
            /(^|[^_[:alnum:]])public([^_[:alnum:]]|$)/ && !/@_spi\(/ && !/^[ \t]*\/\// && prev !~ /^[ \t]*\/\/\// { print FILENAME ":" FNR ": " $0 }
            !/^[ \t]*$/ && !/^[ \t]*@/ { prev = $0 }')
        if [ -n "$undocumented" ]; then
            echo "public_api: public declarations without a /// comment:"; echo "$undocumented"; exit 1
        fi
        echo "public_api: $(surface | wc -l) public declarations, all documented and listed in docs/API.md" ;;
    --update)
        python3 - "$begin" "$end" <<PYEOF
import sys, subprocess
begin, end = sys.argv[1], sys.argv[2]
text = open("docs/API.md").read()
surface = subprocess.run(["bash", "tools/public_api.sh"], capture_output=True, text=True, check=True).stdout
head, rest = text.split(begin + "\n", 1)
_, tail = rest.split(end, 1)
open("docs/API.md", "w").write(head + begin + "\n\`\`\`\n" + surface + "\`\`\`\n" + end + tail)
PYEOF
        ;;
    *) surface ;;
esac
